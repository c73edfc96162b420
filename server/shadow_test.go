package server

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/testing/protocmp"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"

	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// denyAll is a shadow that would deny every request.
const denyAll = `package certgate.authz

decision := {"allow": false, "status": 403, "reason": "shadow_says_no", "permission": "",
	"headers": {}, "response_headers": {}}
`

// shadowChecker is a Checker of the shipped policy with shadow (Rego
// source; "" is the shipped policy too), logging to the returned buffer.
func shadowChecker(t testing.TB, shadow string) (*Checker, *pkitest.CA, *testlog.Buffer) {
	t.Helper()
	serving, err := policy.Load(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	shadowEngine := serving
	if shadow != "" {
		if shadowEngine, err = policy.LoadFS(t.Context(), fstest.MapFS{"authz.rego": {Data: []byte(shadow)}}); err != nil {
			t.Fatal(err)
		}
	}
	root := pkitest.New(t, "root")
	inter := root.ChildCA("inter")
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, []*x509.RevocationList{root.CRL(), inter.CRL()}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	snap := &Snapshot{Trust: store, Policy: serving, Shadow: shadowEngine, ShadowDir: "shadow", Revision: 7}
	c := NewChecker(snap, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: NewMetrics(prometheus.NewRegistry())})
	return c, inter, logs
}

// waitForShadow returns once no shadow evaluation is running: it takes
// every slot, which each evaluation holds until it has reported.
func waitForShadow(c *Checker) {
	for range cap(c.shadow.slots) {
		c.shadow.slots <- struct{}{}
	}
	for range cap(c.shadow.slots) {
		<-c.shadow.slots
	}
}

func shadowCount(c *Checker, result string) float64 {
	return testutil.ToFloat64(c.metrics.shadow.decisions.WithLabelValues(result))
}

func TestShadowPolicyNeverChangesTheDecision(t *testing.T) {
	c, ca, logs := shadowChecker(t, denyAll)
	viewer := ca.Leaf("vera", pkitest.Orgs("viewers"))
	res := c.Check(context.Background(), envoyRequest(viewer))
	if !res.Allow || res.Permission != "list_vms" {
		t.Fatalf("Check = %d %s %q, want the serving policy's allow of list_vms", res.Status, res.Reason, res.Permission)
	}
	waitForShadow(c)
	if got := shadowCount(c, shadowDisagree); got != 1 {
		t.Errorf("disagreements = %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.metrics.shadow.disagreements.WithLabelValues("list_vms", shadowAllowDiffers)); got != 1 {
		t.Errorf("disagreements{route=list_vms, reason=allow} = %v, want 1", got)
	}
	lines := logs.Records(t, "shadow policy disagrees")
	if len(lines) != 1 {
		t.Fatalf("%d disagreement lines, want 1:\n%s", len(lines), logs)
	}
	want := map[string]any{
		"decision_id": res.DecisionID, "revision": 7.0, "reason": "allow", "method": "GET", "path": "/api/v1/vm",
		"serving_allow": true, "serving_status": 200.0, "serving_reason": "granted", "serving_permission": "list_vms",
		"shadow_allow": false, "shadow_status": 403.0, "shadow_reason": "shadow_says_no", "shadow_permission": "",
	}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("log %s = %v, want %v", k, lines[0][k], v)
		}
	}
}

func TestShadowPolicyThatAgreesIsCountedOnly(t *testing.T) {
	c, ca, logs := shadowChecker(t, "")
	viewer := ca.Leaf("vera", pkitest.Orgs("viewers"))
	for range 3 {
		if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow {
			t.Fatalf("Check = %d %s", res.Status, res.Reason)
		}
		waitForShadow(c)
	}
	if got := shadowCount(c, shadowAgree); got != 3 {
		t.Errorf("agreements = %v, want 3", got)
	}
	if lines := logs.Records(t, "shadow policy disagrees"); len(lines) != 0 {
		t.Errorf("disagreement lines: %v", lines)
	}
}

// TestShadowDropsWhenBusy: a decision that finds every shadow slot taken
// is not shadowed, nor queued: it is counted as dropped.
func TestShadowDropsWhenBusy(t *testing.T) {
	c, ca, _ := shadowChecker(t, denyAll)
	for range cap(c.shadow.slots) {
		c.shadow.slots <- struct{}{}
	}
	viewer := ca.Leaf("vera", pkitest.Orgs("viewers"))
	for range 5 {
		if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow {
			t.Fatalf("Check = %d %s", res.Status, res.Reason)
		}
	}
	if got := shadowCount(c, shadowDropped); got != 5 {
		t.Errorf("dropped = %v, want 5", got)
	}
	for range cap(c.shadow.slots) {
		<-c.shadow.slots
	}
	if got := shadowCount(c, shadowDisagree) + shadowCount(c, shadowAgree); got != 0 {
		t.Errorf("%v decisions shadowed while every slot was busy", got)
	}
}

func TestShadowRouteLabelsAreBounded(t *testing.T) {
	r := newShadowRunner(slog.New(slog.DiscardHandler), nil)
	seen := map[string]bool{}
	for i := range 2 * maxShadowRoutes {
		seen[r.routeLabel(policy.Decision{Permission: "p" + strconv.Itoa(i)}, policy.Decision{})] = true
	}
	if len(seen) != maxShadowRoutes+1 || !seen["other"] {
		t.Errorf("%d route labels (other: %v), want %d and other", len(seen), seen["other"], maxShadowRoutes)
	}
	if got := r.routeLabel(policy.Decision{}, policy.Decision{}); got != "none" {
		t.Errorf("route of two decisions without a permission = %q, want none", got)
	}
}

func TestDisagreement(t *testing.T) {
	allow := policy.Decision{Allow: true, Status: 200, Reason: "granted", Permission: "p"}
	deny := policy.Decision{Status: 403, Reason: "missing_permission", Permission: "p"}
	failed := errors.New("boom")
	tests := []struct {
		name            string
		serving, shadow policy.Decision
		servingErr      error
		shadowErr       error
		want            string
	}{
		{name: "the same allow", serving: allow, shadow: allow},
		{name: "both failed", servingErr: failed, shadowErr: failed},
		{name: "the shadow failed", serving: allow, shadowErr: failed, want: shadowErrorDiffers},
		{name: "only the serving one failed", servingErr: failed, shadow: deny, want: shadowErrorDiffers},
		{name: "allow against deny", serving: allow, shadow: deny, want: shadowAllowDiffers},
		{name: "an allow of status 201 is a deny", serving: allow, shadow: policy.Decision{Allow: true, Status: 201, Reason: "granted", Permission: "p"}, want: shadowAllowDiffers},
		{name: "two deny statuses", serving: deny, shadow: policy.Decision{Status: 404, Reason: "missing_permission", Permission: "p"}, want: shadowStatusDiffers},
		{name: "another permission", serving: deny, shadow: policy.Decision{Status: 403, Reason: "missing_permission", Permission: "q"}, want: shadowPermissionDiffers},
		{name: "another reason", serving: deny, shadow: policy.Decision{Status: 403, Reason: "no_route", Permission: "p"}, want: shadowReasonDiffers},
		{name: "headers are not compared", serving: allow, shadow: policy.Decision{Allow: true, Status: 200, Reason: "granted", Permission: "p", Headers: map[string]string{"x": "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := disagreement(tt.serving, tt.servingErr, tt.shadow, tt.shadowErr); got != tt.want {
				t.Errorf("disagreement = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadShadow: a shadow that does not compile leaves the snapshot
// serving without one (certgate_shadow_policy_loaded 0); a change of the
// shadow's files changes the snapshot's digest, so a reload sees it.
func TestLoadShadow(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "authz.rego"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loaded := func(snap *Snapshot) float64 {
		t.Helper()
		reg := prometheus.NewRegistry()
		NewChecker(snap, Options{Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg)})
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "certgate_shadow_policy_loaded" {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	root := pkitest.New(t, "root")
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, nil, []*x509.RevocationList{root.CRL()}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	write("package certgate.authz\n\ndecision := {")
	broken := &Snapshot{Trust: store, Digest: "main"}
	if err := LoadShadow(t.Context(), broken, dir); err == nil || broken.Shadow != nil || broken.ShadowErr == nil {
		t.Fatalf("LoadShadow(broken) = %v, shadow %v", err, broken.Shadow)
	}
	if got := loaded(broken); got != 0 {
		t.Errorf("certgate_shadow_policy_loaded = %v for a broken shadow, want 0", got)
	}
	write(denyAll)
	good := &Snapshot{Trust: store, Digest: "main"}
	if err := LoadShadow(t.Context(), good, dir); err != nil || good.Shadow == nil {
		t.Fatalf("LoadShadow(good) = %v", err)
	}
	if got := loaded(good); got != 1 {
		t.Errorf("certgate_shadow_policy_loaded = %v, want 1", got)
	}
	if good.Digest == broken.Digest || good.Digest == "main" || good.Digest != ShadowDigest("main", dir) {
		t.Errorf("digests: broken %s, good %s, ShadowDigest %s", broken.Digest, good.Digest, ShadowDigest("main", dir))
	}
	none := &Snapshot{Trust: store, Digest: "main"}
	if err := LoadShadow(t.Context(), none, ""); err != nil || none.Digest != "main" || loaded(none) != -1 {
		t.Errorf("no shadow: %v, digest %s", err, none.Digest)
	}
}

// TestServiceLoadsAndReloadsTheShadow: policy.shadow.dir is loaded with
// every snapshot; one that does not compile is logged and the snapshot
// serves without it, and fixing it is a reload like any other change.
func TestServiceLoadsAndReloadsTheShadow(t *testing.T) {
	w := newDiskWorld(t)
	trustDir, policyDir, shadowDir := t.TempDir(), t.TempDir(), t.TempDir()
	w.write(t, trustDir, policyDir, version{})
	if err := os.WriteFile(filepath.Join(shadowDir, "authz.rego"), []byte("package certgate.authz\n\ndecision := {"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serviceConfig(t, w, trustDir, policyDir)
	cfg.Policy.Shadow.Dir = shadowDir
	logs := &testlog.Buffer{}
	svc, _ := newTestService(t, cfg, logs)
	if snap := svc.Checker().Snapshot(); snap.Shadow != nil || snap.ShadowErr == nil {
		t.Fatalf("a broken shadow loaded: %v", snap.ShadowErr)
	}
	shadowStatus := func(t *testing.T) *adminv1.ShadowPolicyStatus {
		t.Helper()
		st, err := (&AdminService{Checker: svc.Checker()}).GetStatus(t.Context(), &adminv1.GetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return st.GetSnapshot().GetShadowPolicy()
	}
	brokenDigest, err := filesDigest(nil, nil, shadowDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := shadowStatus(t); got.GetDir() != shadowDir || got.GetLoaded() || got.GetDigest() != brokenDigest ||
		!strings.Contains(got.GetLastError(), "load shadow policy") || len(got.GetPolicyFiles()) != 0 {
		t.Errorf("GetStatus shows the broken shadow as %v, want not loaded, digest %s, with its error", got, brokenDigest)
	}
	if lines := logs.Records(t, "shadow policy not loaded; serving without a shadow"); len(lines) != 1 {
		t.Errorf("%d lines about the broken shadow, want 1", len(lines))
	}
	if a := svc.Reload(t.Context(), "test"); a.Result != ReloadUnchanged {
		t.Errorf("reload without a change = %s (%v), want unchanged", a.Result, a.Err)
	}
	if err := os.WriteFile(filepath.Join(shadowDir, "authz.rego"), []byte(denyAll), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := svc.Reload(t.Context(), "test"); a.Result != ReloadSuccess {
		t.Fatalf("reload after fixing the shadow = %s (%v), want success", a.Result, a.Err)
	}
	if snap := svc.Checker().Snapshot(); snap.Shadow == nil || snap.ShadowErr != nil {
		t.Errorf("the fixed shadow did not load: %v", snap.ShadowErr)
	}
	fixedDigest, err := filesDigest(nil, nil, shadowDir)
	if err != nil {
		t.Fatal(err)
	}
	want := &adminv1.ShadowPolicyStatus{Dir: shadowDir, Loaded: true, Digest: fixedDigest, PolicyFiles: []string{filepath.Join(shadowDir, "authz.rego")}}
	if diff := cmp.Diff(want, shadowStatus(t), protocmp.Transform()); diff != "" || fixedDigest == brokenDigest {
		t.Errorf("GetStatus shows the fixed shadow (-want +got):\n%s", diff)
	}
}

// TestGetStatusShowsNoShadowWithoutOne: without policy.shadow.dir the
// snapshot's status has no shadow_policy.
func TestGetStatusShowsNoShadowWithoutOne(t *testing.T) {
	c, _, _ := shadowChecker(t, "")
	snap := c.Snapshot()
	snap.Shadow, snap.ShadowDir = nil, ""
	st, err := (&AdminService{Checker: c}).GetStatus(t.Context(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetSnapshot() == nil || st.GetSnapshot().GetShadowPolicy() != nil {
		t.Errorf("snapshot %v, want one without shadow_policy", st.GetSnapshot())
	}
}

// TestTheShadowDirectoryIsWatched: a file change in the shadow policy's
// directory triggers a reload, as one in the policy directory does.
func TestTheShadowDirectoryIsWatched(t *testing.T) {
	policyDir, shadowDir := t.TempDir(), t.TempDir()
	targets := newWatchTargets(&Snapshot{PolicyDir: policyDir, ShadowDir: shadowDir})
	for _, name := range []string{filepath.Join(policyDir, "authz.rego"), filepath.Join(shadowDir, "authz.rego"), filepath.Join(shadowDir, "data.json")} {
		if !targets.matters(name) {
			t.Errorf("a change of %s does not reload", name)
		}
	}
	if targets.matters(filepath.Join(t.TempDir(), "authz.rego")) {
		t.Error("a change elsewhere reloads")
	}
}

// BenchmarkCheckShadow is a whole Check (verdict and decision cache hits)
// without a shadow, and with one that agrees: what the shadow adds to the
// answer's path (a job and a goroutine started after the decision), plus
// the shadow's own work, which shares the CPU.
func BenchmarkCheckShadow(b *testing.B) {
	for _, shadow := range []bool{false, true} {
		b.Run(map[bool]string{false: "none", true: "agreeing"}[shadow], func(b *testing.B) {
			c, ca, _ := shadowChecker(b, "")
			discard := slog.New(slog.DiscardHandler)
			c.log, c.decisions, c.shadow.log = discard, decisionLogTo(discard), discard
			if !shadow {
				c.Snapshot().Shadow = nil
			}
			req := envoyRequest(ca.Leaf("vera", pkitest.Orgs("viewers")))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if res := c.Check(ctx, req); !res.Allow {
					b.Fatalf("Check = %d %s", res.Status, res.Reason)
				}
			}
			waitForShadow(c)
		})
	}
}

// TestShadowDisagreementLinesAreRateLimited: a client that makes every
// request disagree cannot make a log line of each; the metric still
// counts every one.
func TestShadowDisagreementLinesAreRateLimited(t *testing.T) {
	c, ca, logs := shadowChecker(t, denyAll)
	viewer := ca.Leaf("vera", pkitest.Orgs("viewers"))
	const n = 3 * shadowLineBurst
	for range n {
		if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow {
			t.Fatalf("Check = %d %s", res.Status, res.Reason)
		}
		waitForShadow(c)
	}
	if got := shadowCount(c, shadowDisagree); got != n {
		t.Errorf("disagreements counted = %v, want %d", got, n)
	}
	lines := logs.Records(t, "shadow policy disagrees")
	if len(lines) < shadowLineBurst || len(lines) >= n {
		t.Errorf("%d disagreement lines for %d disagreements, want at least the burst %d and fewer than all", len(lines), n, shadowLineBurst)
	}
}
