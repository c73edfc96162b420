package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestFaultSIGHUPWhileStarting sends SIGHUPs while certgate loads its
// first snapshot, as a deploy tool that reloads everything it has just
// restarted does: certgate must start and serve, not die of the signal's
// default action. A FIFO in the policy directory holds the first load
// open, so the signals are known to arrive during it.
func TestFaultSIGHUPWhileStarting(t *testing.T) {
	const hups = 20
	w := newWorld(t)
	p := writeFaultConfig(t, w, faultConfig{})
	gate := newFIFOGate(t, filepath.Join(p.policyDir, "gate.json"), []byte("{}"))
	p.launch()
	select {
	case <-gate.opened:
	case <-time.After(15 * time.Second):
		t.Fatalf("certgate never read the policy directory\n%s", p.logTail())
	}
	sent := 0
	for ; sent < hups && p.alive(); sent++ {
		if err := p.signal(syscall.SIGHUP); err != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate.proceed)
	if err := p.waitReady(15 * time.Second); err != nil {
		t.Fatalf("certgate, sent %d SIGHUPs while loading its first snapshot, did not start: %v\n%s", sent, err, p.logTail())
	}
	rssStart := p.rssBytes()
	report := runLoad(context.Background(), faultTarget(p, w, steadyClasses), time.Second)
	finishFaultRun(t, p, faultResult{Scenario: "SIGHUP while starting", Load: report, RSSStart: rssStart,
		Extra: fmt.Sprintf("%d SIGHUPs during the first load", sent)})
	checkLoad(t, report)
}

// fifoGate is a named pipe whose first reader blocks until proceed is
// closed; then the pipe is replaced by a regular file with the same
// content, and the reader gets the content too.
type fifoGate struct {
	opened  chan struct{}
	proceed chan struct{}
}

// newFIFOGate makes the FIFO at path.
func newFIFOGate(t *testing.T, path string, content []byte) *fifoGate {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	g := &fifoGate{opened: make(chan struct{}), proceed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until a reader opens
		if err != nil {
			return
		}
		defer func() { _ = f.Close() }()
		close(g.opened)
		<-g.proceed
		// Later readers read a regular file; this one keeps its pipe.
		if err := writeRename(path, content); err != nil {
			t.Error(err)
		}
		_, _ = f.Write(content)
	}()
	t.Cleanup(func() {
		select {
		case <-g.proceed:
		default:
			close(g.proceed)
		}
		select {
		case <-done:
			return
		default:
		}
		// Nobody read the pipe: open it ourselves, so the writer returns.
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			_ = r.Close()
		}
	})
	return g
}
