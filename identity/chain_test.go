package identity_test

import (
	"crypto/x509"
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
)

func TestCheckChain(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		chain []*x509.Certificate
		opts  identity.Options
		want  error // nil, or what the error wraps
	}{
		{"a leaf alone is a chain", []*x509.Certificate{f.alice.Cert}, identity.Options{}, nil},
		{"a leaf with its intermediate is a chain", []*x509.Certificate{f.alice.Cert, f.inter.Cert}, identity.Options{}, nil},
		{"the default limit holds ten certificates", slices.Repeat([]*x509.Certificate{f.inter.Cert}, 10), identity.Options{}, nil},
		{"an eleventh certificate is over the default limit", slices.Repeat([]*x509.Certificate{f.inter.Cert}, 11), identity.Options{}, identity.ErrMalformed},
		{"a chain over a set limit is malformed", []*x509.Certificate{f.alice.Cert, f.inter.Cert}, identity.Options{MaxChainLength: 1}, identity.ErrMalformed},
		{"an empty chain presents no certificate", nil, identity.Options{}, identity.ErrNoCertificate},
		{"a missing certificate is malformed", []*x509.Certificate{f.alice.Cert, nil}, identity.Options{}, identity.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := identity.CheckChain(identity.Presented{Chain: tt.chain, Source: identity.SourceEnvoy}, tt.opts)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("CheckChain = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestChainDigest: the digest of a parsed chain follows its certificates,
// their order, its source and the limit, and is never that of a value read
// from a request, not even the Envoy PEM of the same leaf.
func TestChainDigest(t *testing.T) {
	f := newFixture(t)
	digest := func(src identity.Source, opts identity.Options, chain ...*x509.Certificate) identity.Digest {
		return identity.ChainDigest(identity.Presented{Chain: chain, Source: src}, opts)
	}
	env, none := identity.SourceEnvoy, identity.Options{}
	base := digest(env, none, f.alice.Cert, f.inter.Cert)
	if digest(env, none, f.alice.Cert, f.inter.Cert) != base {
		t.Error("one chain has two digests")
	}
	for name, d := range map[string]identity.Digest{
		"another leaf":           digest(env, none, f.bob.Cert, f.inter.Cert),
		"the leaf alone":         digest(env, none, f.alice.Cert),
		"the order reversed":     digest(env, none, f.inter.Cert, f.alice.Cert),
		"another source":         digest(identity.SourceHeader, none, f.alice.Cert, f.inter.Cert),
		"another limit":          digest(env, identity.Options{MaxChainLength: 3}, f.alice.Cert, f.inter.Cert),
		"a missing intermediate": digest(env, none, f.alice.Cert, nil),
	} {
		if d == base {
			t.Errorf("%s has the digest of the leaf with its intermediate", name)
		}
	}
	pemOf := url.PathEscape(string(pki.EncodeCertsPEM(f.alice.Cert)))
	if digest(env, none, f.alice.Cert) == identity.PresentedDigest(pemOf, nil, none) {
		t.Error("a parsed leaf shares its digest with Envoy's PEM of it")
	}
	long := slices.Repeat([]*x509.Certificate{f.inter.Cert}, 11)
	if digest(env, none, long...) != digest(env, none, slices.Repeat([]*x509.Certificate{f.alice.Cert}, 11)...) {
		t.Error("a chain over the limit, refused from its length, is hashed beyond its length")
	}
}

func TestDecodePEMReadsEveryCertificateUpToTheLimit(t *testing.T) {
	f := newFixture(t)
	raw := pki.EncodeCertsPEM(f.alice.Cert, f.inter.Cert)
	chain, err := identity.DecodePEM(raw, 0)
	if err != nil || len(chain) != 2 || !chain[0].Equal(f.alice.Cert) || !chain[1].Equal(f.inter.Cert) {
		t.Fatalf("DecodePEM = %d certificates, %v; want the leaf and its intermediate", len(chain), err)
	}
	if _, err := identity.DecodePEM(raw, 1); !errors.Is(err, identity.ErrMalformed) {
		t.Errorf("DecodePEM of two certificates with a limit of one: %v, want ErrMalformed", err)
	}
	if _, err := identity.DecodePEM([]byte(url.PathEscape(string(raw))), 0); !errors.Is(err, identity.ErrMalformed) {
		t.Errorf("DecodePEM of an escaped PEM: %v, want ErrMalformed", err)
	}
}
