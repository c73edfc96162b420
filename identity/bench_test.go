package identity_test

import (
	"testing"

	"github.com/certgate/certgate/identity"
)

// BenchmarkParseIdentity is the identity stage of a cache miss: Envoy's
// URL-encoded PEM (source.certificate) to an Identity — unescape, PEM
// decode, x509 parse, and the Identity with its SHA-256 fingerprint.
func BenchmarkParseIdentity(b *testing.B) {
	f := newFixture(b)
	value := escapeEnvoy(f.alice.CertPEM())
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := identity.Extract(value, nil, identity.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if id, err := identity.New(p.Chain[0], p.Source); err != nil || id.User != "alice" {
			b.Fatalf("user %q, want alice", id.User)
		}
	}
}

// BenchmarkPresentedDigest is the verdict cache's key of every Check: the
// SHA-256 of Envoy's source.certificate.
func BenchmarkPresentedDigest(b *testing.B) {
	f := newFixture(b)
	value := escapeEnvoy(f.alice.CertPEM())
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		identity.PresentedDigest(value, nil, identity.Options{})
	}
}
