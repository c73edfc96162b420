package test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestMeasureBundlePropagation measures how long a changed bundle takes to
// reach every one of three replicas polling a real NGINX: from the rename
// that publishes it to the last replica answering with the new decision.
// It is a measurement, run on request: CERTGATE_BUNDLE_PROPAGATION=N makes
// N changes, CERTGATE_BUNDLE_POLLING=MIN,MAX sets the polling delays in
// seconds (default 1,2); the figures go to BENCHMARKS.md.
func TestMeasureBundlePropagation(t *testing.T) {
	changes, err := strconv.Atoi(os.Getenv("CERTGATE_BUNDLE_PROPAGATION"))
	if err != nil || changes < 1 {
		t.Skip("a measurement: set CERTGATE_BUNDLE_PROPAGATION=20 to run it")
	}
	minDelay, maxDelay := 1, 2
	if v := os.Getenv("CERTGATE_BUNDLE_POLLING"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d", &minDelay, &maxDelay); err != nil {
			t.Fatalf("CERTGATE_BUNDLE_POLLING=%q: want MIN,MAX", v)
		}
	}
	site := startBundleSite(t)
	bundles := []string{opaBuild(t, "rego/", "v1"), opaBuild(t, regoWithoutViewerVMs(t), "v2")}
	answers := []int{http.StatusOK, http.StatusForbidden}
	site.publish(t, bundles[0])
	var replicas []*certgateProc
	for range 3 {
		p := writeFaultConfig(t, site.w, faultConfig{policy: site.policySection(t.TempDir(), minDelay, maxDelay, "")})
		p.start()
		replicas = append(replicas, p)
	}
	limit := time.Duration(maxDelay+10) * time.Second
	var all []time.Duration
	for i := 1; i <= changes; i++ {
		want := answers[i%2]
		published := time.Now()
		site.publish(t, bundles[i%2])
		var wg sync.WaitGroup
		took := make([]time.Duration, len(replicas))
		for j, p := range replicas {
			wg.Go(func() {
				for viewerListsVMs(t, p, site.w.clients["viewer"]) != want && time.Since(published) < limit {
					time.Sleep(10 * time.Millisecond)
				}
				took[j] = time.Since(published)
			})
		}
		wg.Wait()
		last := slices.Max(took)
		if last >= limit {
			t.Fatalf("change %d: a replica did not answer %d within %v", i, want, limit)
		}
		all = append(all, last)
		t.Logf("change %d: every replica answers %d after %v (replicas %v)", i, want, last.Round(time.Millisecond), took)
	}
	slices.Sort(all)
	t.Logf("bundle propagation to 3 replicas polling every %d–%d s, %d changes: p50 %v, max %v (target ≤ %d s)",
		minDelay, maxDelay, changes, all[len(all)/2].Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond), maxDelay+1)
}
