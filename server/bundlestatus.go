package server

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/certgate/certgate/bundles"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// bundleStatus is the GetStatus form of a bundle's status; a zero time is
// absent.
func bundleStatus(b bundles.Status) *adminv1.Bundle {
	out := &adminv1.Bundle{
		Name: b.Name, Url: b.URL, Revision: b.Revision, Etag: b.ETag,
		LastError: b.LastError, Activations: b.Activations, Failures: b.Failures, FromDisk: b.FromDisk,
	}
	for _, t := range []struct {
		at  time.Time
		dst **timestamppb.Timestamp
	}{{b.ActivatedAt, &out.ActivatedAt}, {b.CheckedAt, &out.CheckedAt}, {b.LastErrorAt, &out.LastErrorAt}} {
		if !t.at.IsZero() {
			*t.dst = timestamppb.New(t.at)
		}
	}
	return out
}
