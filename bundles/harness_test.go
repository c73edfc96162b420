package bundles_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/bundles"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/server"
	"github.com/certgate/certgate/trust"
)

// replica is one certgate's serving state fed by a bundle: a Checker, its
// Reloader and the bundle Policy, as `certgate serve` wires them.
type replica struct {
	policy   *bundles.Policy
	checker  *server.Checker
	reloader *server.Reloader
	logs     *testlog.Buffer
	stop     func()
}

// policyOPA is a policy.opa section for the bundle at url, polled by long
// polling unless polling is given.
func policyOPA(url, extra string) string {
	return fmt.Sprintf(`{"services": {"fleet": {"url": %q}},
		"bundles": {"certgate": {"service": "fleet", "resource": "/certgate.tar.gz",
			"polling": {"min_delay_seconds": 1, "max_delay_seconds": 1, "long_polling_timeout_seconds": 5}%s}}}`, url, extra)
}

// trustFiles writes a CA file and returns the trust configuration for it.
func trustFiles(t *testing.T) trust.Config {
	t.Helper()
	ca := pkitest.New(t, "bundles root")
	name := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(name, pki.EncodeCertsPEM(ca.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	return trust.Config{CAFiles: []string{name}, CRLMode: trust.CRLModeOff}
}

// startReplica starts a replica with the policy.opa JSON cfg: it loads
// its first snapshot (nil without a bundle) and polls until the test ends
// or stop is called.
func startReplica(t *testing.T, cfg string, tc trust.Config) *replica {
	t.Helper()
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bc, err := bundles.Parse([]byte(cfg), filepath.Join(t.TempDir(), "state"), log)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{policy: bundles.New(bc, log), logs: logs}
	source := server.Inputs{Trust: tc, Policy: r.policy}
	snap, err := bundles.FirstLoad(t.Context(), r.policy, func(ctx context.Context) (*server.Snapshot, error) { return source.Load(ctx, 1) })
	if err != nil {
		t.Fatal(err)
	}
	r.checker = server.NewChecker(snap, server.Options{Logger: log})
	r.reloader = &server.Reloader{Checker: r.checker, Source: source, Logger: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.policy.Run(ctx, func(ctx context.Context, trigger string) bundles.Activation {
			a := r.reloader.Attempt(ctx, trigger)
			return bundles.Activation{Swapped: a.Result == server.ReloadSuccess, Err: a.Err, Revision: a.Revision}
		})
	}()
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(r.stop)
	return r
}

// permissions are those of the serving policy; nil without a snapshot.
func (r *replica) permissions(t *testing.T) []string {
	t.Helper()
	snap := r.checker.Snapshot()
	if snap == nil {
		return nil
	}
	perms, err := snap.Policy.Permissions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = p.Name
	}
	return names
}

// serves reports whether the serving policy has permission perm.
func (r *replica) serves(t *testing.T, perm string) bool {
	t.Helper()
	return slices.Contains(r.permissions(t), perm)
}

func (r *replica) status() bundles.Status { return r.policy.Status()[0] }

// eventually waits, at most 15 s, until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// activates waits until the replica serves perm and its bundle status
// names revision. The Reloader publishes a bundle's snapshot before the
// bundle's status records it (Policy.try), so a check can see the new
// policy a moment before the status does.
func (r *replica) activates(t *testing.T, perm, revision string) {
	t.Helper()
	eventually(t, "bundle "+revision+" serves "+perm, func() bool {
		return r.serves(t, perm) && r.status().Revision == revision
	})
}
