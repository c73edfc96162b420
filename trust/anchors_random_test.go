package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// TestAnchoredPathsAgreeOnRandomWorlds: over worlds drawn from a fixed
// seed (two roots, an intermediate and its cross-signature, one below it,
// configured or presented, with random validity, extended key usage,
// pathLenConstraint, name constraints, key usage, an unknown critical
// extension, a root cross-signed by the other, revocations, a chain depth
// limit and the strict profile), a Store with anchors allows every
// chain, at every time, exactly when the same Store building whole paths
// does (a chain failing more than one rule may name another reason).
func TestAnchoredPathsAgreeOnRandomWorlds(t *testing.T) {
	w := anchorWorld{t: t, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	rng := rand.New(rand.NewPCG(1, 2))
	attrs := func() func(*pki.Options) {
		validity, eku, pathLen, extra := rng.IntN(3), rng.IntN(3), rng.IntN(3)-1, rng.IntN(8)
		return func(o *pki.Options) {
			switch extra {
			case 1:
				o.PermittedDNSDomains = []string{"example.com"}
			case 2:
				o.ExtraExtensions = append(o.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}})
			case 3:
				o.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
			case 4:
				o.DNSNames = []string{"evil.test"}
			case 5:
				o.DNSNames = []string{"a.example.com"}
			}
			switch validity {
			case 1:
				o.NotBefore, o.NotAfter = w.now.Add(-time.Hour), w.now.Add(time.Hour)
			case 2:
				o.NotBefore, o.NotAfter = w.now.Add(-48*time.Hour), w.now.Add(24*time.Hour)
			}
			switch eku {
			case 1:
				o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			case 2:
				o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			}
			if pathLen >= 0 {
				o.MaxPathLen, o.MaxPathLenZero = pathLen, pathLen == 0
			}
		}
	}
	times := []time.Time{w.now, w.now.Add(2 * time.Hour), w.now.Add(30 * time.Hour)}
	modes := []CRLMode{CRLModeOff, CRLModeLeaf, CRLModeFullChain}
	allowed, decided := 0, 0
	for i := range 150 {
		r1, r2 := w.root(fmt.Sprintf("r1-%d", i), attrs()), w.root(fmt.Sprintf("r2-%d", i), attrs())
		i1 := w.child(r1, fmt.Sprintf("i1-%d", i), attrs())
		i1x, err := r2.NewIntermediate(w.opts("", attrs(), func(o *pki.Options) { o.Subject, o.Key = i1.Cert.Subject, i1.Key }))
		if err != nil {
			t.Fatal(err)
		}
		// r2 cross-signed by r1: a root's name and key under another root.
		r2x, err := r1.NewIntermediate(w.opts("", attrs(), func(o *pki.Options) { o.Subject, o.Key = r2.Cert.Subject, r2.Key }))
		if err != nil {
			t.Fatal(err)
		}
		i2 := w.child(i1, fmt.Sprintf("i2-%d", i), attrs())
		leaf := w.leaf(i2, fmt.Sprintf("leaf-%d", i), attrs())
		direct := w.leaf(i1, fmt.Sprintf("direct-%d", i), attrs())
		roots := []*x509.Certificate{r1.Cert, r2.Cert}
		inters := []*x509.Certificate{i1.Cert}
		if rng.IntN(2) == 0 {
			inters = append(inters, i1x.Cert)
		}
		if rng.IntN(2) == 0 {
			inters = append(inters, i2.Cert)
		}
		if rng.IntN(3) == 0 {
			inters = append(inters, r2x.Cert)
		}
		revoke := func(ca *pki.CA, certs ...*x509.Certificate) *x509.RevocationList {
			var out []*x509.Certificate
			for _, c := range certs {
				if rng.IntN(4) == 0 {
					out = append(out, c)
				}
			}
			return w.crl(ca, out...)
		}
		crls := []*x509.RevocationList{revoke(r1, i1.Cert, r2x.Cert), revoke(r2, i1x.Cert), revoke(i1, i2.Cert, direct), revoke(i2, leaf)}
		mode := modes[rng.IntN(len(modes))]
		s, err := NewStore(roots, inters, crls, mode)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(3) == 0 {
			if s, err = s.WithMaxChainDepth(1); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(3) == 0 {
			if s, err = s.WithProfile(ProfileStrict); err != nil {
				t.Fatal(err)
			}
		}
		whole, anchored := *s, *s
		whole.anchors = nil
		chains := [][]*x509.Certificate{{leaf}, {leaf, i2.Cert}, {leaf, i2.Cert, i1x.Cert}, {direct}, {direct, i1x.Cert}, {i1.Cert}, {i1x.Cert}, {direct, i1x.Cert, r2x.Cert}, {leaf, i2.Cert, i1x.Cert, r2x.Cert}}
		for _, at := range times {
			for ci, chain := range chains {
				for _, purpose := range []Purpose{PurposeClient, PurposeAny} {
					decided++
					_, wantErr := whole.Verify(chain, VerifyOptions{Now: at, Purpose: purpose})
					_, gotErr := anchored.Verify(chain, VerifyOptions{Now: at, Purpose: purpose})
					if wantErr == nil {
						allowed++
					}
					if (gotErr == nil) != (wantErr == nil) {
						t.Errorf("world %d (%s, %d intermediates), chain %d at %v, purpose %v: anchored %v; whole paths %v", i, mode, len(inters), ci, at, purpose, gotErr, wantErr)
					}
				}
			}
		}
	}
	// The worlds must exercise both answers, or the comparison says little.
	if allowed < decided/40 || allowed > decided*9/10 {
		t.Errorf("%d of %d chains allowed; the worlds are too one-sided", allowed, decided)
	}
	t.Logf("%d of %d chains allowed", allowed, decided)
}
