package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the proxy's Prometheus metrics. Labels are bounded: route
// names from the config, rule IDs, status codes and reason codes; never a
// path or a value. NewMetrics registers them on a registry the caller owns,
// so the forward proxy can share the same struct.
type Metrics struct {
	// Requests counts exchanges by route and status sent to the client.
	Requests *prometheus.CounterVec
	// Bytes counts body bytes by route and direction (in: read from the
	// client, out: sent upstream, response: sent to the client).
	Bytes *prometheus.CounterVec
	// Redactions counts masked spans by route and rule.
	Redactions *prometheus.CounterVec
	// Duration is the whole exchange's latency by route.
	Duration *prometheus.HistogramVec
	// Upstream is the latency to the upstream's response headers by route.
	Upstream *prometheus.HistogramVec
	// Rejections counts refusals and failures by route and reason.
	Rejections *prometheus.CounterVec
	// InFlight is the number of exchanges in progress.
	InFlight prometheus.Gauge
	// Reloads counts configuration reloads by result (ok, error).
	Reloads *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_proxy_requests_total", Help: "Exchanges by route and status sent to the client (499: client went away).",
		}, []string{"route", "code"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_proxy_bytes_total", Help: "Body bytes by route and direction (in, out, response).",
		}, []string{"route", "direction"}),
		Redactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_redactor_redactions_total", Help: "Masked (or, in report mode, found) secrets by route and rule.",
		}, []string{"route", "rule"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flowmask_proxy_request_duration_seconds", Help: "Exchange latency by route.", Buckets: buckets,
		}, []string{"route"}),
		Upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flowmask_proxy_upstream_duration_seconds", Help: "Latency to the upstream's response headers by route.", Buckets: buckets,
		}, []string{"route"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_proxy_rejections_total", Help: "Requests refused or failed by route and reason.",
		}, []string{"route", "reason"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowmask_proxy_in_flight_requests", Help: "Exchanges in progress.",
		}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_proxy_config_reloads_total", Help: "Configuration reloads by result.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.Requests, m.Bytes, m.Redactions, m.Duration, m.Upstream, m.Rejections, m.InFlight, m.Reloads)
	return m
}

// Observe records one audited exchange.
func (m *Metrics) Observe(rec *Record) {
	route := rec.Route
	m.Requests.WithLabelValues(route, statusLabel(rec.Status)).Inc()
	m.Bytes.WithLabelValues(route, "in").Add(float64(rec.BytesIn))
	m.Bytes.WithLabelValues(route, "out").Add(float64(rec.BytesOut))
	m.Bytes.WithLabelValues(route, "response").Add(float64(rec.ResponseBytes))
	for rule, n := range rec.ByRule {
		m.Redactions.WithLabelValues(route, rule).Add(float64(n))
	}
	m.Duration.WithLabelValues(route).Observe(rec.Duration.Seconds())
	if rec.UpstreamLatency > 0 {
		m.Upstream.WithLabelValues(route).Observe(rec.UpstreamLatency.Seconds())
	}
	if rec.Reason != "" {
		m.Rejections.WithLabelValues(route, rec.Reason).Inc()
	}
}

var statusLabels = func() map[int]string {
	m := map[int]string{}
	for c := 100; c < 600; c++ {
		m[c] = itoa(c)
	}
	return m
}()

func statusLabel(c int) string {
	if s, ok := statusLabels[c]; ok {
		return s
	}
	return "other"
}

func itoa(c int) string {
	return string([]byte{byte('0' + c/100), byte('0' + c/10%10), byte('0' + c%10)})
}

// NewRegistry returns a metrics registry with the Go runtime and process
// collectors, as the proxies use when Options.Registry is nil.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
