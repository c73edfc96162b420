package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// FuzzLoadCRL feeds arbitrary bytes, PEM or DER, to the CRL loader and, when
// they load, verifies a chain against them: no panic, and a CRL that does
// not verify with its issuer never makes a store.
func FuzzLoadCRL(f *testing.F) {
	root := pkitest.New(f, "root")
	inter := root.ChildCA("inter")
	leaf := inter.Leaf("alice").Cert
	good := inter.CRL(leaf)
	critical := inter.SignCRL(&x509.RevocationList{
		Number: big.NewInt(2), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: []byte{0x30, 0x00}}},
	})
	for _, seed := range [][]byte{
		good.Raw,
		pki.EncodeCRLPEM(good.Raw),
		append(pki.EncodeCRLPEM(good.Raw), pki.EncodeCRLPEM(root.CRL().Raw)...),
		pki.EncodeCRLPEM(critical.Raw),
		[]byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
		[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		{0x30, 0x00},
	} {
		f.Add(seed)
	}
	rootCRL := root.CRL()
	f.Fuzz(func(t *testing.T, data []byte) {
		crls, err := ParseCRLs(data)
		if err != nil {
			return
		}
		if len(crls) == 0 {
			t.Fatal("no CRL and no error")
		}
		store, err := newStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, append(crls, rootCRL), make([]string, len(crls)+1), CRLModeFullChain, false)
		if err != nil {
			return
		}
		for _, c := range crls {
			if string(c.RawIssuer) == string(inter.Cert.RawSubject) && c.CheckSignatureFrom(inter.Cert) != nil {
				t.Fatal("a CRL that does not verify with its configured issuer made a store")
			}
		}
		_, _ = store.Verify([]*x509.Certificate{leaf}, VerifyOptions{})
		_ = store.Status()
	})
}
