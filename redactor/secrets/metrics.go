package secrets

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Manager's Prometheus metrics. Labels name configured
// sources (kind:location), never a secret or a value.
type metrics struct {
	values      *prometheus.GaugeVec
	literals    prometheus.Gauge
	grace       prometheus.Gauge
	lastSuccess *prometheus.GaugeVec
	lastRefresh prometheus.Gauge
	failures    *prometheus.CounterVec
	ready       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		values: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowmask_secrets_values",
			Help: "Known secret values loaded from each source at its last successful load.",
		}, []string{"source"}),
		literals: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowmask_secrets_literals",
			Help: "Known secret values masked now, including rotated-out values still in their grace period.",
		}),
		grace: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowmask_secrets_grace_values",
			Help: "Rotated-out values still masked during their grace period.",
		}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowmask_secrets_last_success_timestamp_seconds",
			Help: "Unix time of each source's last successful load.",
		}, []string{"source"}),
		lastRefresh: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowmask_secrets_last_refresh_success_timestamp_seconds",
			Help: "Unix time of the last refresh in which every source loaded.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowmask_secrets_refresh_failures_total",
			Help: "Failed loads of each source; the source keeps its last good values.",
		}, []string{"source"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowmask_secrets_ready",
			Help: "1 when no required source has failed max_failures loads in a row, else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.values, m.literals, m.grace, m.lastSuccess, m.lastRefresh, m.failures, m.ready} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
