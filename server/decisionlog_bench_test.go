package server

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/identity"
)

// BenchmarkDecisionLogWrite is one allowed decision's JSON line (to
// io.Discard): the decision log's share of every request.
func BenchmarkDecisionLogWrite(b *testing.B) {
	d := NewDecisionLog(io.Discard, 1)
	id := &identity.Identity{User: "jenkins", Groups: []string{"ci", "builders"}, Serial: "1f2e3d", FingerprintSHA256: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}
	req := &Request{Method: "GET", Target: "/api/v1/vm", Adapter: "grpc"}
	res := &Result{Status: 200, Allow: true, Reason: "granted", Permission: "list_vms", Identity: id, DecisionID: "abc-1"}
	snap := &Snapshot{Revision: 1}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d.write(ctx, snap, req, res, "envoy", 1234, 0)
	}
}

// BenchmarkDecisionLogRecord is what every decision pays for its line,
// as Checker.record runs it: the choice to log (sampling, the denial rate
// limit) and the JSON line (to io.Discard), with and without a query.
func BenchmarkDecisionLogRecord(b *testing.B) {
	id := &identity.Identity{User: "jenkins", Groups: []string{"ci", "builders"}, Serial: "1f2e3d", FingerprintSHA256: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}
	const query = "/api/v1/vm?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqZW5raW5zIn0.c2lnbmF0dXJl&page=2"
	denied := Result{Status: 403, Reason: "missing_permission", Cause: "missing_permission", Permission: "start_vm", Identity: id}
	for _, bc := range []struct {
		name   string
		target string
		res    Result
		opts   []DecisionLogOption
		// metrics counts the dropped lines, as certgate serve does.
		metrics bool
		// tick is how far the clock moves per decision.
		tick time.Duration
	}{
		{"allowed", "/api/v1/vm", Result{Status: 200, Allow: true, Reason: "granted", Cause: "granted", Permission: "list_vms", Identity: id}, nil, false, time.Millisecond},
		{"allowed with a query", query, Result{Status: 200, Allow: true, Reason: "granted", Cause: "granted", Permission: "list_vms", Identity: id}, nil, false, time.Millisecond},
		// At the default limit and a decision a millisecond, 50 lines a
		// second of 1000 would be written: 1000 a second refills the bucket
		// for every line, through the limiter.
		{"denied with a query", query, denied, []DecisionLogOption{DenyRate(1000, DefaultDenyBurst)}, false, time.Millisecond},
		// The default limit with a clock that stands still: past the burst
		// every line is dropped, and counted.
		{"denied over the limit", query, denied, nil, true, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{DecisionLog: NewDecisionLog(io.Discard, 1, bc.opts...)}
			if bc.metrics {
				opts.Metrics = NewMetrics(prometheus.NewRegistry())
			}
			c := NewChecker(nil, opts)
			req := &Request{Method: "GET", Target: bc.target, Adapter: "grpc"}
			snap := &Snapshot{Revision: 1}
			ctx := context.Background()
			start := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				res := bc.res
				start = start.Add(bc.tick)
				c.record(ctx, snap, req, &res, start, false, false)
			}
		})
	}
}
