package test

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// TestFaultKill9BehindNGINX kills certgate with SIGKILL while a real NGINX
// keeps sending, and starts it again. While it is down NGINX must answer
// 500 (a deny) and never let anything through that certgate would deny;
// after the restart the first correct 200 comes back quickly.
func TestFaultKill9BehindNGINX(t *testing.T) {
	before, down, after := 2*time.Second, time.Second, 2*time.Second
	if testing.Short() {
		before, after = time.Second, time.Second
	}
	w, keys, root, clientCA := newWorldWithKeys(t)
	nginxBinary(t) // skips, or fails in CI, before certgate starts
	p := startFaultCertgate(t, w, faultConfig{})
	n := startNGINX(t, w, p.httpAddr, keys, root, clientCA)
	rssFirst := p.rssBytes()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loadDone := make(chan loadReport, 1)
	go func() {
		target := loadTarget{NGINX: n.addr, PEMs: w.clients, Keys: clientKeys(keys), NGINXCA: pki.EncodeCertsPEM(root),
			Classes: steadyClasses, Outage: http.StatusInternalServerError}
		loadDone <- runLoad(ctx, target, before+down+after+time.Minute)
	}()

	time.Sleep(before)
	killedAt := time.Now()
	p.kill()
	time.Sleep(down)
	probe := make(chan time.Time, 1)
	restartAt := time.Now()
	go func() { probe <- firstAllowed(ctx, n.client("viewer"), "https://"+n.addr+"/api/v1/vm", 15*time.Second) }()
	p.start()
	firstOK := <-probe
	if firstOK.IsZero() {
		t.Fatalf("no 200 through NGINX within 15s of restarting certgate\n%s", p.logTail())
	}
	rssStart := p.rssBytes()
	time.Sleep(after)
	cancel()
	report := <-loadDone

	finishFaultRun(t, p, faultResult{
		Scenario: "kill -9 behind NGINX", Load: report,
		Recovery:   []time.Duration{firstOK.Sub(restartAt)},
		RecoveryOf: "restart → first correct 200 through NGINX",
		RSSStart:   rssStart,
		Extra: fmt.Sprintf("down %v from SIGKILL to the first 200, RSS before the kill %.1f MiB",
			firstOK.Sub(killedAt).Round(time.Millisecond), mib(rssFirst)),
	})
	// NGINX's 500 while certgate is down is the only answer besides the
	// contract's, and never an allow.
	checkLoad(t, report)
	if report.Outage == 0 {
		t.Error("no 500 while certgate was down: the load did not see the outage")
	}
}

// clientKeys are the private keys of the world's certificates by name.
func clientKeys(keys map[string]*pki.Certificate) map[string]crypto.Signer {
	out := make(map[string]crypto.Signer, len(keys))
	for name, c := range keys {
		out[name] = c.Key
	}
	return out
}

// firstAllowed sends GET url every 5 ms until one answers 200 and returns
// when that was; the zero time after limit.
func firstAllowed(ctx context.Context, c *http.Client, url string, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return time.Time{}
		}
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}
}
