package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

type testATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// testRDNSET is one RDN; the name's suffix makes encoding/asn1 write a SET OF.
type testRDNSET []testATV

var (
	oidC     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCN    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidDC    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

func utf8Value(oid asn1.ObjectIdentifier, v string) testATV {
	return testATV{oid, asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(v)}}
}

func typedValue(oid asn1.ObjectIdentifier, tag int, b []byte) testATV {
	return testATV{oid, asn1.RawValue{Tag: tag, Bytes: b}}
}

func bmp(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}

// TestFormatNameIsWhatOpenSSLPrints compares FormatName with the installed
// openssl's `x509 -noout -subject` for names that pkix.Name.String prints
// otherwise: several values of one type, multi-valued RDNs, the characters
// RFC 2253 escapes, non-ASCII and control characters, other string types
// and attribute types.
func TestFormatNameIsWhatOpenSSLPrints(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	single := func(atvs ...testATV) []testRDNSET {
		var seq []testRDNSET
		for _, a := range atvs {
			seq = append(seq, testRDNSET{a})
		}
		return seq
	}
	tests := []struct {
		name string
		rdns []testRDNSET
	}{
		{"several O values, one RDN each, as certgate pki writes them", single(utf8Value(oidO, "admins"), utf8Value(oidO, "viewers"), utf8Value(oidCN, "alice"))},
		{"a multi-valued RDN", []testRDNSET{{utf8Value(oidO, "admins"), utf8Value(oidO, "viewers")}, {utf8Value(oidCN, "alice")}}},
		{"the characters RFC 2253 escapes", single(utf8Value(oidO, "a,b"), utf8Value(oidO, `q"uote`), utf8Value(oidO, `back\slash`),
			utf8Value(oidO, "semi;colon"), utf8Value(oidO, "x+y"), utf8Value(oidO, "u<>"), utf8Value(oidO, "eq=ual"))},
		{"leading and trailing spaces and #", single(utf8Value(oidO, " lead"), utf8Value(oidO, "trail "), utf8Value(oidO, "#hash"),
			utf8Value(oidO, "mid#dle"), utf8Value(oidO, "in ner"))},
		{"non-ASCII characters", single(utf8Value(oidO, "café"), utf8Value(oidO, "日本"), utf8Value(oidCN, "key 🔑"))},
		{"control characters", single(utf8Value(oidCN, "bell\x07del\x7f"))},
		{"other attribute types", single(typedValue(oidC, asn1.TagPrintableString, []byte("DE")), typedValue(oidDC, asn1.TagIA5String, []byte("example")),
			typedValue(oidEmail, asn1.TagIA5String, []byte("alice@example.com")), utf8Value(asn1.ObjectIdentifier{1, 2, 3, 4}, "private"), utf8Value(oidOU, "ops"))},
		{"an empty name", nil},
		{"BMP and T61 strings", single(typedValue(oidO, asn1.TagBMPString, bmp("café 日本")), typedValue(oidCN, asn1.TagT61String, []byte("caf\xe9")))},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := asn1.Marshal(tt.rdns)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), RawSubject: der, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
			certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(certDER)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "c.pem")
			if err := os.WriteFile(file, pki.EncodeCertsPEM(cert), 0o600); err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(pkitest.MustOpenSSL(t, bin, dir, "x509", "-noout", "-subject", "-in", file), "\n")
			if got := "subject=" + pki.SubjectString(cert); got != want {
				t.Errorf("FormatName:\n got %s\nwant %s (openssl)\n(pkix.Name.String: %s)", got, want, cert.Subject.String())
			}
		})
	}
}
