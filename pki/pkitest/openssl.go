package pkitest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NeedOpenSSL returns the path of the openssl binary. Without one the test
// is skipped, except under CI=true, where the interop tests must run and a
// missing openssl fails it.
func NeedOpenSSL(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("openssl not found, and CI must run the openssl interop tests: %v", err)
		}
		tb.Skipf("openssl not found: %v", err)
	}
	return path
}

// OpenSSL runs openssl (bin) in dir, for at most a minute, and returns its
// combined output.
func OpenSSL(tb testing.TB, bin, dir string, args ...string) (string, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// MustOpenSSL is OpenSSL that fails the test when openssl does.
func MustOpenSSL(tb testing.TB, bin, dir string, args ...string) string {
	tb.Helper()
	out, err := OpenSSL(tb, bin, dir, args...)
	if err != nil {
		tb.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// OpenSSLCAConfig is the minimal `openssl ca` configuration the vendor
// guides (Anka, Mender, MSR) have people write next to index.txt, serial and
// crlnumber: a client section without key identifiers.
const OpenSSLCAConfig = `[ ca ]
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
organizationalUnitName = optional
commonName             = supplied

[ client_ext ]
basicConstraints = CA:FALSE
keyUsage         = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`

// WriteOpenSSLCA lays out dir as the vendor recipe does before its first
// `openssl ca`: openssl.cnf (OpenSSLCAConfig), an empty index.txt, serial
// and crlnumber at 1000, and newcerts/. The CA itself (ca.pem, ca.key) is
// the caller's to make.
func WriteOpenSSLCA(tb testing.TB, dir string) {
	tb.Helper()
	for name, content := range map[string]string{"openssl.cnf": OpenSSLCAConfig, "index.txt": "", "serial": "1000\n", "crlnumber": "1000\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o700); err != nil {
		tb.Fatal(err)
	}
}
