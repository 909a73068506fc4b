// Package admin is the admin API of the reverse and the forward proxy
// (health, readiness and metrics) and how each serves its listeners beside
// it and drains them on shutdown.
package admin

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /healthz while the process runs, /readyz while serving
// is true and extra (if any) passes, and /metrics from reg.
func Handler(reg *prometheus.Registry, serving *atomic.Bool, extra func() error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n")) //nolint:errcheck
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !serving.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		if extra != nil {
			if err := extra(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ready\n")) //nolint:errcheck
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}
