package kafka

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	recordsIn, recordsOut, deadLettered prometheus.Counter
	bytesIn, bytesOut                   prometheus.Counter
	redactions                          *prometheus.CounterVec
	lag                                 *prometheus.GaugeVec
	commitSeconds                       prometheus.Histogram
	commitErrors                        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowmask_kafka_records_total", Help: "Records by result: in (consumed), out (produced redacted), dead_lettered.",
	}, []string{"result"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowmask_kafka_bytes_total", Help: "Key and value bytes consumed (in) and produced (out).",
	}, []string{"direction"})
	m := &metrics{
		recordsIn: records.WithLabelValues("in"), recordsOut: records.WithLabelValues("out"),
		deadLettered: records.WithLabelValues("dead_lettered"),
		bytesIn:      bytes.WithLabelValues("in"), bytesOut: bytes.WithLabelValues("out"),
		redactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_kafka_redactions_total", Help: "Spans masked, by rule.",
		}, []string{"rule"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowmask_kafka_consumer_lag", Help: "Records behind the high watermark, per assigned input partition.",
		}, []string{"topic", "partition"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "flowmask_kafka_commit_seconds", Help: "Time to commit a batch's offsets (or its transaction).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowmask_kafka_commit_failures_total", Help: "Batches whose commit failed or was aborted by a rebalance (they are redelivered).",
		}),
	}
	reg.MustRegister(records, bytes, m.redactions, m.lag, m.commitSeconds, m.commitErrors)
	return m
}

// MetricNames lists the metric families a Pipeline exports, for dashboards
// and alert rules to be checked against (a test keeps it in step with what
// is registered).
func MetricNames() []string {
	return []string{
		"flowmask_kafka_records_total",
		"flowmask_kafka_bytes_total",
		"flowmask_kafka_redactions_total",
		"flowmask_kafka_consumer_lag",
		"flowmask_kafka_commit_seconds",
		"flowmask_kafka_commit_failures_total",
	}
}

// AdminHandler serves /healthz (the process is up), /readyz (joined the
// group, brokers reachable) and /metrics.
func (p *Pipeline) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n")) //nolint:errcheck // client gone
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := p.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n")) //nolint:errcheck // client gone
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.opts.Registry, promhttp.HandlerOpts{Registry: p.opts.Registry}))
	return mux
}
