package testlog_test

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/internal/testlog"
)

func TestBufferKeepsTheRecordsOfConcurrentLoggers(t *testing.T) {
	var b testlog.Buffer
	log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			log.Info("decision", "allow", true)
			log.Info("reload")
		})
	}
	wg.Wait()
	if got := len(b.Records(t, "")); got != 16 {
		t.Errorf("%d records, want 16", got)
	}
	decisions := b.Records(t, "decision")
	if len(decisions) != 8 {
		t.Fatalf("%d decision records, want 8", len(decisions))
	}
	if diff := cmp.Diff(map[string]any{"level": "INFO", "msg": "decision", "allow": true}, decisions[0]); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}
