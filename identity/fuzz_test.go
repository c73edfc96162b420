package identity_test

import (
	"errors"
	"testing"

	"github.com/certgate/certgate/identity"
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
			_ = identity.New(c, identity.SourceEnvoy)
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
		opts := identity.Options{TrustForwardedHeaders: trust}
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
		_ = identity.New(got.Chain[0], got.Source)
	})
}
