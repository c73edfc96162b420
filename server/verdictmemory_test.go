package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"testing"

	"google.golang.org/grpc/peer"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
)

// junkHeaders are the certificate headers of junk request i: one value of
// n random bytes in one of identity.ForwardedCertHeaders, by turns (framed
// as the reader of that header expects, so it gets past its first check),
// and ssl-client-verify SUCCESS; a value in a header certgate does not read
// comes with a small junk ssl-client-cert. No two requests send the same
// value, nor the same value where certgate reads.
func junkHeaders(rng *rand.ChaCha8, i, n int) map[string]string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	name := identity.ForwardedCertHeaders[i%len(identity.ForwardedCertHeaders)]
	var before, after string
	switch name {
	case "ssl-client-cert":
		before, after = "-----BEGIN%20CERTIFICATE-----%0A", "%0A-----END%20CERTIFICATE-----%0A"
	case "x-forwarded-client-cert":
		before, after = `By=spiffe://junk;Cert="`, `"`
	case "client-cert", "client-cert-chain":
		before, after = ":", ":"
	}
	b := make([]byte, n-len(before)-len(after))
	_, _ = rng.Read(b)
	for k := range b {
		b[k] = alphabet[b[k]&63]
	}
	copy(b, fmt.Sprintf("%08d", i))
	h := map[string]string{name: before + string(b) + after}
	switch name {
	case "ssl-client-cert", "x-forwarded-client-cert", "client-cert":
	default:
		// A header certgate does not read: a small junk certificate where
		// it reads first makes this request a presentation of its own.
		h["ssl-client-cert"] = "-----BEGIN%20CERTIFICATE-----%0A" + string(b[:1000]) + "%0A-----END%20CERTIFICATE-----%0A"
	}
	if name != "ssl-client-verify" {
		h["ssl-client-verify"] = "SUCCESS"
	}
	return h
}

// junkTrust believes every forwarded-header family from junkPeer, so that
// the junk is read whichever header carries it. It is the one place to
// adapt when the way header trust is given changes.
var (
	junkPeer  = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000}
	junkTrust = ListenerTrust{Families: identity.AllFamilies, Proxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
)

// liveHeap is the heap still reachable after two full collections.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestJunkCertificateHeadersAreNotKept: a client without a certificate that
// sends 60 KB of junk in a forwarded certificate header, every request
// different, must not make certgate keep what it sent. After many such
// requests, through each adapter, the live heap may grow by less than
// 4 KiB a request however the verdicts are cached.
func TestJunkCertificateHeadersAreNotKept(t *testing.T) {
	const (
		requests   = 400
		valueBytes = 60_000
		perRequest = 4 << 10
	)
	w := newCacheWorld(t)
	newChecker := func(t *testing.T) *Checker {
		return NewChecker(w.snapshot(t, 1), Options{
			Logger:      slog.New(slog.DiscardHandler),
			DecisionLog: NewDecisionLog(io.Discard, 1),
		})
	}
	for _, tc := range []struct {
		name string
		// check sends headers and returns the status of the decision.
		check func(c *Checker, headers map[string]string) int
	}{
		{"checked by the Checker", func(c *Checker, headers map[string]string) int {
			return c.Check(context.Background(), &Request{Method: "GET", Target: "/api/v1/vm", Headers: headers, Trust: junkTrust.Families, Adapter: "http"}).Status
		}},
		{"through the HTTP check endpoint", func(c *Checker, headers map[string]string) int {
			req := httptest.NewRequest(http.MethodGet, CheckPath, nil)
			req.Header.Set("X-Original-Method", "GET")
			req.Header.Set("X-Original-URI", "/api/v1/vm")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			req.RemoteAddr = junkPeer.String()
			NewHTTPHandler(c, junkTrust).ServeHTTP(rec, req)
			return rec.Code
		}},
		{"through the ext_authz gRPC service", func(c *Checker, headers map[string]string) int {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: junkPeer})
			resp, err := NewAuthorizationServer(c, junkTrust).Check(ctx, client.EnvoyRequest(client.Check{Method: "GET", Target: "/api/v1/vm", Headers: headers}))
			if err != nil {
				t.Fatal(err)
			}
			return int(resp.GetDeniedResponse().GetStatus().GetCode())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(t)
			rng := rand.NewChaCha8([32]byte{1})
			send := func(i int) {
				if status := tc.check(c, junkHeaders(rng, i, valueBytes)); status != http.StatusUnauthorized {
					t.Fatalf("junk request %d: status %d, want 401", i, status)
				}
			}
			for i := range 20 { // pools and lazily built state
				send(i)
			}
			before := liveHeap()
			for i := 20; i < 20+requests; i++ {
				send(i)
			}
			kept := liveHeap() - before
			runtime.KeepAlive(c)
			t.Logf("%d junk requests of %d bytes: live heap %+.1f MiB, %+.1f KiB a request", requests, valueBytes, float64(kept)/(1<<20), float64(kept)/requests/1024)
			if kept > requests*perRequest {
				t.Errorf("%d junk requests of %d bytes left %.1f MiB live (%.1f KiB each), want under %d KiB each: certgate keeps what clients without a certificate send",
					requests, valueBytes, float64(kept)/(1<<20), float64(kept)/requests/1024, perRequest>>10)
			}
		})
	}
}
