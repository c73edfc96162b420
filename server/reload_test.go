package server

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/certgate/certgate/pki/pkitest"
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
	w.write(t, dirs[0], dirs[0], version{revoked: []*x509.Certificate{y.Cert}, grants: map[string][]string{"xs": {"start_vm"}}})
	w.write(t, dirs[1], dirs[1], version{revoked: []*x509.Certificate{x.Cert}, grants: map[string][]string{"ys": {"start_vm"}}})
	// Revision r loads generation r%2: the revision a decision reports
	// tells which generation it must match.
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		d := dirs[rev%2]
		return LoadSnapshot(ctx, w.trustConfig(d), d, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	checker := NewChecker(snap, Options{Logger: log})
	reloader := &Reloader{Checker: checker, Load: load, Logger: log}

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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &Reloader{Checker: NewChecker(snap, Options{Logger: log}), Load: load, Logger: log,
		Digest: func() (string, error) { return InputDigest(w.trustConfig(dir), dir) }}
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
