package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCRLWarnerWarnsAheadOfNextUpdateOncePerPeriod(t *testing.T) {
	w := newCacheWorld(t) // CRLs valid for a day from w.now
	metrics := NewMetrics(prometheus.NewRegistry())
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	checker := NewChecker(w.snapshot(t, 1), Options{Logger: log, Metrics: metrics, Now: func() time.Time { return w.now }})
	warner := &CRLWarner{Checker: checker, Lead: 12 * time.Hour, Every: time.Hour, Logger: log, Metrics: metrics, Now: func() time.Time { return w.now }}
	warned := map[string]time.Time{}

	warner.check(warned) // 24 h left, lead 12 h: quiet
	if n := testutil.ToFloat64(metrics.crlWarnings); n != 0 {
		t.Fatalf("warnings with 24h left and a 12h lead: %v", n)
	}
	w.now = w.now.Add(13 * time.Hour) // 11 h left
	warner.check(warned)
	if n := testutil.ToFloat64(metrics.crlWarnings); n != 2 { // the root's and the intermediate's CRL
		t.Fatalf("warnings with 11h left: %v, want 2", n)
	}
	if !strings.Contains(logs.String(), "CRL expires soon") || !strings.Contains(logs.String(), `"next_update"`) {
		t.Errorf("warning log: %s", logs.String())
	}
	w.now = w.now.Add(30 * time.Minute)
	warner.check(warned) // within Every of the last warning
	if n := testutil.ToFloat64(metrics.crlWarnings); n != 2 {
		t.Fatalf("warnings 30 min later: %v, want still 2", n)
	}
	w.now = w.now.Add(12 * time.Hour) // past nextUpdate
	logs.Reset()
	warner.check(warned)
	if n := testutil.ToFloat64(metrics.crlWarnings); n != 4 || !strings.Contains(logs.String(), "past its nextUpdate") {
		t.Fatalf("after nextUpdate: %v warnings, log %s", n, logs.String())
	}
	// Renewed CRLs replace the old ones: what was remembered of those goes.
	checker.swap(w.snapshot(t, 2))
	warner.check(warned)
	if len(warned) != 0 {
		t.Errorf("%d warnings remembered for CRLs no longer loaded", len(warned))
	}
}
