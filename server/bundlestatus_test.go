package server

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/certgate/certgate/bundles"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// TestGetStatusReportsEachBundle: `certgate status` shows what the bundle
// source reports, a zero time as absent.
func TestGetStatusReportsEachBundle(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	svc := &AdminService{Checker: NewChecker(nil, Options{}), Bundles: func() []bundles.Status {
		return []bundles.Status{{Name: "certgate", URL: "https://b/certgate.tar.gz", Revision: "r7", ETag: `"e7"`,
			ActivatedAt: at, CheckedAt: at.Add(time.Minute), LastError: "download: 500", LastErrorAt: at.Add(2 * time.Minute),
			Activations: 3, Failures: 1}}
	}}
	st, err := svc.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []*adminv1.Bundle{{Name: "certgate", Url: "https://b/certgate.tar.gz", Revision: "r7", Etag: `"e7"`,
		ActivatedAt: timestamppb.New(at), CheckedAt: timestamppb.New(at.Add(time.Minute)),
		LastError: "download: 500", LastErrorAt: timestamppb.New(at.Add(2 * time.Minute)), Activations: 3, Failures: 1}}
	if diff := cmp.Diff(want, st.GetBundles(), protocmp.Transform()); diff != "" {
		t.Errorf("bundles (-want +got):\n%s", diff)
	}
	if st.GetSnapshot() != nil {
		t.Error("a snapshot before any bundle activated")
	}
}
