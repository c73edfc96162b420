package trust_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// recipeCnf is the openssl ca configuration of the vendor guides (see
// pki/openssl_test.go): index.txt, serial, crlnumber, a client section
// without key identifiers.
const recipeCnf = `[ ca ]
default_ca = CA_default

[ CA_default ]
database         = ./index.txt
new_certs_dir    = ./newcerts
certificate      = ./ca.pem
private_key      = ./ca.key
serial           = ./serial
crlnumber        = ./crlnumber
default_md       = sha256
default_days     = 365
default_crl_days = 30
preserve         = yes
unique_subject   = no
policy           = policy_any
x509_extensions  = client_ext

[ policy_any ]
organizationName       = optional
commonName             = supplied

[ client_ext ]
basicConstraints = CA:FALSE
keyUsage         = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`

// TestTheVendorRecipesPassCompatibleAndFailStrict: what the vendor guides'
// openssl recipes make keeps working in the default profile, and the
// strict profile refuses it with a named reason.
func TestTheVendorRecipesPassCompatibleAndFailStrict(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not found, and CI must run the recipes: %v", err)
		}
		t.Skipf("openssl not found: %v", err)
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for name, content := range map[string]string{"openssl.cnf": recipeCnf, "index.txt": "", "serial": "1000\n", "crlnumber": "1000\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o700); err != nil {
		t.Fatal(err)
	}
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
