package identity_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestExtract(t *testing.T) {
	ca := pkitest.New(t, "root")
	alice := ca.Leaf("alice", pkitest.Orgs("DevOps", "iOSDEV"))
	keyPEM, err := alice.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	escaped := client.EscapePEM(alice.CertPEM())
	trusted := identity.Options{TrustForwardedHeaders: true}
	tests := []struct {
		name    string
		envoy   string
		headers map[string]string
		opts    identity.Options
		source  identity.Source
		wantErr error
	}{
		{"Envoy's peer certificate is read", escaped, nil, identity.Options{}, identity.SourceEnvoy, nil},
		{"a PEM with unescaped newlines is read too", string(alice.CertPEM()), nil, identity.Options{}, identity.SourceEnvoy, nil},
		{"Envoy's certificate wins over headers", escaped, map[string]string{"ssl-client-cert": "garbage", "ssl-client-verify": "SUCCESS"}, trusted, identity.SourceEnvoy, nil},
		{"no certificate at all", "", nil, identity.Options{}, "", identity.ErrNoCertificate},
		{"an untrusted ssl-client-cert is ignored", "", map[string]string{"ssl-client-cert": escaped, "ssl-client-verify": "SUCCESS"}, identity.Options{}, "", identity.ErrNoCertificate},
		{"a trusted ssl-client-cert with SUCCESS is read", "", map[string]string{"ssl-client-cert": escaped, "ssl-client-verify": "SUCCESS"}, trusted, identity.SourceHeader, nil},
		{"ssl-client-verify FAILED is not authenticated", "", map[string]string{"ssl-client-cert": escaped, "ssl-client-verify": "FAILED:certificate has expired"}, trusted, "", identity.ErrProxyVerifyFailed},
		{"ssl-client-verify NONE is not authenticated", "", map[string]string{"ssl-client-cert": escaped, "ssl-client-verify": "NONE"}, trusted, "", identity.ErrProxyVerifyFailed},
		{"a missing ssl-client-verify is not authenticated", "", map[string]string{"ssl-client-cert": escaped}, trusted, "", identity.ErrProxyVerifyFailed},
		{"a bad percent-escape is malformed", "%zz" + escaped, nil, identity.Options{}, "", identity.ErrMalformed},
		{"a truncated percent-escape is malformed", escaped + "%4", nil, identity.Options{}, "", identity.ErrMalformed},
		{"a double-encoded certificate is malformed", url.PathEscape(escaped), nil, identity.Options{}, "", identity.ErrMalformed},
		{"two certificates where one is expected are malformed", client.EscapePEM(append(alice.CertPEM(), alice.CertPEM()...)), nil, identity.Options{}, "", identity.ErrMalformed},
		{"a private key is malformed", client.EscapePEM(keyPEM), nil, identity.Options{}, "", identity.ErrMalformed},
		{"trailing garbage is malformed", client.EscapePEM(append(alice.CertPEM(), "junk"...)), nil, identity.Options{}, "", identity.ErrMalformed},
		{"DER instead of PEM is malformed", client.EscapePEM(alice.Cert.Raw), nil, identity.Options{}, "", identity.ErrMalformed},
		{"a duplicated header is malformed", "", map[string]string{"ssl-client-cert": escaped + "," + escaped, "ssl-client-verify": "SUCCESS"}, trusted, "", identity.ErrMalformed},
		{"an oversized header is malformed", strings.Repeat("A", identity.DefaultMaxHeaderBytes+1), nil, identity.Options{}, "", identity.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.Extract(tt.envoy, tt.headers, tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Extract error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got.Source != tt.source || len(got.Chain) != 1 || !got.Chain[0].Equal(alice.Cert) {
				t.Errorf("Extract = source %q, %d certs; want %q and alice", got.Source, len(got.Chain), tt.source)
			}
		})
	}
}

func TestAPlusSignStaysLiteral(t *testing.T) {
	// Base64 has '+'. Proxies escape it as %2B; an unescaped '+' must not
	// turn into a space the way form decoding would.
	ca := pkitest.New(t, "root")
	for i := 0; i < 20; i++ {
		pemData := ca.Leaf("plus").CertPEM()
		if !strings.Contains(string(pemData), "+") {
			continue
		}
		lenient := strings.ReplaceAll(client.EscapePEM(pemData), "%2B", "+")
		if _, err := identity.Extract(lenient, nil, identity.Options{}); err != nil {
			t.Fatalf("a literal + was not kept: %v", err)
		}
		return
	}
	t.Fatal("no certificate with a + in its base64 in 20 tries")
}

func TestNewReadsTheIdentityFromTheCertificate(t *testing.T) {
	ca := pkitest.New(t, "root")
	spiffe, _ := url.Parse("spiffe://example.org/ci/jenkins")
	c := ca.Leaf(`jenkins, O=admins`, pkitest.Orgs("DevOps", "iOS DEV"), pkitest.OrgUnits("build"), pkitest.With(func(o *pki.Options) {
		o.DNSNames = []string{"jenkins.example"}
		o.URIs = append(o.URIs, spiffe)
		o.EmailAddresses = []string{"ci@example.org"}
	}))
	id := identity.New(c.Cert, identity.SourceXFCC)
	want := identity.Identity{
		User:              `jenkins, O=admins`,
		Groups:            []string{"DevOps", "iOS DEV"},
		OrgUnits:          []string{"build"},
		Subject:           c.Cert.Subject.String(),
		Issuer:            c.Cert.Issuer.String(),
		Serial:            c.Cert.SerialNumber.Text(16),
		FingerprintSHA256: id.FingerprintSHA256,
		SANs:              identity.SANs{DNS: []string{"jenkins.example"}, IP: []string{}, Email: []string{"ci@example.org"}, URI: []string{"spiffe://example.org/ci/jenkins"}},
		SPIFFEID:          "spiffe://example.org/ci/jenkins",
		NotBefore:         c.Cert.NotBefore,
		NotAfter:          c.Cert.NotAfter,
		Source:            identity.SourceXFCC,
	}
	if diff := cmp.Diff(want, id); diff != "" {
		t.Errorf("New (-want +got):\n%s", diff)
	}
	if len(id.FingerprintSHA256) != 64 {
		t.Errorf("fingerprint %q is not hex SHA-256", id.FingerprintSHA256)
	}
}

func FuzzDecodeEscapedPEM(f *testing.F) {
	ca := pkitest.New(f, "root")
	f.Add(client.EscapePEM(ca.Leaf("seed").CertPEM()))
	f.Add(string(ca.Leaf("seed").CertPEM()))
	f.Add("%zz")
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		certs, err := identity.DecodeEscapedPEM(s, 3)
		if err == nil && (len(certs) == 0 || len(certs) > 3) {
			t.Fatalf("decoded %d certificates without error", len(certs))
		}
		if err != nil && !errors.Is(err, identity.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
