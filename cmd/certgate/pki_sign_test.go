package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// opensslCSR makes a key and a CSR with openssl, as on a client's host, and
// returns the CSR's path.
func opensslCSR(t *testing.T, name, subj string, extra ...string) string {
	t.Helper()
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	args := append([]string{"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", name + "-key.pem", "-subj", subj, "-out", name + ".csr"}, extra...)
	pkitest.MustOpenSSL(t, bin, dir, args...)
	return filepath.Join(dir, name+".csr")
}

func TestPKISignSignsAnOpenSSLCSR(t *testing.T) {
	dir := newPKIDir(t)
	csr := opensslCSR(t, "jenkins", "/O=ci/OU=build/CN=jenkins")
	out := pkiCLI(t, "sign", "--dir", dir, csr)
	for _, want := range []string{`issued client certificate "O = ci, OU = build, CN = jenkins"`, "private key  stays where the CSR was made", "certgate sees user=jenkins groups=[ci]"} {
		if !strings.Contains(out, want) {
			t.Errorf("sign output lacks %q:\n%s", want, out)
		}
	}
	cert := filepath.Join(dir, "certs", "jenkins.pem")
	if _, err := os.Stat(filepath.Join(dir, "certs", "jenkins-key.pem")); err == nil {
		t.Error("sign wrote a key file")
	}
	st, err := pki.ReadState(dir)
	if err != nil || len(st.Issued) != 1 || st.Issued[0].File != cert || st.Issued[0].Kind != "client" {
		t.Errorf("state %+v, %v", st, err)
	}
	if code, stdout, stderr := runCLI("verify", "--ca", filepath.Join(dir, "ca.pem"), cert); code != 0 || !strings.Contains(stdout, `"user": "jenkins"`) {
		t.Errorf("verify the signed certificate: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("pki", "sign", "--dir", dir, csr); code != 1 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("signing again without --force: exit %d %q", code, stderr)
	}
	// Revocation works for what sign issued as for what issue did.
	pkiCLI(t, "revoke", "--dir", dir, "--reason", "superseded", cert)

	out = pkiCLI(t, "sign", "--dir", dir, "--cn", "builder", "--o", "ci", "--o", "viewers", csr)
	if !strings.Contains(out, "user=builder groups=[ci, viewers]") {
		t.Errorf("--cn and --o do not override the CSR:\n%s", out)
	}
	out = pkiCLI(t, "sign", "--dir", dir, "--server", "--ip", "127.0.0.1", opensslCSR(t, "localhost", "/CN=localhost"))
	if !strings.Contains(out, "  SANs         DNS:localhost, IP:127.0.0.1\n") {
		t.Errorf("a server CSR for localhost:\n%s", out)
	}
}

func TestPKISignRefuses(t *testing.T) {
	dir := newPKIDir(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"a CSR asking for a CA", []string{opensslCSR(t, "subca", "/CN=Sub CA", "-addext", "basicConstraints=critical,CA:TRUE")}, 1, "CA:TRUE"},
		{"a server CSR without a host name or SAN", []string{"--server", opensslCSR(t, "build", "/CN=Build Server")}, 2, "needs at least one SAN"},
		{"a CSR without a CN and no --cn", []string{opensslCSR(t, "anon", "/O=ci")}, 1, "common name"},
		{"a certificate instead of a CSR", []string{filepath.Join(dir, "ca.pem")}, 1, "want one CERTIFICATE REQUEST"},
		{"no CSR", nil, 2, "need one CSR file"},
		{"a missing CSR file", []string{filepath.Join(dir, "nope.csr")}, 2, "nope.csr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"pki", "sign", "--dir", dir}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.contains) {
				t.Errorf("exit %d, want %d; stderr should contain %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
	if _, stdout, _ := runCLI("pki", "sign", "-h"); !strings.Contains(stdout, "openssl x509 -req -in jenkins.csr -CA ca.pem") {
		t.Errorf("sign -h does not name the openssl command it replaces:\n%s", stdout)
	}
}
