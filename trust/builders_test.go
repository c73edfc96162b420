package trust_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// Builders for certificates and CRLs that pki.Options cannot describe:
// crypto/x509 templates signed with a pkitest CA's key.

var (
	oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidUPN             = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// mustMarshal is asn1.Marshal for values a test builds.
func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// explicit wraps der in a constructed context-specific tag.
func explicit(t *testing.T, tag int, der ...[]byte) []byte {
	t.Helper()
	var body []byte
	for _, d := range der {
		body = append(body, d...)
	}
	return mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: body})
}

// seq is a DER SEQUENCE of already encoded elements.
func seq(t *testing.T, der ...[]byte) []byte {
	t.Helper()
	var body []byte
	for _, d := range der {
		body = append(body, d...)
	}
	return mustMarshal(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
}

// dirName is a directoryName GeneralName for an organization.
func dirName(t *testing.T, org string) []byte {
	t.Helper()
	name := mustMarshal(t, pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: org}}})
	return explicit(t, 4, name)
}

// upnName is an otherName GeneralName (a Microsoft UPN).
func upnName(t *testing.T, upn string) []byte {
	t.Helper()
	value := explicit(t, 0, mustMarshal(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagUTF8String, Bytes: []byte(upn)}))
	return explicit(t, 0, mustMarshal(t, oidUPN), value)
}

// nameConstraints is a critical nameConstraints extension with the given
// permitted and excluded GeneralNames as subtree bases.
func nameConstraints(t *testing.T, permitted, excluded [][]byte) pkix.Extension {
	t.Helper()
	var parts [][]byte
	for i, bases := range [][][]byte{permitted, excluded} {
		if len(bases) == 0 {
			continue
		}
		var subtrees [][]byte
		for _, b := range bases {
			subtrees = append(subtrees, seq(t, b))
		}
		parts = append(parts, explicit(t, i, subtrees...))
	}
	return pkix.Extension{Id: oidNameConstraints, Critical: true, Value: seq(t, parts...)}
}

// ext is an option adding an extension verbatim.
func ext(e pkix.Extension) pkitest.Option {
	return pkitest.With(func(o *pki.Options) { o.ExtraExtensions = append(o.ExtraExtensions, e) })
}

// rawCert signs tmpl with ca's key as issued by parent (a copy of ca's
// certificate that edit may change, to leave out the authority key
// identifier for instance), for a fresh P-256 key.
func rawCert(t *testing.T, ca *pki.CA, tmpl *x509.Certificate, edit func(parent *x509.Certificate)) *pki.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber, _ = pki.RandomSerial()
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		p := *ca.Cert
		parent, signer = &p, ca.Key
	}
	if edit != nil {
		edit(parent)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("create %q: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		// crypto/x509 refuses to parse some of these: keep the bytes.
		c = &x509.Certificate{Raw: der}
	}
	return &pki.Certificate{Cert: c, Key: key}
}

// keyID is a subject key identifier for c's key.
func keyID(c *pki.Certificate) []byte {
	der, _ := x509.MarshalPKIXPublicKey(c.Key.Public())
	sum := sha256.Sum256(der)
	return sum[:20]
}

// basicConstraintsCA is basicConstraints CA:TRUE, critical or not. Given
// as an extra extension, crypto/x509 adds no subject key identifier.
func basicConstraintsCA(critical bool) pkix.Extension {
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: critical, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}
}

// crlWithExtensions returns crl, signed by ca, with its crlExtensions
// (the CRL number and authority key identifier) replaced by exts (none
// when nil) and signed again: CRLs crypto/x509 would not write.
func crlWithExtensions(t *testing.T, ca *pkitest.CA, crl *x509.RevocationList, exts []pkix.Extension) *x509.RevocationList {
	t.Helper()
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(crl.RawTBSRevocationList, &tbs); err != nil {
		t.Fatal(err)
	}
	var fields [][]byte
	for rest := tbs.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatal(err)
		}
		if f.Class == asn1.ClassContextSpecific && f.Tag == 0 {
			continue // crlExtensions
		}
		fields = append(fields, f.FullBytes)
	}
	if exts != nil {
		fields = append(fields, explicit(t, 0, mustMarshal(t, exts)))
	}
	body := seq(t, fields...)
	sum := sha256.Sum256(body)
	sig, err := ca.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	alg := mustMarshal(t, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}})
	der := seq(t, body, alg, mustMarshal(t, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}))
	out, err := x509.ParseRevocationList(der)
	if err != nil {
		// crypto/x509 refuses some of these: keep the bytes.
		out = &x509.RevocationList{Raw: der}
	}
	return out
}

// bigSerial is a positive serial number of n octets in DER.
func bigSerial(n int) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(8*n-9)) // top bit of n octets clear
}

// authorityKeyID is an authority key identifier extension naming ca's
// key. crypto/x509 writes none into a certificate whose issuer and subject
// are the same name, even when the keys differ (a re-keyed CA).
func authorityKeyID(t *testing.T, ca *pkitest.CA) pkix.Extension {
	t.Helper()
	id := mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ca.Cert.SubjectKeyId})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 35}, Value: seq(t, id)}
}
