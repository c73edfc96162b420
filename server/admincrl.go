package server

import (
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/certgate/certgate/crlfetch"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// crlFetchStatus describes the sources of f for GetStatus.
func crlFetchStatus(f *crlfetch.Fetcher) *adminv1.CRLFetchStatus {
	ts := func(t time.Time) *timestamppb.Timestamp {
		if t.IsZero() {
			return nil
		}
		return timestamppb.New(t)
	}
	l := f.LearnStatus()
	out := &adminv1.CRLFetchStatus{LearnedRefused: l.Refused, LearnedDropped: l.Dropped}
	for _, s := range f.Status() {
		out.Sources = append(out.Sources, &adminv1.CRLSource{
			Url: s.URL, Learned: s.Learned, Available: s.Available, FromCache: s.FromCache,
			LastSuccess: ts(s.LastSuccess), LastAttempt: ts(s.LastAttempt), NextAttempt: ts(s.NextAttempt),
			Etag: s.ETag, LastModified: s.LastModified,
			Number: s.Number, ThisUpdate: ts(s.ThisUpdate), NextUpdate: ts(s.NextUpdate),
			LastError: s.LastError, Failures: uint32(min(uint64(s.Failures), math.MaxUint32)),
		})
	}
	return out
}
