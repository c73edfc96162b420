package server

import (
	"context"
	"io"
	"testing"

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
		d.write(ctx, snap, req, res, "envoy", 1234)
	}
}
