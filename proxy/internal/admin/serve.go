package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Serving is one proxy's listeners for Serve.
type Serving struct {
	// Server serves Listener: the proxy itself.
	Server   *http.Server
	Listener net.Listener
	// Admin serves AdminListener when it is not nil.
	Admin         http.Handler
	AdminListener net.Listener
	// Ready is true from the start of serving until shutdown begins.
	Ready *atomic.Bool
	// Logger hears "listening" (with Fields and the addresses) and
	// "stopped".
	Logger *zap.Logger
	Fields []zap.Field
	// ShutdownTimeout bounds the drain of in-flight requests.
	ShutdownTimeout time.Duration
	// Shutdown, if set, stops what else the proxy serves (intercepted
	// tunnels) after Server has shut down, within the same deadline.
	Shutdown func(context.Context) error
}

// Serve serves s until ctx is done or a listener fails, then drains
// in-flight requests for up to s.ShutdownTimeout. A clean stop returns nil.
func Serve(ctx context.Context, s Serving) error {
	var admin *http.Server
	errc := make(chan error, 2)
	if s.AdminListener != nil {
		admin = &http.Server{Handler: s.Admin, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- admin.Serve(s.AdminListener) }()
	}
	go func() { errc <- s.Server.Serve(s.Listener) }()
	s.Ready.Store(true)
	fields := append([]zap.Field{zap.String("addr", s.Listener.Addr().String())}, s.Fields...)
	if s.AdminListener != nil {
		fields = append(fields, zap.String("admin", s.AdminListener.Addr().String()))
	}
	s.Logger.Info("listening", fields...)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.Ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if e := s.Server.Shutdown(sctx); e != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", e)
	}
	if s.Shutdown != nil {
		if e := s.Shutdown(sctx); e != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", e)
		}
	}
	if admin != nil {
		admin.Shutdown(sctx) //nolint:errcheck // the proxy's error matters more
	}
	s.Logger.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
