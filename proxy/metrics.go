package proxy

import (
	"regexp"
	"runtime/debug"
	"slices"
	"sync/atomic"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor/secrets"
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
	// AuditUndelivered counts audit batches that could not be written (or
	// synced) to the audit output; while the last one failed, /readyz fails.
	AuditUndelivered prometheus.Counter
	// BuildInfo is 1, labelled with the version, the VCS revision and the
	// Go version of the binary.
	BuildInfo *prometheus.GaugeVec

	none *routeMetrics // exchanges that matched no route
}

// Label values known in advance, initialised at start so that dashboards
// and alerts see every series before the first event.
var (
	// Reasons of flowmask_proxy_rejections_total that flowmask itself
	// gives (the codes of its refusals, see status.go, and "aborted").
	rejectionReasons = []string{
		"aborted", "bad_body", "bad_encoding", "body_too_large", "client_aborted", "client_closed",
		"client_timeout", "decoded_too_large", "document_too_large", "invalid_authorization",
		"invalid_json", "length_required", "method_not_allowed", "method_not_implemented",
		"no_route", "not_array", "overloaded", "sink_limit", "unauthorized", "unscannable_response",
		"unsupported_media_type", "upgrade_refused", "upstream_error", "upstream_timeout",
	}
)

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_proxy_requests_total", Help: "Exchanges by route and status sent to the client (499: client went away; aborted: the response was cut part-way).",
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
		AuditUndelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowmask_audit_undelivered_batches_total", Help: "Audit record batches that could not be written to the audit output.",
		}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowmask_build_info", Help: "Always 1; the labels say which flowmask build runs.",
		}, []string{"version", "revision", "goversion"}),
	}
	reg.MustRegister(m.Requests, m.Bytes, m.Redactions, m.Duration, m.Upstream, m.Rejections, m.InFlight, m.Reloads, m.AuditUndelivered, m.BuildInfo)
	m.BuildInfo.WithLabelValues(buildInfo()).Set(1)
	for _, r := range []string{"ok", "error"} {
		m.Reloads.WithLabelValues(r)
	}
	m.none = m.initRoute("none", nil)
	return m
}

// initRoute creates the series of one route whose labels are known: bytes
// by direction, rejections by reason, redactions by rule, the histograms.
// Status codes are not known in advance and appear with the first event.
// It returns them bound to the route, for [routeMetrics.observe].
func (m *Metrics) initRoute(route string, rules []string) *routeMetrics {
	rm := &routeMetrics{
		m:          m,
		route:      route,
		requests:   m.Requests.MustCurryWith(prometheus.Labels{"route": route}),
		bytesIn:    m.Bytes.WithLabelValues(route, "in"),
		bytesOut:   m.Bytes.WithLabelValues(route, "out"),
		bytesResp:  m.Bytes.WithLabelValues(route, "response"),
		duration:   m.Duration.WithLabelValues(route),
		upstream:   m.Upstream.WithLabelValues(route),
		rejections: make(map[string]prometheus.Counter, len(rejectionReasons)),
		redactions: make(map[string]prometheus.Counter, len(rules)),
	}
	for _, r := range rejectionReasons {
		rm.rejections[r] = m.Rejections.WithLabelValues(route, r)
	}
	for _, r := range rules {
		rm.redactions[r] = m.Redactions.WithLabelValues(route, r)
	}
	return rm
}

// routeMetrics are one route's series, resolved when its configuration
// is loaded, so that an exchange updates them without hashing label
// values (WithLabelValues 6-7 times per request before). The maps are
// read-only once built.
type routeMetrics struct {
	m                            *Metrics
	route                        string
	requests                     *prometheus.CounterVec // curried with the route: code only
	codes                        [600]atomic.Pointer[counterRef]
	aborted                      atomic.Pointer[counterRef]
	bytesIn, bytesOut, bytesResp prometheus.Counter
	duration, upstream           prometheus.Observer
	rejections                   map[string]prometheus.Counter
	redactions                   map[string]prometheus.Counter
}

type counterRef struct{ c prometheus.Counter }

// requestsFor returns the requests counter of a status label, created on
// first use (a series per code the route has answered, as before).
func (rm *routeMetrics) requestsFor(status int, aborted bool) prometheus.Counter {
	slot := &rm.aborted
	code := "aborted"
	if !aborted {
		if status < 100 || status >= len(rm.codes) {
			return rm.requests.WithLabelValues("other")
		}
		slot, code = &rm.codes[status], statusLabel(status)
	}
	if ref := slot.Load(); ref != nil {
		return ref.c
	}
	ref := &counterRef{rm.requests.WithLabelValues(code)}
	slot.Store(ref) // a racing store holds the same counter
	return ref.c
}

// observe records one audited exchange of the route, as
// [Metrics.Observe] does.
func (rm *routeMetrics) observe(rec *audit.Record) {
	// Cut part-way: the status line the client saw is not the outcome.
	rm.requestsFor(rec.Status, rec.Aborted).Inc()
	rm.bytesIn.Add(float64(rec.BytesIn))
	rm.bytesOut.Add(float64(rec.BytesOut))
	rm.bytesResp.Add(float64(rec.ResponseBytes))
	for rule, n := range rec.ByRule {
		c, ok := rm.redactions[rule]
		if !ok {
			c = rm.m.Redactions.WithLabelValues(rm.route, rule)
		}
		c.Add(float64(n))
	}
	rm.duration.Observe(rec.Duration.Seconds())
	if rec.UpstreamLatency > 0 {
		rm.upstream.Observe(rec.UpstreamLatency.Seconds())
	}
	if rec.Reason != "" {
		c, ok := rm.rejections[rec.Reason]
		if !ok {
			c = rm.m.Rejections.WithLabelValues(rm.route, rec.Reason)
		}
		c.Inc()
	}
}

// buildInfo returns the version, VCS revision and Go version of the binary.
func buildInfo() (version, revision, goversion string) {
	version, revision, goversion = "unknown", "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	goversion = bi.GoVersion
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" {
			revision = kv.Value
		}
	}
	return
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// MetricNames lists the names of the metric families flowmask exports on
// its /metrics endpoints (reverse and forward proxy, audit, build info and
// the secrets manager), sorted; the Go runtime and process collectors'
// go_* and process_* families are not included. A dashboard or alert rule
// should query only these.
func MetricNames() []string {
	rec := &describeRecorder{}
	NewMetrics(rec)
	if _, err := secrets.New(secrets.Config{}, secrets.Options{Registry: rec}); err != nil {
		panic(err) // an empty config is valid
	}
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range rec.cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// describeRecorder is a Registerer that keeps the collectors registered on
// it, to describe them.
type describeRecorder struct{ cs []prometheus.Collector }

func (r *describeRecorder) Register(c prometheus.Collector) error {
	r.cs = append(r.cs, c)
	return nil
}

func (r *describeRecorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }

func (r *describeRecorder) Unregister(prometheus.Collector) bool { return false }

// Observe records one audited exchange.
func (m *Metrics) Observe(rec *audit.Record) {
	route := rec.Route
	code := statusLabel(rec.Status)
	if rec.Aborted {
		// Cut part-way: the status line the client saw is not the outcome.
		code = "aborted"
	}
	m.Requests.WithLabelValues(route, code).Inc()
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
