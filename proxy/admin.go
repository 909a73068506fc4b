package proxy

import (
	"net/http"
	"sync/atomic"

	"github.com/flowmask/flowmask/proxy/internal/admin"
	"github.com/prometheus/client_golang/prometheus"
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

// adminHandler is the admin API of the reverse and the forward proxy (see
// proxy/internal/admin).
func adminHandler(reg *prometheus.Registry, serving *atomic.Bool, extra func() error) http.Handler {
	return admin.Handler(reg, serving, extra)
}
