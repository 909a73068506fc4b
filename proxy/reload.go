package proxy

import (
	"context"
	"net/http"

	"go.uber.org/zap"
)

// reloadHandler adds POST (and PUT) /-/reload to the admin handler next, as
// Prometheus has it: reload runs in the request and the answer is 200 once
// it has succeeded, 500 when it failed (the old configuration keeps serving;
// the reason is in the proxy's log, which is redacted, not in the answer).
// Other methods get 405.
func reloadHandler(next http.Handler, reload func(context.Context) error, logger *zap.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	serve := func(w http.ResponseWriter, r *http.Request) {
		if err := reload(r.Context()); err != nil {
			logger.Error("reload through /-/reload failed", zap.Error(err))
			http.Error(w, "reload failed; the old configuration keeps serving (see the log)", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("reloaded\n")) //nolint:errcheck
	}
	mux.HandleFunc("POST /-/reload", serve)
	mux.HandleFunc("PUT /-/reload", serve)
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
	})
	return mux
}
