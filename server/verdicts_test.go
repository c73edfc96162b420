package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// cacheWorld is a root → intermediate PKI on a clock the test moves.
type cacheWorld struct {
	now    time.Time
	root   *pkitest.CA
	inter  *pkitest.CA
	engine *policy.Engine
}

func newCacheWorld(t *testing.T) *cacheWorld {
	t.Helper()
	w := &cacheWorld{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.root = pkitest.New(t, "root", clock)
	w.inter = w.root.ChildCA("inter")
	var err error
	if w.engine, err = policy.Load(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	return w
}

// snapshot trusts the root with CRLs valid for a day that revoke revoked.
func (w *cacheWorld) snapshot(t *testing.T, rev uint64, revoked ...*x509.Certificate) *Snapshot {
	t.Helper()
	opts := pki.CRLOptions{ThisUpdate: w.now.Add(-time.Hour), NextUpdate: w.now.Add(24 * time.Hour)}
	store, err := trust.NewStore([]*x509.Certificate{w.root.Cert}, []*x509.Certificate{w.inter.Cert},
		[]*x509.RevocationList{w.root.CRLWith(opts), w.inter.CRLWith(opts, revoked...)}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	return &Snapshot{Trust: store, Policy: w.engine, Revision: rev}
}

func envoyRequest(cert *pki.Certificate) *Request {
	req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: cert.CertPEM(), Method: "GET", Target: "/api/v1/vm"}))
	req.Adapter = "grpc"
	return req
}

func TestVerdictCache(t *testing.T) {
	w := newCacheWorld(t)
	viewer := w.inter.Leaf("vera", pkitest.Orgs("viewers"))
	reg := prometheus.NewRegistry()
	c := NewChecker(nil, Options{Metrics: NewMetrics(reg), Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})
	c.swap(w.snapshot(t, 1))
	hits := func() float64 { return testutil.ToFloat64(c.metrics.verdictCache.WithLabelValues("hit")) }
	check := func() Result { return c.Check(context.Background(), envoyRequest(viewer)) }

	t.Run("a second request with the same certificate is served from the cache", func(t *testing.T) {
		if res := check(); !res.Allow {
			t.Fatalf("first check: %d %s", res.Status, res.Reason)
		}
		if res := check(); !res.Allow || hits() != 1 {
			t.Fatalf("second check: allow %v, cache hits %v; want allow from one hit", res.Allow, hits())
		}
	})
	t.Run("a new snapshot that revokes the certificate takes effect at once", func(t *testing.T) {
		c.swap(w.snapshot(t, 2, viewer.Cert))
		if res := check(); res.Allow || res.Status != http.StatusUnauthorized || !strings.Contains(res.Reason, "revoked") {
			t.Fatalf("after the swap: allow %v %d %q, want 401 revoked", res.Allow, res.Status, res.Reason)
		}
	})
	t.Run("a cached verdict ends at the CRL's nextUpdate", func(t *testing.T) {
		c.swap(w.snapshot(t, 3))
		if res := check(); !res.Allow {
			t.Fatalf("fresh snapshot: %d %s", res.Status, res.Reason)
		}
		w.now = w.now.Add(25 * time.Hour)
		if res := check(); res.Allow || !strings.Contains(res.Reason, "crl_unavailable") {
			t.Fatalf("after nextUpdate: allow %v %q, want 401 crl_unavailable", res.Allow, res.Reason)
		}
	})
}

// TestAParsedChainIsCachedUnderItsOwnKey: a chain a caller parsed is
// verified once and then served from the cache, under a key that Envoy's
// PEM of the same leaf does not share, and one over the chain limit is
// refused as malformed.
func TestAParsedChainIsCachedUnderItsOwnKey(t *testing.T) {
	w := newCacheWorld(t)
	viewer := w.inter.Leaf("vera", pkitest.Orgs("viewers"))
	reg := prometheus.NewRegistry()
	c := NewChecker(w.snapshot(t, 1), Options{Metrics: NewMetrics(reg), Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now },
		Identity: identity.Options{MaxChainLength: 3}})
	hits := func() float64 { return testutil.ToFloat64(c.metrics.verdictCache.WithLabelValues("hit")) }
	parsed := func(chain ...*x509.Certificate) *Request {
		return &Request{Method: "GET", Target: "/api/v1/vm", Adapter: "admin", Presented: &identity.Presented{Chain: chain, Source: identity.SourceEnvoy}}
	}
	for i := range 2 {
		if res := c.Check(context.Background(), parsed(viewer.Cert, w.inter.Cert)); !res.Allow || res.Identity.User != "vera" {
			t.Fatalf("check %d of the parsed chain: %d %s", i+1, res.Status, res.Reason)
		}
	}
	if hits() != 1 {
		t.Errorf("cache hits after two checks of one parsed chain: %v, want 1", hits())
	}
	if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow || hits() != 1 {
		t.Errorf("Envoy's PEM of the same leaf: allow %v, cache hits %v; want a miss that allows", res.Allow, hits())
	}
	if n := c.CachedVerdicts(); n != 2 {
		t.Errorf("%d cached verdicts, want 2: one for the parsed chain, one for Envoy's PEM", n)
	}
	res := c.Check(context.Background(), parsed(viewer.Cert, w.inter.Cert, w.inter.Cert, w.inter.Cert))
	if res.Allow || res.Status != http.StatusUnauthorized || res.Cause != CauseMalformedCertificate || !strings.Contains(res.Reason, "more than 3 certificate(s)") {
		t.Errorf("a parsed chain over the limit: %d %s %q, want 401 malformed", res.Status, res.Cause, res.Reason)
	}
	if res := c.Check(context.Background(), parsed()); res.Allow || res.Status != http.StatusUnauthorized || res.Cause != CauseNoCertificate {
		t.Errorf("an empty parsed chain: %d %s %q, want 401 no certificate", res.Status, res.Cause, res.Reason)
	}
}

func TestStaleCRLInWarnModeAllowsAndSaysSo(t *testing.T) {
	w := newCacheWorld(t)
	viewer := w.inter.Leaf("vera", pkitest.Orgs("viewers"))
	snap := w.snapshot(t, 1)
	w.now = w.now.Add(48 * time.Hour) // both CRLs are now a day past nextUpdate
	var logs bytes.Buffer
	c := NewChecker(nil, Options{Metrics: NewMetrics(prometheus.NewRegistry()), DecisionLog: NewDecisionLog(&logs, 1),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})

	c.swap(snap)
	if res := c.Check(context.Background(), envoyRequest(viewer)); res.Allow || res.Status != http.StatusUnauthorized {
		t.Fatalf("deny mode: allow %v %d, want 401", res.Allow, res.Status)
	}
	warn, err := snap.Trust.WithStaleCRLPolicy(trust.StaleCRLWarn)
	if err != nil {
		t.Fatal(err)
	}
	c.swap(&Snapshot{Trust: warn, Policy: snap.Policy, Revision: 2})
	for range 2 {
		if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow || !res.StaleCRL {
			t.Fatalf("warn mode: allow %v stale %v (%s), want an allow marked stale", res.Allow, res.StaleCRL, res.Reason)
		}
	}
	if n := testutil.ToFloat64(c.metrics.staleCRL); n != 2 {
		t.Errorf("certgate_stale_crl_decisions_total = %v, want 2", n)
	}
	if n := strings.Count(logs.String(), `"stale_crl":true`); n != 2 {
		t.Errorf("decision log has %d stale_crl lines, want 2:\n%s", n, logs.String())
	}
}

// TestDecisionLogNamesWhoARejectedCertificateClaimsToBe: after revoking a
// certificate, an operator looks for its attempts by user and serial.
func TestDecisionLogNamesWhoARejectedCertificateClaimsToBe(t *testing.T) {
	w := newCacheWorld(t)
	revoked := w.inter.Leaf("mallory", pkitest.Orgs("admins"))
	var logs bytes.Buffer
	c := NewChecker(w.snapshot(t, 1, revoked.Cert), Options{DecisionLog: NewDecisionLog(&logs, 1),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})
	res := c.Check(context.Background(), envoyRequest(revoked))
	if res.Allow || res.Status != http.StatusUnauthorized || res.Identity != nil || len(res.UpstreamHeaders) != 0 {
		t.Fatalf("revoked: allow %v status %d identity %v headers %v", res.Allow, res.Status, res.Identity, res.UpstreamHeaders)
	}
	line := logs.String()
	for _, want := range []string{`"user":"mallory"`, `"serial":"` + revoked.Cert.SerialNumber.Text(16) + `"`, `"verified":false`} {
		if !strings.Contains(line, want) {
			t.Errorf("decision log line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, `"groups"`) {
		t.Errorf("a rejected certificate's groups are logged as if they counted: %s", line)
	}
}
