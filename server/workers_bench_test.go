package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
)

// missTargets are paths the shipped policy allows to group ci by one
// wildcard route (/registry/pull/*), each a key of its own: cycled
// through, every decision misses the policy's decision cache.
func missTargets() []string {
	out := make([]string, 3*policy.DefaultDecisionCacheSize)
	for i := range out {
		out[i] = fmt.Sprintf("/registry/pull/image-%d", i)
	}
	return out
}

// BenchmarkCheckFreshGoroutine is a Check that misses the decision cache
// started on a goroutine of its own, as net/http and gRPC (without stream
// workers) start one per connection or call: inline, the evaluation grows
// the new goroutine's stack every time; handed to a warmPool, it runs on a
// stack that has grown before. BenchmarkCheck hides the difference, as its
// goroutine's stack grows once.
func BenchmarkCheckFreshGoroutine(b *testing.B) {
	for _, bc := range []struct {
		name    string
		workers int
	}{{"handoff=inline", 0}, {"handoff=warm", streamWorkers()}} {
		b.Run(bc.name, func(b *testing.B) {
			c, inter := newTestChecker(b)
			leaf := inter.Leaf("jenkins", pkitest.Orgs("ci"))
			base := envoyShaped(leaf.CertPEM(), "GET", "/")
			var pool *warmPool
			if bc.workers > 0 {
				pool = newWarmPool(bc.workers)
				defer pool.close()
			}
			targets := missTargets()
			ctx := context.Background()
			done := make(chan Result)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				req := *base
				req.Target = targets[i%len(targets)]
				i++
				go func() { done <- pool.check(ctx, c, &req) }()
				if res := <-done; !res.Allow {
					b.Fatalf("denied: %s", res.Reason)
				}
			}
		})
	}
}

// BenchmarkGRPCCheckMiss is ext_authz Check calls over a real gRPC
// connection on 127.0.0.1, every one a decision cache miss, with 2 or 8
// calls in flight per P (16 on 2 cores is what certgate bench sends) and
// gRPC starting a goroutine per stream (0 workers) or serving them on 1,
// 2, 4 or 8 stream workers per P.
func BenchmarkGRPCCheckMiss(b *testing.B) {
	p := runtime.GOMAXPROCS(0)
	for _, perP := range []int{2, 8} {
		for _, workers := range []int{0, p, 2 * p, 4 * p, 8 * p} {
			b.Run(fmt.Sprintf("inflight=%d/workers=%d", perP*p, workers), func(b *testing.B) {
				benchGRPCCheckMiss(b, perP, workers)
			})
		}
	}
}

func benchGRPCCheckMiss(b *testing.B, perP, workers int) {
	c, inter := newTestChecker(b)
	leaf := inter.Leaf("jenkins", pkitest.Orgs("ci")).CertPEM()
	targets := missTargets()
	reqs := make([]*authv3.CheckRequest, len(targets))
	for i, t := range targets {
		reqs[i] = client.EnvoyRequest(client.Check{CertPEM: leaf, Method: "GET", Target: t, Host: "anka.example"})
	}
	cl := benchGRPCClient(b, c, workers)
	ctx := context.Background()
	b.SetParallelism(perP)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := cl.Check(ctx, reqs[next.Add(1)%uint64(len(reqs))])
			if err != nil {
				b.Error(err)
				return
			}
			if resp.GetOkResponse() == nil {
				b.Errorf("denied: %v", resp.GetStatus())
				return
			}
		}
	})
}

// benchGRPCClient serves c's ext_authz on 127.0.0.1 with workers stream
// workers and returns a client of it; both stop with b.
func benchGRPCClient(b *testing.B, c *Checker, workers int) authv3.AuthorizationClient {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv, _ := newGRPCServer(c, dataListener{}, false, workers)
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}

// BenchmarkHTTPCheckMiss is NGINX auth_request subrequests over real HTTP
// on 127.0.0.1, one at a time, every one a decision cache miss: with a new
// connection each (auth_request without upstream keepalive) or one kept
// alive, and the check run on net/http's connection goroutine (pool=false)
// or, as servers.Run does, handed to a warmPool on a connection's first
// request.
func BenchmarkHTTPCheckMiss(b *testing.B) {
	for _, keepAlive := range []bool{false, true} {
		for _, pooled := range []bool{false, true} {
			b.Run(fmt.Sprintf("keepalive=%v/pool=%v", keepAlive, pooled), func(b *testing.B) {
				benchHTTPCheckMiss(b, keepAlive, pooled)
			})
		}
	}
}

func benchHTTPCheckMiss(b *testing.B, keepAlive, pooled bool) {
	c, inter := newTestChecker(b)
	leaf := inter.Leaf("jenkins", pkitest.Orgs("ci")).CertPEM()
	var pool *warmPool
	if pooled {
		pool = newWarmPool(streamWorkers())
		b.Cleanup(pool.close)
	}
	srv := httptest.NewUnstartedServer(newHTTPMux(c, loopbackTrust, nil, nil, pool))
	srv.Config.ConnContext = countRequests // as servers.Run sets it
	srv.Start()
	b.Cleanup(srv.Close)
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: !keepAlive}}
	b.Cleanup(cl.CloseIdleConnections)
	targets := missTargets()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		req, err := client.NGINXRequest(srv.URL, client.Check{CertPEM: leaf, Method: "GET", Target: targets[i%len(targets)], Host: "anka.example"})
		if err != nil {
			b.Fatal(err)
		}
		i++
		resp, err := cl.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
