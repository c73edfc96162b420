package trust

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// revocationWorld is root → intermediate → leaf with an intermediate CRL of
// n revoked serials, none of them the leaf's, and the verified path.
func revocationWorld(b *testing.B, n int) (*Store, []*x509.Certificate, time.Time) {
	b.Helper()
	root := pkitest.New(b, "root")
	inter := root.ChildCA("inter")
	leaf := inter.Leaf("alice", pkitest.Serial(int64(n)+1000)).Cert
	revoked := make([]pki.Revocation, n)
	for i := range revoked {
		revoked[i] = pki.Revocation{Serial: big.NewInt(int64(i + 1))}
	}
	store, err := NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert},
		[]*x509.RevocationList{root.CRL(), inter.CRLWith(pki.CRLOptions{Revoked: revoked})}, CRLModeFullChain)
	if err != nil {
		b.Fatal(err)
	}
	return store, []*x509.Certificate{leaf, inter.Cert, root.Cert}, time.Now()
}

// BenchmarkRevocation is the CRL check of a verified depth-2 path (leaf and
// intermediate, each against its issuer's CRL) as the intermediate's CRL
// grows: a map lookup per certificate, so the size must not show.
func BenchmarkRevocation(b *testing.B) {
	for _, n := range []int{10, 10000, 100000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			store, path, now := revocationWorld(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.checkRevocation(path, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCRLSize is a whole cold verification (no cache) as the
// intermediate's CRL grows.
func BenchmarkVerifyCRLSize(b *testing.B) {
	for _, n := range []int{10, 10000, 100000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			store, path, now := revocationWorld(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := store.Verify(path[:1], VerifyOptions{Now: now}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
