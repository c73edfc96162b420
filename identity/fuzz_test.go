package identity_test

import (
	"crypto/x509"
	"errors"
	"testing"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// maxErrorLen bounds an error message: errors quote at most a short prefix of
// what the client sent, never the whole header.
const maxErrorLen = 400

func checkFuzzErr(t *testing.T, err error, allowed ...error) {
	t.Helper()
	for _, a := range allowed {
		if errors.Is(err, a) {
			if len(err.Error()) > maxErrorLen {
				t.Fatalf("error is %d bytes long: %.100q…", len(err.Error()), err.Error())
			}
			return
		}
	}
	t.Fatalf("error %v wraps none of %v", err, allowed)
}

func FuzzDecodeEscapedPEM(f *testing.F) {
	fx := newFixture(f)
	key, err := fx.alice.KeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		escapeNGINX(fx.alice.CertPEM()),
		escapeEnvoy(fx.plus.CertPEM()),
		escapeNGINX(fx.aliceChainPEM()),
		string(fx.alice.CertPEM()),
		escapeNGINX(key),
		escapeNGINX(fx.alice.CertPEM()) + "junk",
		"%zz", "%4", "%2541", "",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
	} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, maxCerts int) {
		certs, err := identity.DecodeEscapedPEM(s, maxCerts)
		if err != nil {
			checkFuzzErr(t, err, identity.ErrMalformed)
			return
		}
		limit := maxCerts
		if limit <= 0 {
			limit = identity.DefaultMaxChainLength
		}
		if len(certs) == 0 || len(certs) > limit {
			t.Fatalf("decoded %d certificates (limit %d) without error", len(certs), limit)
		}
		for _, c := range certs {
			_, _ = identity.New(c, identity.SourceEnvoy)
		}
	})
}

func FuzzParseXFCC(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		`By=spiffe://a;Hash=abc;Cert="` + escapeNGINX(fx.alice.CertPEM()) + `";Subject="CN=alice, O=DevOps";URI=spiffe://x;DNS=a.example`,
		`Cert="` + escapeEnvoy(fx.plus.CertPEM()) + `";Chain="` + escapeEnvoy(fx.aliceChainPEM()) + `"`,
		`By=a;Subject="x,y;z=\"w\""`, `a=b,c=d`, `"`, `Cert="%41"`, `,,;;==`, `By="a\"`, ` By = a ; Hash=b , By="c" `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		els, err := identity.ParseXFCC(s)
		if err != nil {
			checkFuzzErr(t, err, identity.ErrMalformed)
			return
		}
		if len(els) == 0 {
			t.Fatal("no element and no error")
		}
		for _, el := range els {
			for _, v := range []string{el.By, el.Hash, el.Cert, el.Chain, el.Subject} {
				if len(v) > len(s) {
					t.Fatalf("value %q is longer than the header", v)
				}
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	fx := newFixture(f)
	alice := escapeNGINX(fx.alice.CertPEM())
	chain := escapeNGINX(fx.aliceChainPEM())
	der := sfBinary(fx.alice.Cert.Raw)
	f.Add(alice, "", "", "", "", "", false)
	f.Add("", alice, "SUCCESS", "", "", "", true)
	f.Add("", alice, "FAILED:certificate has expired", "", "", "", true)
	f.Add("", alice+","+alice, "SUCCESS", "", "", "", true)
	f.Add("", "", "", `By=spiffe://gw;Cert="`+alice+`";Chain="`+chain+`"`, "", "", true)
	f.Add("", "", "", `Cert="`+alice+`",By=spiffe://gw`, "", "", true)
	f.Add("", "", "", "", der, sfBinary(fx.inter.Cert.Raw), true)
	f.Add("", "", "", "", der+","+der, "", true)
	f.Add("%zz", "", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, envoy, sslCert, verify, xfcc, clientCert, clientChain string, trust bool) {
		headers := map[string]string{
			"ssl-client-cert":         sslCert,
			"ssl-client-verify":       verify,
			"x-forwarded-client-cert": xfcc,
			"client-cert":             clientCert,
			"client-cert-chain":       clientChain,
		}
		opts := identity.Options{}
		if trust {
			opts.Trust = identity.AllFamilies
		}
		digest := identity.PresentedDigest(envoy, headers, opts)
		headers["x-client-cert"] = sslCert + xfcc // read by nobody
		if identity.PresentedDigest(envoy, headers, opts) != digest {
			t.Fatal("a header Extract ignores changed the digest")
		}
		got, err := identity.Extract(envoy, headers, opts)
		if err != nil {
			checkFuzzErr(t, err, identity.ErrNoCertificate, identity.ErrMalformed, identity.ErrProxyVerifyFailed)
			return
		}
		if len(got.Chain) == 0 || len(got.Chain) > identity.DefaultMaxChainLength {
			t.Fatalf("chain of %d certificates without error", len(got.Chain))
		}
		switch got.Source {
		case identity.SourceEnvoy:
			if envoy == "" {
				t.Fatal("source envoy without an Envoy certificate")
			}
		case identity.SourceHeader, identity.SourceXFCC:
			if !trust || envoy != "" {
				t.Fatalf("source %q read from an untrusted or overridden header", got.Source)
			}
		default:
			t.Fatalf("unknown source %q", got.Source)
		}
		for _, c := range got.Chain {
			if c == nil {
				t.Fatal("nil certificate in the chain")
			}
		}
		_, _ = identity.New(got.Chain[0], got.Source)
	})
}

// FuzzNew is certificate-to-identity extraction: any DER that crypto/x509
// parses becomes an Identity without a panic, with the invariants Rego
// relies on (non-nil lists, a SHA-256 fingerprint, the CN as user unless
// the subject is ambiguous, and then no user at all).
func FuzzNew(f *testing.F) {
	fx := newFixture(f)
	for _, c := range []*pki.Certificate{fx.alice, fx.bob, fx.plus} {
		f.Add(c.Cert.Raw)
	}
	f.Add(fx.inter.Cert.Raw)
	f.Add(fx.inter.Leaf("mallory, O=admins", pkitest.BMPCommonName("Zoë, O=admins"), pkitest.Orgs("viewers", "a,b")).Cert.Raw)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		id, err := identity.New(cert, identity.SourceHeader)
		user := cert.Subject.CommonName
		if err != nil {
			if !errors.Is(err, identity.ErrAmbiguousSubject) {
				t.Fatalf("New: %v, not ErrAmbiguousSubject", err)
			}
			user = ""
		}
		if len(id.FingerprintSHA256) != 64 {
			t.Fatalf("fingerprint %q is not 64 hex digits", id.FingerprintSHA256)
		}
		if id.Groups == nil || id.OrgUnits == nil || id.SANs.DNS == nil || id.SANs.IP == nil || id.SANs.Email == nil || id.SANs.URI == nil {
			t.Fatalf("a nil list in %+v", id)
		}
		if id.User != user || len(id.Groups) != len(cert.Subject.Organization) {
			t.Fatalf("user %q groups %q do not match the subject %q", id.User, id.Groups, cert.Subject)
		}
		if id.Source != identity.SourceHeader {
			t.Fatalf("source %q", id.Source)
		}
	})
}
