package proxy

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminHandler serves /healthz (the process is up), /readyz (serving, not
// shutting down, audit records being delivered and Options.Ready passing)
// and /metrics (Prometheus, this server's registry only).
func (s *Server) AdminHandler() http.Handler {
	h := adminHandler(s.registry, &s.ready, func() error {
		if err := s.audit.Err(); err != nil {
			return err
		}
		if s.opts.Ready != nil {
			return s.opts.Ready()
		}
		return nil
	})
	if s.opts.Reload != nil {
		h = reloadHandler(h, s.opts.Reload, s.logger)
	}
	return h
}

// adminHandler is the admin API of the reverse and the forward proxy:
// /healthz answers while the process runs, /readyz while serving is true and
// extra (if any) passes, /metrics serves reg.
func adminHandler(reg *prometheus.Registry, serving *atomic.Bool, extra func() error) http.Handler {
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
