package server

import (
	"fmt"
	"net/http"
)

// newMetricsMux is the metrics listener's handler: metrics (when set) at
// /metrics, and the probes /healthz and /readyz, so that a deployment
// without the HTTP check listener can still probe over HTTP.
func newMetricsMux(checker *Checker, draining func() bool, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	handleProbes(mux, checker, draining)
	if metrics != nil {
		mux.Handle("/metrics", metrics)
	}
	return mux
}

// handleProbes adds /healthz (the process is up) and /readyz (a snapshot
// is loaded and the process is not stopping) to mux.
func handleProbes(mux *http.ServeMux, checker *Checker, draining func() bool) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if draining != nil && draining() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		snap := checker.Snapshot()
		if snap == nil {
			http.Error(w, "no policy snapshot loaded", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintf(w, "ready revision=%d\n", snap.Revision)
	})
}
