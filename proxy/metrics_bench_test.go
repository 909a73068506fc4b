package proxy

import (
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkObserve compares updating a route's metrics for one exchange
// by label values (Metrics.Observe, what the reverse proxy did per
// request, and what the forward proxy still does) with the series bound
// to the route at config load (routeMetrics.observe).
func BenchmarkObserve(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	rules := []string{"password", "token", "known-secret"}
	rm := m.initRoute("logs-ingestion", rules)
	rec := &audit.Record{Route: "logs-ingestion", Status: 200, UpstreamLatency: 3 * time.Millisecond, Duration: 4 * time.Millisecond,
		BytesIn: 1024, BytesOut: 1030, ResponseBytes: 2, ByRule: map[string]int{"password": 1}}
	b.Run("labels", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(rec)
		}
	})
	b.Run("bound", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rm.observe(rec)
		}
	})
}
