package test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/client"
)

// The flood: what an unauthenticated client may send, and what it may make
// certgate keep.
const (
	// floodRequests distinct junk presentations per adapter, sent by
	// floodWorkers at once, each flood ending after floodLimit at the
	// latest.
	floodRequests = 2400
	floodWorkers  = 8
	floodLimit    = 20 * time.Second
	// floodWarmup requests of the same kind come first, so that buffer
	// pools, connections and the heap are at their working size before
	// the first RSS is read.
	floodWarmup = 200
	// floodValueBytes is the junk value of one request over gRPC and the
	// HTTP check endpoint: one certificate header of 60 KB, under the 64 KiB
	// that identity.DefaultMaxHeaderBytes and the verdict cache accept.
	floodValueBytes = 60_000
	// floodReadBytes is the junk ssl-client-cert that comes with a value
	// in a header certgate does not read (see junkSource.headers).
	floodReadBytes = 1_000
	// maxFloodGrowth is how much the resident set of certgate may grow
	// over one flood of floodRequests junk presentations.
	maxFloodGrowth = 24 << 20
)

// floodHeaderTrust is the part of certgate's configuration that makes it
// believe every family of forwarded certificate headers on both listeners,
// gRPC included, from 127.0.0.1 (the test and NGINX), so that the junk is
// actually read. It is the one place to adapt when the header-trust keys
// change; the tests check that it works before they flood (a viewer's
// certificate in Ssl-Client-Cert must be allowed).
func floodHeaderTrust() string {
	return `headers:
  http:
    trust: [ssl_client_cert, xfcc, client_cert]
    trusted_proxies: [127.0.0.1/32]
  grpc:
    trust: [ssl_client_cert, xfcc, client_cert]
    trusted_proxies: [127.0.0.1/32]
`
}

// floodCache is a verdict cache that one flood overflows many times over
// (room for 64 verified verdicts and 4 failures), so that the flood shows
// whether junk pushes out the verdicts of good clients.
const floodCache = `cache:
  verdicts:
    max_entries: 64
`

// goodClientEvery is how often a good client asks during a flood: long
// enough for more junk than floodCache holds to arrive in between.
const goodClientEvery = 20 * time.Millisecond

// startFloodCertgate runs `certgate serve` for w with forwarded headers
// believed, the small floodCache, no admin API and no file watching (a
// reload would drop the verdict cache and hide what it keeps).
func startFloodCertgate(t *testing.T, w *world) *certgateProc {
	t.Helper()
	return startFaultCertgate(t, w, faultConfig{headers: floodHeaderTrust(), noAdmin: true, noWatch: true, cache: floodCache})
}

// TestFaultFloodOfJunkCertificateHeaders sends certgate, in its own
// process, thousands of requests without a certificate that carry junk in
// the forwarded certificate headers, every value different, over each
// adapter: as Envoy over ext_authz gRPC, straight to the HTTP check
// endpoint, and as a client through a real NGINX with the shipped snippet
// in front. Every one must be a 401, and what certgate keeps of them must
// stay small: its resident set may grow by less than maxFloodGrowth.
func TestFaultFloodOfJunkCertificateHeaders(t *testing.T) {
	t.Run("over ext_authz gRPC", func(t *testing.T) {
		w := newWorld(t)
		p := startFloodCertgate(t, w)
		conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		authz := authv3.NewAuthorizationClient(conn)
		check := func(ctx context.Context, headers map[string]string) (bool, int, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			resp, err := authz.Check(ctx, client.EnvoyRequest(client.Check{Method: "GET", Target: "/api/v1/vm", Host: "anka.example", Headers: headers}))
			if err != nil {
				return false, 0, fmt.Errorf("grpc %s", status.Code(err))
			}
			if resp.GetStatus().GetCode() == 0 {
				return true, http.StatusOK, nil
			}
			return false, int(resp.GetDeniedResponse().GetStatus().GetCode()), nil
		}
		viewer := func(ctx context.Context) (bool, int, error) {
			return check(ctx, map[string]string{"ssl-client-cert": client.EscapePEM(w.clients["viewer"]), "ssl-client-verify": "SUCCESS"})
		}
		runFlood(t, p, floodRun{
			scenario: "junk certificate headers over gRPC",
			control:  viewer,
			send: func(ctx context.Context, junk *junkSource, i int) (bool, int, error) {
				return check(ctx, junk.headers(i))
			},
		})
	})
	t.Run("over the HTTP check endpoint", func(t *testing.T) {
		w := newWorld(t)
		p := startFloodCertgate(t, w)
		tr := &http.Transport{MaxIdleConnsPerHost: floodWorkers}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		check := func(ctx context.Context, pem []byte, headers map[string]string) (bool, int, error) {
			req, err := client.NGINXRequest("http://"+p.httpAddr, client.Check{CertPEM: pem, Method: "GET", Target: "/api/v1/vm", Host: "anka.example"})
			if err != nil {
				return false, 0, err
			}
			// Set after NGINXRequest, which says NONE when it sends no
			// certificate of its own.
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			return doHTTP(c, req.WithContext(ctx), "http")
		}
		runFlood(t, p, floodRun{
			scenario: "junk certificate headers over the HTTP check endpoint",
			control:  func(ctx context.Context) (bool, int, error) { return check(ctx, w.clients["viewer"], nil) },
			send: func(ctx context.Context, junk *junkSource, i int) (bool, int, error) {
				return check(ctx, nil, junk.headers(i))
			},
		})
	})
	t.Run("through NGINX with the shipped snippet", func(t *testing.T) {
		w, keys, root, clientCA := newWorldWithKeys(t)
		nginxBinary(t) // skips, or fails in CI, before certgate starts
		p := startFloodCertgate(t, w)
		n := startNGINX(t, w, p.httpAddr, keys, root, clientCA)
		tr := &http.Transport{TLSClientConfig: n.tlsConfig(t, ""), MaxIdleConnsPerHost: floodWorkers}
		defer tr.CloseIdleConnections()
		anonymous := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		viewer := n.client("viewer")
		get := func(ctx context.Context, c *http.Client, headers []header) (bool, int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+n.addr+"/api/v1/vm", nil)
			if err != nil {
				return false, 0, err
			}
			for _, h := range headers {
				req.Header.Set(h.name, h.value)
			}
			return doHTTP(c, req, "nginx")
		}
		names := headersNGINXPasses(t)
		shape := biggestNGINXHeaders(t, names, func(headers []header) int {
			_, code, err := get(context.Background(), anonymous, headers)
			if err != nil {
				t.Fatalf("probing NGINX's header limits: %v", err)
			}
			return code
		})
		runFlood(t, p, floodRun{
			scenario: "junk certificate headers through NGINX",
			control:  func(ctx context.Context) (bool, int, error) { return get(ctx, viewer, nil) },
			send: func(ctx context.Context, junk *junkSource, i int) (bool, int, error) {
				return get(ctx, anonymous, junk.nginxHeaders(names, shape, i))
			},
			shape: shape.String(),
		})
	})
}

// floodRun is one adapter's flood.
type floodRun struct {
	scenario string
	// control asks for a request certgate must allow (the viewer's
	// certificate as this adapter carries it), before and after the flood.
	control func(ctx context.Context) (allowed bool, status int, err error)
	// send sends junk request i.
	send func(ctx context.Context, junk *junkSource, i int) (allowed bool, status int, err error)
	// shape describes the junk, when it is not one floodValueBytes value.
	shape string
}

// runFlood checks that the control is allowed (so the headers are
// believed and the junk is read), warms certgate up, reads its settled
// RSS, floods it while the control asks every goodClientEvery (a good
// client, which must be allowed from the verdict cache every time), reads
// the settled RSS again and reports both.
func runFlood(t *testing.T, p *certgateProc, f floodRun) {
	t.Helper()
	ctx := context.Background()
	if allowed, status, err := f.control(ctx); err != nil || !allowed {
		t.Fatalf("the control request (the viewer's certificate) is not allowed: status %d, %v; "+
			"the listener does not believe forwarded headers, so the junk would not be read (adapt floodHeaderTrust)\n%s",
			status, err, p.logTail())
	}
	warm := flood(ctx, f.send, 'w', floodWarmup, floodLimit)
	checkLoad(t, warm)
	rssStart := settledRSS(t, p)
	entriesStart := metricValue(t, p, "certgate_verdict_cache_entries")
	heapStart := metricValue(t, p, "go_memstats_heap_inuse_bytes")

	hitsStart := metricValue(t, p, verdictHits)
	good := startGoodClient(ctx, f.control)
	report := flood(ctx, f.send, 'f', floodRequests, floodLimit)
	goodReport := good.stop()
	hits := metricValue(t, p, verdictHits) - hitsStart
	rssEnd := settledRSS(t, p)
	entriesEnd := metricValue(t, p, "certgate_verdict_cache_entries")
	heapEnd := metricValue(t, p, "go_memstats_heap_inuse_bytes")
	controlAllowed, controlStatus, controlErr := f.control(ctx)

	alive := p.alive()
	exit := p.stop()
	shape := f.shape
	if shape == "" {
		shape = fmt.Sprintf("one %d-byte value (and a %d-byte ssl-client-cert)", floodValueBytes, floodReadBytes)
	}
	growth := rssEnd - rssStart
	reportFault(t, faultResult{
		Scenario: f.scenario, Load: report, RSSStart: rssStart, RSSEnd: rssEnd,
		Extra: fmt.Sprintf("RSS growth %.1f MiB (limit %.0f MiB) after %d warm-up requests, %s per request, heap in use %.1f→%.1f MiB, cached verdicts %.0f→%.0f, good client %s with %.0f verdict cache hits, exit %s",
			mib(growth), mib(maxFloodGrowth), floodWarmup, shape, mib(int64(heapStart)), mib(int64(heapEnd)), entriesStart, entriesEnd, goodReport, hits, exitText(exit)),
	})
	if !alive {
		t.Fatalf("certgate died under the flood\n%s", p.logTail())
	}
	if exit != nil {
		t.Errorf("certgate exit after SIGTERM: %v\n%s", exit, p.logTail())
	}
	checkLoad(t, report)
	if report.Requests < floodRequests {
		t.Errorf("only %d of %d junk requests were sent within %v", report.Requests, floodRequests, floodLimit)
	}
	if goodReport.allowed < 10 || goodReport.denied+goodReport.failed > 0 {
		t.Errorf("a good client during the flood: %s, want every request allowed (at least 10)", goodReport)
	}
	if hits < float64(goodReport.allowed) {
		t.Errorf("%.0f verdict cache hits during the flood for %d requests of a good client whose verdict was cached: the junk pushed it out", hits, goodReport.allowed)
	}
	if controlErr != nil || !controlAllowed {
		t.Errorf("after the flood the viewer is not allowed: status %d, %v", controlStatus, controlErr)
	}
	if growth >= maxFloodGrowth {
		t.Errorf("%d unauthenticated requests grew certgate's RSS by %.1f MiB (%.1f→%.1f MiB), limit %.0f MiB: what a client without a certificate sends must not be kept",
			report.Requests, mib(growth), mib(rssStart), mib(rssEnd), mib(maxFloodGrowth))
	}
}

// verdictHits is the series of verdict cache hits; junk, every value
// different, never hits.
const verdictHits = `certgate_verdict_cache_requests_total{result="hit"}`

// goodClient asks as a client with a valid certificate, every
// goodClientEvery, until stopped.
type goodClient struct {
	cancel context.CancelFunc
	done   chan goodReport
}

// goodReport counts a good client's answers.
type goodReport struct{ allowed, denied, failed int }

func (r goodReport) String() string {
	return fmt.Sprintf("%d allowed, %d denied, %d failed", r.allowed, r.denied, r.failed)
}

func startGoodClient(ctx context.Context, ask func(context.Context) (bool, int, error)) *goodClient {
	ctx, cancel := context.WithCancel(ctx)
	g := &goodClient{cancel: cancel, done: make(chan goodReport, 1)}
	go func() {
		var r goodReport
		tick := time.NewTicker(goodClientEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				g.done <- r
				return
			case <-tick.C:
			}
			switch allowed, _, err := ask(ctx); {
			case err != nil && ctx.Err() != nil:
			case err != nil:
				r.failed++
			case allowed:
				r.allowed++
			default:
				r.denied++
			}
		}
	}()
	return g
}

// stop ends the client and returns its answers.
func (g *goodClient) stop() goodReport {
	g.cancel()
	return <-g.done
}
