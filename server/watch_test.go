package server

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// watched is a Checker whose files a running Watcher watches.
type watched struct {
	checker  *Checker
	reloader *Reloader
}

func startWatching(t *testing.T, trustDir, policyDir string, w *diskWorld) *watched {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tc := w.trustConfig(trustDir)
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) { return LoadSnapshot(ctx, tc, policyDir, rev) }
	snap, err := load(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	checker := NewChecker(snap, Options{Logger: log})
	reloader := &Reloader{Checker: checker, Source: LoadFunc(load), Logger: log}
	ready := make(chan struct{}, 16)
	watcher := &Watcher{Reloader: reloader, Debounce: 20 * time.Millisecond, Logger: log, watching: func() { ready <- struct{}{} }}
	done := make(chan error, 1)
	go func() { done <- watcher.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	<-ready
	return &watched{checker: checker, reloader: reloader}
}

// eventually waits (at most 5 s) until a Check for cert matches want.
func (w *watched) eventually(t *testing.T, cert *pki.Certificate, method, path string, want int) Result {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		req := envoyRequest(cert)
		req.Method, req.Target = method, path
		res := w.checker.Check(context.Background(), req)
		if res.Status == want {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s by %s: status %d (%s) at revision %d, want %d within 5s; last reload: %+v",
				method, path, cert.Cert.Subject.CommonName, res.Status, res.Reason, res.Revision, want, w.reloader.Status().Last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatcherFollowsKubernetesVolumeUpdates(t *testing.T) {
	w := newDiskWorld(t)
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	root := t.TempDir()
	trustVol := &kubeVolume{dir: filepath.Join(root, "trust")}
	policyVol := &kubeVolume{dir: filepath.Join(root, "policy")}
	publish := func(v version) {
		trustVol.update(t, func(dir string) { w.write(t, dir, t.TempDir(), v) })
		policyVol.update(t, func(dir string) { w.write(t, t.TempDir(), dir, v) })
	}
	publish(version{})
	x := startWatching(t, trustVol.dir, policyVol.dir, w)
	x.eventually(t, viewer, http.MethodPost, "/api/v1/vm", http.StatusForbidden)

	// Policy data: viewers are granted start_vm.
	policyVol.update(t, func(dir string) {
		w.write(t, t.TempDir(), dir, version{grants: map[string][]string{"viewers": {"list_vms", "start_vm"}}})
	})
	if res := x.eventually(t, viewer, http.MethodPost, "/api/v1/vm", http.StatusOK); res.Revision < 2 {
		t.Errorf("allowed at revision %d, want a reloaded snapshot", res.Revision)
	}

	// CRL: the viewer is revoked.
	trustVol.update(t, func(dir string) { w.write(t, dir, t.TempDir(), version{revoked: []*x509.Certificate{viewer.Cert}}) })
	x.eventually(t, viewer, http.MethodGet, "/api/v1/vm", http.StatusUnauthorized)

	// CA: another CA replaces the first; its clients get in, the old ones not.
	other := newDiskWorld(t)
	stranger := other.ca.Leaf("newcomer", pkitest.Orgs("viewers"))
	trustVol.update(t, func(dir string) { other.write(t, dir, t.TempDir(), version{}) })
	x.eventually(t, stranger, http.MethodGet, "/api/v1/vm", http.StatusOK)
	x.eventually(t, viewer, http.MethodGet, "/api/v1/vm", http.StatusUnauthorized)
	if st := x.reloader.Status(); st.Failures != 0 {
		t.Errorf("reload failures %d (last: %v), want none: every generation was whole", st.Failures, st.Last.Err)
	}
}

func TestWatcherFollowsInPlaceEdits(t *testing.T) {
	w := newDiskWorld(t)
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	trustDir, policyDir := t.TempDir(), t.TempDir()
	w.write(t, trustDir, policyDir, version{})
	x := startWatching(t, trustDir, policyDir, w)
	x.eventually(t, viewer, http.MethodPost, "/api/v1/vm", http.StatusForbidden)
	w.write(t, trustDir, policyDir, version{grants: map[string][]string{"viewers": {"start_vm"}}})
	x.eventually(t, viewer, http.MethodPost, "/api/v1/vm", http.StatusOK)
	w.write(t, trustDir, policyDir, version{grants: map[string][]string{"viewers": {"start_vm"}}, revoked: []*x509.Certificate{viewer.Cert}})
	x.eventually(t, viewer, http.MethodPost, "/api/v1/vm", http.StatusUnauthorized)
}

// TestAWatcherStartedWithoutASnapshotWatchesTheFirstOne: a certgate whose
// bundle has not arrived yet starts with no snapshot; once a bundle brings
// one, a change to its CA or CRL files reloads as usual.
func TestAWatcherStartedWithoutASnapshotWatchesTheFirstOne(t *testing.T) {
	w := newDiskWorld(t)
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	log := slog.New(slog.DiscardHandler)
	checker := NewChecker(nil, Options{Logger: log})
	reloader := &Reloader{Checker: checker, Source: Inputs{Trust: w.trustConfig(dir), Policy: PolicyDir(dir)}, Logger: log}
	ready := make(chan struct{}, 16)
	watcher := &Watcher{Reloader: reloader, Debounce: 20 * time.Millisecond, Logger: log, watching: func() { ready <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watcher.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	<-ready // nothing to watch yet
	if a := reloader.Attempt(ctx, "bundle certgate"); a.Result != ReloadSuccess {
		t.Fatalf("first snapshot: %s %v", a.Result, a.Err)
	}
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher did not watch the first snapshot's files")
	}
	w.write(t, dir, dir, version{revoked: []*x509.Certificate{viewer.Cert}})
	x := &watched{checker: checker, reloader: reloader}
	x.eventually(t, viewer, http.MethodGet, "/api/v1/vm", http.StatusUnauthorized)
}
