package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki/pkitest"
)

// TestWarmPoolDecidesAsInline holds a check handed to a worker to what the
// caller's goroutine would decide: the same Result, one decision line, and
// a cancelled request denied, not left waiting, with a pool idle, absent
// or closed.
func TestWarmPoolDecidesAsInline(t *testing.T) {
	closed := newWarmPool(1)
	closed.close()
	for _, tt := range []struct {
		name   string
		pool   *warmPool
		cancel bool
		want   int
	}{
		{"an idle worker decides", newWarmPool(2), false, 200},
		{"no pool decides inline", nil, false, 200},
		{"a closed pool decides inline", closed, false, 200},
		{"a cancelled request is denied on a worker", newWarmPool(1), true, 500},
		{"a cancelled request is denied inline", nil, true, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.pool.close()
			c, inter := newTestChecker(t)
			var lines bytes.Buffer
			c.decisions = NewDecisionLog(&lines, 1)
			req := envoyShaped(inter.Leaf("jenkins", pkitest.Orgs("ci")).CertPEM(), "GET", "/registry/pull/image-1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			res := tt.pool.check(ctx, c, req)
			if res.Status != tt.want || res.Allow != (tt.want == 200) {
				t.Errorf("check = status %d allow %v (%s), want %d", res.Status, res.Allow, res.Reason, tt.want)
			}
			if n := strings.Count(lines.String(), "\n"); n != 1 {
				t.Errorf("%d decision lines, want 1:\n%s", n, lines.String())
			}
		})
	}
}

// TestOnlyAFreshGoroutineHandsOff: a connection's later requests run on
// the goroutine its first one grew, so only the first, or one of a server
// that does not count them, or an HTTP/2 stream, goes to a worker.
func TestOnlyAFreshGoroutineHandsOff(t *testing.T) {
	conn := countRequests(context.Background(), nil)
	request := func(ctx context.Context, major int) *http.Request {
		r := httptest.NewRequestWithContext(ctx, "GET", CheckPath, nil)
		r.ProtoMajor = major
		return r
	}
	for _, tt := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"a connection's first request", request(conn, 1), true},
		{"its second request", request(conn, 1), false},
		{"its third request", request(conn, 1), false},
		{"an HTTP/2 request", request(countRequests(context.Background(), nil), 2), true},
		{"a request of a server that does not count", request(context.Background(), 1), true},
	} {
		if got := onFreshGoroutine(tt.r); got != tt.want {
			t.Errorf("%s: onFreshGoroutine = %v, want %v", tt.name, got, tt.want)
		}
	}
}
