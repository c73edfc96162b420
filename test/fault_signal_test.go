package test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// TestFaultSIGHUPStorm sends 200 SIGHUPs in about 5 s under load: nothing
// on disk changed, so no decision may change, no request may fail, and
// memory stays flat.
func TestFaultSIGHUPStorm(t *testing.T) {
	hups, every := 200, 25*time.Millisecond
	if testing.Short() {
		hups = 80
	}
	w := newWorld(t)
	p := startFaultCertgate(t, w, faultConfig{})
	admin := p.admin()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rssStart := p.rssBytes()
	loadDone := make(chan loadReport, 1)
	go func() {
		loadDone <- runLoad(ctx, faultTarget(p, w, steadyClasses), time.Duration(hups)*every+time.Minute)
	}()
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	for i := range hups {
		// On schedule, not every after the last one: a busy machine
		// oversleeps, and the storm must stay a storm.
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		if err := p.signal(syscall.SIGHUP); err != nil {
			t.Fatalf("SIGHUP %d: %v", i+1, err)
		}
	}
	storm := time.Since(start)
	time.Sleep(time.Second)
	cancel()
	report := <-loadDone
	st, err := admin.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	unchanged := metricValue(t, p, `certgate_reloads_total{result="unchanged"}`)
	if st.GetReloadFailures() != 0 || st.GetReloadSuccesses() != 0 || st.GetSnapshot().GetRevision() != 1 {
		t.Errorf("after SIGHUPs with nothing changed: %d successes, %d failures, revision %d; want 0, 0, 1",
			st.GetReloadSuccesses(), st.GetReloadFailures(), st.GetSnapshot().GetRevision())
	}
	if unchanged < 1 {
		t.Errorf("no reload was attempted for %d SIGHUPs", hups)
	}
	finishFaultRun(t, p, faultResult{
		Scenario: "SIGHUP storm", Load: report, RSSStart: rssStart,
		Extra: fmt.Sprintf("%d SIGHUPs in %.1fs → %.0f reloads (unchanged), %d failures, revision %d",
			hups, storm.Seconds(), unchanged, st.GetReloadFailures(), st.GetSnapshot().GetRevision()),
	})
	checkLoad(t, report)
}
