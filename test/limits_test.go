package test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/server"
)

// Oversized input is refused — by the transport (gRPC RESOURCE_EXHAUSTED,
// which Envoy turns into a deny; HTTP 431) or by certgate (401) — and the
// service answers the next, ordinary request as before.

func TestOversizedGRPCInputIsRefusedAndServingContinues(t *testing.T) {
	t.Parallel() // it waits out a timeout
	w := newWorld(t)
	r := startCertgate(t, w, trustDev)
	authz := r.authzClient(t)
	ctx := context.Background()
	viewer := func() *client.Check {
		return &client.Check{CertPEM: w.clients["viewer"], Method: "GET", Target: "/api/v1/vm"}
	}
	allowed := func(t *testing.T) {
		t.Helper()
		resp, err := authz.Check(ctx, client.EnvoyRequest(*viewer()))
		if err != nil {
			t.Fatalf("ordinary Check after the oversized one: %v", err)
		}
		if got := outcome(t, resp); got.HTTPStatus != http.StatusOK {
			t.Fatalf("ordinary Check after the oversized one: status %d, want 200", got.HTTPStatus)
		}
	}
	t.Run("a message over MaxGRPCMessageBytes", func(t *testing.T) {
		c := viewer()
		c.Headers = map[string]string{"x-padding": strings.Repeat("a", server.MaxGRPCMessageBytes+1)}
		_, err := authz.Check(ctx, client.EnvoyRequest(*c))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("Check error %v, want RESOURCE_EXHAUSTED", err)
		}
		allowed(t)
	})
	t.Run("call metadata over MaxGRPCHeaderListBytes", func(t *testing.T) {
		md := metadata.Pairs("x-padding", strings.Repeat("a", server.MaxGRPCHeaderListBytes+1))
		_, err := authz.Check(metadata.NewOutgoingContext(ctx, md), client.EnvoyRequest(*viewer()))
		if err == nil {
			t.Fatal("Check with oversized metadata succeeded")
		}
		allowed(t)
	})
	t.Run("a certificate value over identity's limit is a logged 401", func(t *testing.T) {
		before := len(r.logs.Records(t, "decision"))
		req := client.EnvoyRequest(*viewer())
		req.Attributes.Source.Certificate += strings.Repeat("%0A", identity.DefaultMaxHeaderBytes/3+1)
		resp, err := authz.Check(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if got := outcome(t, resp); got.HTTPStatus != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", got.HTTPStatus)
		}
		r.expectDecision(t, before, http.StatusUnauthorized, "grpc")
		allowed(t)
	})
	t.Run("a connection that never says hello is cut off", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", r.grpcAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if err := conn.SetReadDeadline(start.Add(server.GRPCHandshakeTimeout + 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(conn) // the server's settings frame, then EOF
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v, want it closed after the handshake timeout (%v)", time.Since(start), server.GRPCHandshakeTimeout)
		}
		allowed(t)
	})
	t.Run("oversized and ordinary calls at once", func(t *testing.T) {
		big := viewer()
		big.Headers = map[string]string{"x-padding": strings.Repeat("a", 2*server.MaxGRPCMessageBytes)}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					if _, err := authz.Check(ctx, client.EnvoyRequest(*big)); status.Code(err) != codes.ResourceExhausted {
						errs <- errors.New("oversized call: " + status.Code(err).String())
					}
					return
				}
				resp, err := authz.Check(ctx, client.EnvoyRequest(*viewer()))
				if err != nil || resp.GetOkResponse() == nil {
					errs <- errors.New("ordinary call was not allowed")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		allowed(t)
	})
}

func TestOversizedHTTPInputIsRefusedAndServingContinues(t *testing.T) {
	t.Parallel() // it waits out a timeout
	w := newWorld(t)
	r := startCertgate(t, w, trustDev)
	check := func(t *testing.T, extra [][2]string) rawResponse {
		t.Helper()
		conn, err := net.DialTimeout("tcp", r.httpAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		headers := append([][2]string{
			{"X-Original-Method", "GET"}, {"X-Original-URI", "/api/v1/vm"},
			{"Ssl-Client-Cert", client.EscapePEM(w.clients["viewer"])}, {"Ssl-Client-Verify", "SUCCESS"},
		}, extra...)
		return rawRequest(t, conn, "GET", "/v1/check", headers)
	}
	allowed := func(t *testing.T) {
		t.Helper()
		if resp := check(t, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("ordinary check after the oversized one: status %d, want 200", resp.StatusCode)
		}
	}
	t.Run("headers over MaxHTTPHeaderBytes", func(t *testing.T) {
		before := len(r.logs.Records(t, "decision"))
		resp := check(t, [][2]string{{"X-Padding", strings.Repeat("a", server.MaxHTTPHeaderBytes+8192)}})
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
		r.expectDecision(t, before, 0, "http")
		allowed(t)
	})
	t.Run("a certificate header over identity's limit is a logged 401", func(t *testing.T) {
		before := len(r.logs.Records(t, "decision"))
		conn, err := net.DialTimeout("tcp", r.httpAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp := rawRequest(t, conn, "GET", "/v1/check", [][2]string{
			{"X-Original-Method", "GET"}, {"X-Original-URI", "/api/v1/vm"},
			{"Ssl-Client-Cert", client.EscapePEM(w.clients["viewer"]) + strings.Repeat("%0A", identity.DefaultMaxHeaderBytes/3+1)},
			{"Ssl-Client-Verify", "SUCCESS"},
		})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		r.expectDecision(t, before, http.StatusUnauthorized, "http")
		allowed(t)
	})
	t.Run("a chain longer than the limit is a 401", func(t *testing.T) {
		var chain []byte
		for range identity.DefaultMaxChainLength + 1 {
			chain = append(chain, w.clients["viewer"]...)
		}
		xfcc := `Cert="` + client.EscapePEM(w.clients["viewer"]) + `";Chain="` + client.EscapePEM(chain) + `"`
		conn, err := net.DialTimeout("tcp", r.httpAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp := rawRequest(t, conn, "GET", "/v1/check", [][2]string{{"X-Original-Method", "GET"}, {"X-Original-URI", "/api/v1/vm"}, {"X-Forwarded-Client-Cert", xfcc}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		allowed(t)
	})
	t.Run("a client that never finishes its headers is cut off", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", r.httpAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET /v1/check HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := conn.SetReadDeadline(start.Add(server.HTTPReadHeaderTimeout + 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v, want it closed after ReadHeaderTimeout (%v)", time.Since(start), server.HTTPReadHeaderTimeout)
		}
		allowed(t)
	})
}
