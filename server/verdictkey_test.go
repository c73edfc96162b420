package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestAVerdictCacheHitCostsNoAllocation(t *testing.T) {
	cache := newVerdictCache(10, 1<<20)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	v := &verdict{id: &identity.Identity{User: "vera"}, from: now, until: now.Add(time.Hour)}
	headers := map[string]string{"ssl-client-cert": "-----BEGIN%20CERTIFICATE-----%0AMIIB", "ssl-client-verify": "SUCCESS"}
	opts := identity.Options{Trust: identity.SSLClientCert}
	cache.put(identity.PresentedDigest("", headers, opts), v)
	other := map[string]string{"ssl-client-cert": "other", "ssl-client-verify": "SUCCESS"}
	if _, hit := cache.get(identity.PresentedDigest("", other, opts), now); hit {
		t.Error("a different presentation found the first one's verdict")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if got, hit := cache.get(identity.PresentedDigest("", headers, opts), now); !hit || got.id != v.id {
			t.Fatal("miss")
		}
	})
	if allocs != 0 {
		t.Errorf("a cache hit on forwarded headers allocates %v times, want 0", allocs)
	}
}

// TestACachedFailureKeepsASmallFixedSize: what a client presents that does
// not verify (a 60 KB subject, an error holding its parsed certificate) is
// cut to a fixed cost before it is cached.
func TestACachedFailureKeepsASmallFixedSize(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	huge := strings.Repeat("x", 60000)
	v := &verdict{
		reason: "chain: unknown_authority (CN=" + huge + ")", cause: "unknown_authority",
		claimed: &identity.Identity{User: huge, Subject: "CN=" + huge, Groups: []string{huge}, Serial: huge, FingerprintSHA256: strings.Repeat("f", 64)},
		err:     errors.New(huge), from: now, until: now.Add(failureTTL),
	}
	r := v.retained()
	if r.err != nil || r.chain != nil || r.claimed.Subject != "" || r.claimed.Groups != nil {
		t.Errorf("a cached failure keeps what it parsed: %+v", r)
	}
	if len(r.reason) > maxLoggedReasonBytes+len("…") || len(r.claimed.User) > maxLoggedNameBytes+len("…") || r.claimed.FingerprintSHA256 != v.claimed.FingerprintSHA256 {
		t.Errorf("reason %d bytes, user %d bytes, fingerprint %q", len(r.reason), len(r.claimed.User), r.claimed.FingerprintSHA256)
	}
	if size := r.size(); size > 3072 {
		t.Errorf("a cached failure is estimated at %d bytes, want at most 3 KiB", size)
	}
}

// TestJunkPresentationsLeaveTheCheckerAFixedCost floods a Checker with requests that
// carry 60 KB of junk in certificate headers, trusted and not, and in
// Envoy's peer certificate: none authenticates, and the heap must not keep
// what they sent.
func TestJunkPresentationsLeaveTheCheckerAFixedCost(t *testing.T) {
	w := newCacheWorld(t)
	c := NewChecker(w.snapshot(t, 1), Options{DecisionLog: NewDecisionLog(io.Discard, 1),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})
	junk := func() string {
		b := make([]byte, 30000)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b) // 60,000 bytes, different each time
	}
	const n = 600
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		req := &Request{Method: "GET", Target: "/api/v1/vm", Adapter: "grpc", Headers: map[string]string{}}
		switch i % 4 {
		case 0:
			req.Headers["x-client-cert"] = junk()
		case 1:
			req.Headers["ssl-client-cert"], req.Headers["ssl-client-verify"] = junk(), "SUCCESS"
			req.Trust = identity.SSLClientCert
		case 2:
			req.Headers["x-forwarded-client-cert"] = "Cert=" + junk()
		case 3:
			req.PeerCertificate = junk()
		}
		if res := c.Check(context.Background(), req); res.Status != http.StatusUnauthorized {
			t.Fatalf("junk %d: status %d, want 401", i, res.Status)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// 600 × 60 KB is 36 MB; a fixed cost per cached failure is well under 1 KB.
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 2<<20 {
		t.Errorf("the heap grew by %.1f MiB after %d junk presentations, want under 2 MiB", float64(grown)/(1<<20), n)
	}
	if got := c.CachedVerdicts(); got == 0 || got > n {
		t.Errorf("%d verdicts cached, want the failures (up to %d)", got, n)
	}
}

// TestVerdictSizeEstimates: the estimate is an upper bound of what a cached
// verdict really keeps, and not a wildly pessimistic one.
func TestVerdictSizeEstimates(t *testing.T) {
	w := newCacheWorld(t)
	snap := w.snapshot(t, 1)
	const warm, n = 300, 1000
	reqs := make([]*Request, warm+n)
	for i := range reqs {
		reqs[i] = envoyRequest(w.inter.Leaf("client-"+strings.Repeat("x", i%20), pkitest.Orgs("viewers", "builders")))
	}
	kept := make([]*verdict, len(reqs))
	estimated := 0
	heap := func() int {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC() // and what sync.Pools held
		runtime.ReadMemStats(&m)
		return int(m.HeapAlloc)
	}
	var before int
	for i, req := range reqs {
		if i == warm {
			// The first verifications also fill what lives as long as
			// the snapshot; only the verdicts after them are measured.
			before = heap()
		}
		v := verify(snap.Trust, req, identity.Options{}, w.now, nil)
		if v.id == nil {
			t.Fatalf("verify: %s", v.reason)
		}
		kept[i] = v.retained()
		if i >= warm {
			estimated += kept[i].size()
		}
	}
	measured := heap() - before
	t.Logf("%d verdicts: estimated %d bytes each, measured %d", n, estimated/n, measured/n)
	if measured > estimated || estimated > 4*measured {
		t.Errorf("estimated %d bytes, measured %d: the estimate must bound it, within 4×", estimated, measured)
	}
	runtime.KeepAlive(kept)
	runtime.KeepAlive(reqs)
}

// TestTheSameBytesUnderAnotherTrustAreDecidedAgain: a certificate header
// believed from a trusted proxy must not lend its verdict to the same
// bytes from a peer that is not one.
func TestTheSameBytesUnderAnotherTrustAreDecidedAgain(t *testing.T) {
	w := newCacheWorld(t)
	admin := w.inter.Leaf("root-user", pkitest.Orgs("admins"))
	c := NewChecker(w.snapshot(t, 1), Options{DecisionLog: NewDecisionLog(io.Discard, 1),
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})
	req := func(trust identity.Families) *Request {
		return &Request{Method: "GET", Target: "/api/v1/vm", Adapter: "http", Trust: trust, Headers: map[string]string{
			"ssl-client-cert": client.EscapePEM(admin.CertPEM()), "ssl-client-verify": "SUCCESS",
		}}
	}
	for range 2 {
		if res := c.Check(context.Background(), req(identity.SSLClientCert)); !res.Allow {
			t.Fatalf("from the trusted proxy: %d %s", res.Status, res.Reason)
		}
		if res := c.Check(context.Background(), req(0)); res.Status != http.StatusUnauthorized {
			t.Fatalf("from another peer: %d %s, want 401", res.Status, res.Reason)
		}
	}
}
