package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

func TestStatusPrintsEachCRLSource(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	var b strings.Builder
	printCRLFetch(&b, &adminv1.CRLFetchStatus{
		Sources: []*adminv1.CRLSource{
			{Url: "http://crl.example.com/ca.crl", Available: true, Number: "42", Etag: `"abc"`, LastSuccess: at, NextAttempt: at, ThisUpdate: at, NextUpdate: at},
			{Url: "http://crl.example.com/learned.crl", Learned: true, LastError: "HTTP 503", Failures: 3},
		},
		LearnedDropped: 2,
	})
	out := b.String()
	for _, want := range []string{
		"CRL URL    http://crl.example.com/ca.crl (configured): CRL #42\n",
		`etag "abc", last-modified -`,
		"CRL URL    http://crl.example.com/learned.crl (learned): no CRL held\n",
		"error (3 in a row): HTTP 503",
		"not learned: 0 outside the allowed prefixes, 2 past max_urls",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printCRLFetch(&b, nil)
	if b.Len() != 0 {
		t.Errorf("printed %q without CRL URLs", b.String())
	}
}
