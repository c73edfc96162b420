package pkitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"testing"
	"unicode/utf16"

	"github.com/certgate/certgate/pki"
)

// Certificates that crypto/x509 would not issue, or that a careful CA would
// not: the hostile-input tests present them and expect a deny. Where
// x509.CreateCertificate refuses (negative or zero serial, SHA-1), the
// certificate is issued normally and its TBSCertificate rewritten and signed
// again with the issuer's key.

// Impostor returns a self-signed root with exactly c's subject and a key of
// its own: what an attacker makes to pass a name-only check.
func (c *CA) Impostor() *CA {
	c.tb.Helper()
	ca, err := pki.NewRootCA(pki.Options{Subject: c.Cert.Subject, Now: c.Now})
	if err != nil {
		c.tb.Fatalf("pkitest: impostor: %v", err)
	}
	if string(ca.Cert.RawSubject) != string(c.Cert.RawSubject) {
		c.tb.Fatalf("pkitest: impostor subject %q differs from %q", ca.Cert.Subject, c.Cert.Subject)
	}
	return &CA{CA: ca, tb: c.tb}
}

// AsIssuer turns a certificate c issued, and its key, into a CA that signs
// with them on c's clock, whatever its basic constraints say: a leaf used
// as an intermediate.
func (c *CA) AsIssuer(cert *pki.Certificate) *CA {
	return &CA{CA: &pki.CA{Certificate: *cert, Now: c.Now}, tb: c.tb}
}

// RSAKey makes the certificate use a fresh RSA key of the given size, for
// sizes pki does not offer (1024).
func RSAKey(tb testing.TB, bits int) Option {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatalf("pkitest: RSA-%d key: %v", bits, err)
	}
	return func(p *pki.Options) { p.Key = key }
}

// CriticalExtension adds an extension with an OID nobody implements,
// marked critical.
func CriticalExtension() Option {
	return func(p *pki.Options) {
		p.ExtraExtensions = append(p.ExtraExtensions, pkix.Extension{
			Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00},
		})
	}
}

// BMPCommonName sets the common name as a BMPString (UTF-16BE), the
// encoding old Windows CAs used, instead of a UTF8String.
func BMPCommonName(cn string) Option {
	var b []byte
	for _, r := range utf16.Encode([]rune(cn)) {
		b = append(b, byte(r>>8), byte(r))
	}
	return func(p *pki.Options) {
		p.Subject.CommonName = ""
		p.Subject.ExtraNames = append(p.Subject.ExtraNames, pkix.AttributeTypeAndValue{
			Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagBMPString, Bytes: b},
		})
	}
}

// WithSerial returns cert, issued by c, with its serial number replaced by
// n (zero and negative included) and signed again.
func (c *CA) WithSerial(cert *pki.Certificate, n *big.Int) *pki.Certificate {
	c.tb.Helper()
	serial, err := asn1.Marshal(n)
	if err != nil {
		c.tb.Fatalf("pkitest: serial: %v", err)
	}
	return c.resign(cert, func(fields [][]byte) { fields[1] = serial }, nil, crypto.SHA256)
}

// SHA1Signed returns cert, issued by c, signed again with SHA-1
// (ecdsa-with-SHA1 or sha1WithRSAEncryption, after c's key).
func (c *CA) SHA1Signed(cert *pki.Certificate) *pki.Certificate {
	c.tb.Helper()
	var alg pkix.AlgorithmIdentifier
	switch c.Key.Public().(type) {
	case *rsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, Parameters: asn1.NullRawValue}
	default:
		alg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}}
	}
	der, err := asn1.Marshal(alg)
	if err != nil {
		c.tb.Fatalf("pkitest: algorithm: %v", err)
	}
	return c.resign(cert, func(fields [][]byte) { fields[2] = der }, der, crypto.SHA1)
}

// resign rewrites the TBSCertificate fields of cert (version, serial,
// signature, issuer, …: each a complete DER element), then signs it with
// c's key and hash. sigAlg replaces the outer algorithm when not nil.
func (c *CA) resign(cert *pki.Certificate, edit func(fields [][]byte), sigAlg []byte, hash crypto.Hash) *pki.Certificate {
	c.tb.Helper()
	der := c.resignDER(cert.Cert.Raw, func(fields [][]byte) [][]byte { edit(fields); return fields }, sigAlg, hash)
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		// Go refuses to parse some of these (a negative serial): keep
		// the bytes, which is what a client would send anyway.
		parsed = &x509.Certificate{Raw: der}
	}
	return &pki.Certificate{Cert: parsed, Key: cert.Key}
}

// resignDER rewrites the fields of a signed structure's to-be-signed part
// (a certificate's or a CRL's), then signs it with c's key and hash. sigAlg
// replaces the outer algorithm when not nil.
func (c *CA) resignDER(raw []byte, edit func(fields [][]byte) [][]byte, sigAlg []byte, hash crypto.Hash) []byte {
	c.tb.Helper()
	var outer struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(raw, &outer); err != nil {
		c.tb.Fatalf("pkitest: parse signed structure: %v", err)
	}
	var fields [][]byte
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			c.tb.Fatalf("pkitest: parse to-be-signed part: %v", err)
		}
		fields = append(fields, f.FullBytes)
	}
	fields = edit(fields)
	var body []byte
	for _, f := range fields {
		body = append(body, f...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		c.tb.Fatalf("pkitest: encode to-be-signed part: %v", err)
	}
	h := hash.New()
	h.Write(tbs)
	sig, err := c.Key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		c.tb.Fatalf("pkitest: sign: %v", err)
	}
	alg := outer.SigAlg.FullBytes
	if sigAlg != nil {
		alg = sigAlg
	}
	der, err := asn1.Marshal(struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, asn1.RawValue{FullBytes: alg}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		c.tb.Fatalf("pkitest: encode: %v", err)
	}
	return der
}

// UnnumberedCRL signs a CRL like CRLWith, but without any CRL extension:
// no CRL number (which crypto/x509 always writes), as old tools issue
// them. c's key must be ECDSA P-256 or RSA (signed with SHA-256).
func (c *CA) UnnumberedCRL(opts pki.CRLOptions, revoked ...*x509.Certificate) *x509.RevocationList {
	c.tb.Helper()
	numbered := c.CRLWith(opts, revoked...)
	der := c.resignDER(numbered.Raw, func(fields [][]byte) [][]byte {
		// crlExtensions is the one [0] EXPLICIT field of a TBSCertList.
		return slices.DeleteFunc(fields, func(f []byte) bool { return f[0] == 0xa0 })
	}, nil, crypto.SHA256)
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.tb.Fatalf("pkitest: parse CRL: %v", err)
	}
	if crl.Number != nil {
		c.tb.Fatalf("pkitest: the unnumbered CRL has number %v", crl.Number)
	}
	return crl
}

// CRLWithoutNextUpdate signs a CRL like CRLWith, but without the optional
// nextUpdate field, which crypto/x509 always writes. c's key must be ECDSA
// P-256 or RSA (signed with SHA-256).
func (c *CA) CRLWithoutNextUpdate(opts pki.CRLOptions, revoked ...*x509.Certificate) *x509.RevocationList {
	c.tb.Helper()
	dated := c.CRLWith(opts, revoked...)
	der := c.resignDER(dated.Raw, func(fields [][]byte) [][]byte {
		// thisUpdate and nextUpdate are the only UTCTime or GeneralizedTime
		// fields of a TBSCertList; nextUpdate is the second.
		times := 0
		return slices.DeleteFunc(fields, func(f []byte) bool {
			if f[0] == asn1.TagUTCTime || f[0] == asn1.TagGeneralizedTime {
				times++
				return times == 2
			}
			return false
		})
	}, nil, crypto.SHA256)
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.tb.Fatalf("pkitest: parse CRL: %v", err)
	}
	if !crl.NextUpdate.IsZero() {
		c.tb.Fatalf("pkitest: the CRL still has nextUpdate %v", crl.NextUpdate)
	}
	return crl
}

// SignCRL signs an arbitrary CRL template with c, for CRLs pki.CRLOptions
// cannot describe (critical extensions, entry extensions). It signs even
// when c's key usage lacks cRLSign, which crypto/x509 would refuse.
func (c *CA) SignCRL(tmpl *x509.RevocationList) *x509.RevocationList {
	c.tb.Helper()
	issuer := *c.Cert
	if issuer.KeyUsage != 0 {
		issuer.KeyUsage |= x509.KeyUsageCRLSign
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, &issuer, c.Key)
	if err != nil {
		c.tb.Fatalf("pkitest: sign CRL: %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.tb.Fatalf("pkitest: parse CRL: %v", err)
	}
	return crl
}

// OID names of the subject attributes tests spell out in RDNs.
var (
	OIDCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	OIDOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// Subject sets the subject to rdns exactly, in order: what pkix.Name
// cannot say, such as "CN=mallory, CN=jenkins" (two RDNs of one CN each)
// or "CN=mallory+O=admins" (one multi-valued RDN).
func Subject(tb testing.TB, rdns ...pkix.RelativeDistinguishedNameSET) Option {
	tb.Helper()
	der, err := asn1.Marshal(pkix.RDNSequence(rdns))
	if err != nil {
		tb.Fatalf("pkitest: subject: %v", err)
	}
	return func(p *pki.Options) { p.RawSubject = der }
}

// CommonNames gives the subject one RDN per common name, in order.
func CommonNames(tb testing.TB, cns ...string) Option {
	tb.Helper()
	rdns := make([]pkix.RelativeDistinguishedNameSET, 0, len(cns))
	for _, cn := range cns {
		rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: OIDCommonName, Value: cn}})
	}
	return Subject(tb, rdns...)
}
