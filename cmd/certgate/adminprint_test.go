package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// TestStatusShowsTheBundle: `certgate status` says where the bundle comes
// from, which one serves, and why the last one did not, even before any
// snapshot serves.
func TestStatusShowsTheBundle(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	var out strings.Builder
	printStatus(&out, &adminv1.GetStatusResponse{Version: "v", Bundles: []*adminv1.Bundle{{
		Name: "certgate", Url: "https://b/certgate.tar.gz", Revision: "r7", Etag: `"e7"`, ActivatedAt: at, CheckedAt: at,
		LastError: "download: server replied with Internal Server Error", LastErrorAt: at, Activations: 3, Failures: 2, FromDisk: true,
	}}})
	for _, want := range []string{
		"no snapshot loaded",
		`bundle     certgate from https://b/certgate.tar.gz: revision r7, ETag "e7", read from disk`,
		"activated 2026-12-01T10:00:00Z",
		"3 activations, 2 failures",
		"error at 2026-12-01T10:00:00Z",
		"Internal Server Error",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}
}
