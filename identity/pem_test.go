package identity_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// fixture is a small PKI: root > inter > alice and bob.
type fixture struct {
	root, inter *pkitest.CA
	alice, bob  *pki.Certificate
	// plus is a leaf whose base64 holds a '+', for the "+ stays +" cases.
	plus *pki.Certificate
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	root := pkitest.New(tb, "root")
	inter := root.ChildCA("inter")
	f := fixture{
		root:  root,
		inter: inter,
		alice: inter.Leaf("alice", pkitest.Orgs("DevOps", "iOSDEV")),
		bob:   inter.Leaf("bob"),
	}
	for range 50 {
		c := inter.Leaf("plus")
		if bytes.IndexByte(c.CertPEM(), '+') >= 0 {
			f.plus = c
			return f
		}
	}
	tb.Fatal("no certificate with a '+' in its base64 in 50 tries")
	return f
}

func (f fixture) aliceChainPEM() []byte { return cat(f.alice.CertPEM(), f.inter.CertPEM()) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// escapeNGINX percent-encodes every byte but the URI unreserved characters,
// as NGINX's $ssl_client_escaped_cert does.
func escapeNGINX(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			s.WriteByte(c)
			continue
		}
		s.WriteByte('%')
		s.WriteByte(hex[c>>4])
		s.WriteByte(hex[c&15])
	}
	return s.String()
}

// escapeEnvoy percent-encodes only what cannot travel in a header value or
// an XFCC quoted string (whitespace, '%', '"', ',', ';'), in lower-case hex,
// and leaves the base64 characters '+', '/' and '=' as they are.
func escapeEnvoy(b []byte) string {
	const hex = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`%",;\`, c) >= 0 {
			s.WriteByte('%')
			s.WriteByte(hex[c>>4])
			s.WriteByte(hex[c&15])
			continue
		}
		s.WriteByte(c)
	}
	return s.String()
}

func commonNames(chain []*x509.Certificate) []string {
	names := make([]string, 0, len(chain))
	for _, c := range chain {
		names = append(names, c.Subject.CommonName)
	}
	return names
}

// checkErr asserts err is what a case wants, and that its message names the
// problem without repeating a long client-supplied value.
func checkErr(t *testing.T, err, wantErr error, wantMsg string, inputs ...string) {
	t.Helper()
	if !errors.Is(err, wantErr) {
		t.Fatalf("error = %v, want one wrapping %v", err, wantErr)
	}
	msg := err.Error()
	if !strings.Contains(msg, wantMsg) {
		t.Errorf("error %q does not say %q", msg, wantMsg)
	}
	if len(msg) > 300 {
		t.Errorf("error is %d bytes long: %q", len(msg), msg)
	}
	for _, in := range inputs {
		if len(in) > 60 && strings.Contains(msg, in[:60]) {
			t.Errorf("error %q repeats the input", msg)
		}
	}
}

func TestDecodeEscapedPEM(t *testing.T) {
	f := newFixture(t)
	key, err := f.alice.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	alice := f.alice.CertPEM()
	withHeaders := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: f.alice.Cert.Raw})
	publicKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0}})
	notDER := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	corrupt := []byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name     string
		in       string
		maxCerts int
		want     []string
		wantMsg  string // when the decoding fails
	}{
		{"a leaf escaped as NGINX escapes it is read", escapeNGINX(alice), 1, []string{"alice"}, ""},
		{"a leaf escaped as Envoy escapes it, lower-case hex and literal '+', is read", escapeEnvoy(f.plus.CertPEM()), 1, []string{"plus"}, ""},
		{"an unescaped PEM is read as it is", string(alice), 1, []string{"alice"}, ""},
		{"CRLF line ends are read", escapeNGINX(bytes.ReplaceAll(alice, []byte("\n"), []byte("\r\n"))), 1, []string{"alice"}, ""},
		{"whitespace around the blocks is allowed", "%20%0A" + escapeNGINX(alice) + "%0A%09", 1, []string{"alice"}, ""},
		{"a chain is read leaf first", escapeNGINX(f.aliceChainPEM()), 2, []string{"alice", "inter"}, ""},
		{"a maximum of zero means the default chain length", escapeNGINX(f.aliceChainPEM()), 0, []string{"alice", "inter"}, ""},
		{"two certificates where one is allowed are malformed", escapeNGINX(f.aliceChainPEM()), 1, nil, "more than 1 certificate(s)"},
		{"an invalid escape is malformed", "%zz" + escapeNGINX(alice), 1, nil, `invalid percent-escape "%zz" at byte 0`},
		{"a truncated escape at the end is malformed", escapeNGINX(alice) + "%4", 1, nil, `invalid percent-escape "%4"`},
		{"a lone percent sign is malformed", "%", 1, nil, `invalid percent-escape "%" at byte 0`},
		{"percent-decoding happens once, so %2541 stays %41", "%2541", 1, nil, `not PEM: "%41" at byte 0`},
		{"a doubly escaped certificate is malformed", escapeNGINX([]byte(escapeNGINX(alice))), 1, nil, "not PEM"},
		{"a private key is refused and named", escapeNGINX(key), 1, nil, `PEM block 1 is a private key ("PRIVATE KEY")`},
		{"a private key after the certificate is refused", escapeNGINX(cat(alice, key)), 2, nil, "PEM block 2 is a private key"},
		{"an EC private key is refused", escapeNGINX(bytes.ReplaceAll(key, []byte("PRIVATE KEY"), []byte("EC PRIVATE KEY"))), 1, nil, "is a private key"},
		{"garbage after the block is malformed", escapeNGINX(cat(alice, []byte("junk"))), 1, nil, `data after PEM block 1 at byte ` + strconv.Itoa(len(alice)) + `: "junk"`},
		{"garbage before the block is malformed", escapeNGINX(cat([]byte("junk\n"), alice)), 1, nil, `not PEM: "junk\n-----BEGIN CERTIFICATE-----\nMIIB`},
		{"garbage between blocks is malformed", escapeNGINX(cat(alice, []byte("x\n"), f.inter.CertPEM())), 2, nil, "data after PEM block 1"},
		{"a corrupt block is not skipped to reach the next one", escapeNGINX(cat(corrupt, alice)), 2, nil, "PEM block 1 at byte 0 is corrupt or has no matching END line"},
		{"a block without an END line is malformed", escapeNGINX(alice[:len(alice)-30]), 1, nil, "PEM block 1 at byte 0 is corrupt"},
		{"a block with PEM headers is malformed", escapeNGINX(withHeaders), 1, nil, "PEM block 1 has headers"},
		{"a block of another type is malformed", escapeNGINX(publicKey), 1, nil, `PEM block 1 is "PUBLIC KEY", want CERTIFICATE`},
		{"a CERTIFICATE block that is not a certificate is malformed", escapeNGINX(notDER), 1, nil, "certificate 1: x509:"},
		{"DER instead of PEM is malformed", escapeNGINX(f.alice.Cert.Raw), 1, nil, "not PEM"},
		{"an empty value is malformed", "", 1, nil, "empty value"},
		{"only whitespace is malformed", "%0A%20", 1, nil, "only whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.DecodeEscapedPEM(tt.in, tt.maxCerts)
			if tt.wantMsg != "" {
				checkErr(t, err, identity.ErrMalformed, tt.wantMsg, tt.in)
				return
			}
			if err != nil {
				t.Fatalf("DecodeEscapedPEM: %v", err)
			}
			if diff := cmp.Diff(tt.want, commonNames(got)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvoyEscapingKeepsAPlusSign(t *testing.T) {
	// The case above only means something if the '+' really is literal.
	f := newFixture(t)
	if s := escapeEnvoy(f.plus.CertPEM()); !strings.Contains(s, "+") {
		t.Fatalf("escaped certificate has no literal '+': %.80s…", s)
	}
}
