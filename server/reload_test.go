package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// TestReloadUnderTrafficNeverMixesSnapshots swaps between two generations
// of files while Checks run. Each generation changes both the CRL and the
// policy, so that a decision taking the trust store of one and the policy
// of the other is visible: it is a 403 no whole generation gives.
//
//	generation A: x valid, x's group may start VMs; y revoked.
//	generation B: x revoked; y valid, y's group may start VMs.
func TestReloadUnderTrafficNeverMixesSnapshots(t *testing.T) {
	w := newDiskWorld(t)
	x := w.ca.Leaf("x", pkitest.Orgs("xs"))
	y := w.ca.Leaf("y", pkitest.Orgs("ys"))
	root := t.TempDir()
	dirs := [2]string{filepath.Join(root, "a"), filepath.Join(root, "b")}
	gens := [2]version{
		{revoked: []*x509.Certificate{y.Cert}, grants: map[string][]string{"xs": {"start_vm"}}},
		{revoked: []*x509.Certificate{x.Cert}, grants: map[string][]string{"ys": {"start_vm"}}},
	}
	// Revision r loads generation r%2: the revision a decision reports
	// tells which generation it must match. Each load writes its
	// generation anew, so that its CRL is numbered after the serving one,
	// as a reload requires.
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		d := dirs[rev%2]
		w.write(t, d, d, gens[rev%2])
		return LoadSnapshot(ctx, w.trustConfig(d), d, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	checker := NewChecker(snap, Options{Logger: log})
	reloader := &Reloader{Checker: checker, Source: LoadFunc(load), Logger: log}

	want := func(client string, rev uint64) int {
		allowed := (client == "x") == (rev%2 == 0)
		if allowed {
			return http.StatusOK
		}
		return http.StatusUnauthorized
	}
	const workers, reloads = 4, 30
	var stop atomic.Bool
	var decisions, wrong atomic.Int64
	seen := make([]map[uint64]bool, workers)
	var wg sync.WaitGroup
	for i := range workers {
		seen[i] = map[uint64]bool{}
		wg.Go(func() {
			for n := 0; n < 100000 && (!stop.Load() || n < 50); n++ {
				name, cert := "x", x
				if n%2 == 1 {
					name, cert = "y", y
				}
				req := envoyRequest(cert)
				req.Method = http.MethodPost
				res := checker.Check(context.Background(), req)
				decisions.Add(1)
				seen[i][res.Revision] = true
				if res.Status != want(name, res.Revision) {
					if wrong.Add(1) <= 5 {
						t.Errorf("%s at revision %d: status %d (%s), want %d", name, res.Revision, res.Status, res.Reason, want(name, res.Revision))
					}
				}
			}
		})
	}
	for range reloads {
		if a := reloader.Attempt(context.Background(), "test"); a.Result != ReloadSuccess {
			t.Errorf("reload: %s %v", a.Result, a.Err)
		}
	}
	stop.Store(true)
	wg.Wait()
	revisions := map[uint64]bool{}
	for _, s := range seen {
		for r := range s {
			revisions[r] = true
		}
	}
	t.Logf("%d decisions over %d revisions, %d wrong", decisions.Load(), len(revisions), wrong.Load())
	if wrong.Load() != 0 {
		t.Fatalf("%d decisions did not match the revision they reported", wrong.Load())
	}
	if len(revisions) < 3 {
		t.Fatalf("decisions saw %d revisions; the test did not overlap traffic with reloads", len(revisions))
	}
}

// TestReloadOfUnchangedFilesLoadsNothing: a SIGHUP storm must not compile
// the policy once per signal.
func TestReloadOfUnchangedFilesLoadsNothing(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	loads := 0
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		loads++
		return LoadSnapshot(ctx, w.trustConfig(dir), dir, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	r := &Reloader{Checker: NewChecker(snap, Options{Logger: log}), Logger: log,
		Source: digestSource{LoadFunc(load), Inputs{Trust: w.trustConfig(dir), Policy: PolicyDir(dir)}}}
	for range 5 {
		if a := r.Attempt(context.Background(), "SIGHUP"); a.Result != ReloadUnchanged {
			t.Fatalf("reload of unchanged files: %s %v", a.Result, a.Err)
		}
	}
	if loads != 1 {
		t.Fatalf("%d loads, want only the first", loads)
	}
	w.write(t, dir, dir, version{grants: map[string][]string{"viewers": {"start_vm"}}})
	if a := r.Attempt(context.Background(), "SIGHUP"); a.Result != ReloadSuccess || a.Revision != 2 || loads != 2 {
		t.Fatalf("reload after a change: %s revision %d, %d loads", a.Result, a.Revision, loads)
	}
}

// TestAReloadThatTakesACRLBackIsRefused: an older CRL on disk (a stale
// mirror, a backup restored) would un-revoke what the serving CRL revokes.
// Such a reload fails like a broken one: the serving snapshot stays, and
// the failure is logged, counted and shown by GetStatus.
func TestAReloadThatTakesACRLBackIsRefused(t *testing.T) {
	w := newDiskWorld(t)
	viewer := w.ca.Leaf("vera", pkitest.Orgs("viewers"))
	dir := t.TempDir()
	w.write(t, dir, dir, version{crlNumber: 2, revoked: []*x509.Certificate{viewer.Cert}})
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		return LoadSnapshot(ctx, w.trustConfig(dir), dir, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	metrics := NewMetrics(prometheus.NewRegistry())
	checker := NewChecker(snap, Options{Logger: log})
	reloader := &Reloader{Checker: checker, Logger: log, Metrics: metrics,
		Source: Inputs{Trust: w.trustConfig(dir), Policy: PolicyDir(dir)}}
	admin := &AdminService{Checker: checker, Reloader: reloader}
	ctx := context.Background()

	for i, tc := range []struct {
		name    string
		v       version
		problem trust.CRLOrderProblem
	}{
		{"a lower CRL number", version{crlNumber: 1}, trust.CRLOlderThanServing},
		{"the serving CRL number with other contents", version{crlNumber: 2}, trust.CRLNumberReused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			w.write(t, dir, dir, tc.v)
			a := reloader.Attempt(ctx, "test")
			var oe *trust.CRLOrderError
			if a.Result != ReloadFailure || !errors.As(a.Err, &oe) || oe.Problem != tc.problem || a.Revision != 1 {
				t.Fatalf("reload: %s, revision %d, %v; want a failure (%s) keeping revision 1", a.Result, a.Revision, a.Err, tc.problem)
			}
			if res := checker.Check(ctx, envoyRequest(viewer)); res.Status != http.StatusUnauthorized || res.Revision != 1 {
				t.Errorf("the revoked viewer after the refused reload: %d (%s) at revision %d, want 401 at revision 1", res.Status, res.Reason, res.Revision)
			}
			if n := testutil.ToFloat64(metrics.reloads.WithLabelValues(ReloadFailure)); n != float64(i+1) {
				t.Errorf(`certgate_reloads_total{result="failure"} = %v, want %d`, n, i+1)
			}
			if !strings.Contains(logs.String(), "reload failed") || !strings.Contains(logs.String(), "goes back") {
				t.Errorf("log does not report the refused reload: %s", logs.String())
			}
			st, err := admin.GetStatus(ctx, &adminv1.GetStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if st.GetLastReload().GetError() != a.Err.Error() || st.GetReloadFailures() != uint64(i+1) || st.GetSnapshot().GetRevision() != 1 {
				t.Errorf("GetStatus: last reload %v, %d failures, revision %d; want the error, %d failures, revision 1",
					st.GetLastReload(), st.GetReloadFailures(), st.GetSnapshot().GetRevision(), i+1)
			}
		})
	}
	// The CA's next CRL moves forward again and un-revokes the viewer.
	w.write(t, dir, dir, version{crlNumber: 3})
	if a := reloader.Attempt(ctx, "test"); a.Result != ReloadSuccess || a.Revision != 2 {
		t.Fatalf("reload of a newer CRL: %s %v", a.Result, a.Err)
	}
	if res := checker.Check(ctx, envoyRequest(viewer)); !res.Allow {
		t.Errorf("viewer after the newer CRL: %d (%s), want allowed", res.Status, res.Reason)
	}
}

// digestSource loads with one Source and hashes with another, so a test
// can count the loads that a digest spares.
type digestSource struct {
	LoadFunc
	digest Source
}

func (s digestSource) Digest(ctx context.Context) (string, error) { return s.digest.Digest(ctx) }
