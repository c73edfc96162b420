package trust_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// TestTheVendorRecipesPassCompatibleAndFailStrict: what the vendor guides'
// openssl recipes make keeps working in the default profile, and the
// strict profile refuses it with a named reason.
func TestTheVendorRecipesPassCompatibleAndFailStrict(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	run := func(args ...string) { t.Helper(); pkitest.MustOpenSSL(t, bin, dir, args...) }
	pkitest.WriteOpenSSLCA(t, dir)
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-sha256", "-days", "3650", "-subj", "/O=Example/CN=Example Root CA", "-out", "ca.pem")
	run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "v1.key", "-subj", "/O=ci/CN=jenkins", "-out", "v1.csr")
	// Recipe one: openssl x509 -req without -extfile, a version 1
	// certificate with no extension at all.
	run("x509", "-req", "-in", "v1.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-out", "v1.pem")
	// Recipe two: openssl ca with index.txt, and its CRL.
	run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-signed.key", "-subj", "/O=viewers/CN=viewer", "-out", "ca-signed.csr")
	run("ca", "-config", "openssl.cnf", "-batch", "-notext", "-in", "ca-signed.csr", "-out", "ca-signed.pem")
	run("ca", "-config", "openssl.cnf", "-gencrl", "-out", "crl.pem")

	tests := []struct {
		name   string
		cert   string
		crls   []string
		strict trust.Reason
	}{
		{"openssl x509 -req without extensions", "v1.pem", nil, trust.ReasonMissingAKI},
		// OpenSSL 3 writes key identifiers here; the CA of `openssl req
		// -x509` has no key usage.
		{"openssl ca with index.txt and its CRL", "ca-signed.pem", []string{filepath.Join(dir, "crl.pem")}, trust.ReasonCAKeyUsage},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(dir, tt.cert))
		if err != nil {
			t.Fatal(err)
		}
		chain, err := pki.ParseCertsPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, profile := range []trust.Profile{trust.ProfileCompatible, trust.ProfileStrict} {
			want := trust.Reason("")
			if profile == trust.ProfileStrict {
				want = tt.strict
			}
			t.Run(string(profile)+"/"+tt.name, func(t *testing.T) {
				store, err := trust.Load(trust.Config{CAFiles: []string{filepath.Join(dir, "ca.pem")}, CRLFiles: tt.crls, Profile: profile})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := store.Verify(chain, trust.VerifyOptions{}); reason(err) != want {
					t.Errorf("reason %q (%v), want %q", reason(err), err, want)
				}
			})
		}
	}
}
