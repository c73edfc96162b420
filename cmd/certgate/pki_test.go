package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certgate/certgate/pki"
)

// pkiCLI runs `certgate pki ARGS` and fails the test unless it exits 0.
func pkiCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(append([]string{"pki"}, args...)...)
	if code != 0 {
		t.Fatalf("certgate pki %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// newPKIDir runs `certgate pki init` in a temp dir and returns the PKI dir.
func newPKIDir(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	pkiCLI(t, append([]string{"init", "--dir", dir, "--cn", "Test CA"}, extra...)...)
	return dir
}

func TestPKIWalkthrough(t *testing.T) {
	dir := newPKIDir(t, "--o", "Example")
	out := pkiCLI(t, "issue", "--dir", dir, "--cn", "jenkins", "--o", "ci", "--ou", "build")
	if !strings.Contains(out, "user=jenkins groups=[ci]") {
		t.Errorf("issue output does not say what certgate sees:\n%s", out)
	}
	pkiCLI(t, "issue", "--dir", dir, "--server", "--cn", "ctl.example.com", "--ip", "127.0.0.1", "--key", "rsa2048")
	pkiCLI(t, "issue", "--dir", dir, "--cn", "viewer", "--o", "viewers", "--uri", "spiffe://example.com/ns/ci/sa/viewer", "--days", "30")
	jenkins := filepath.Join(dir, "certs", "jenkins.pem")
	pkiCLI(t, "revoke", "--dir", dir, "--reason", "keyCompromise", jenkins)
	out = pkiCLI(t, "crl", "--dir", dir, "--days", "3")
	if !strings.Contains(out, "CRL number 1 with 1 revoked") {
		t.Errorf("crl output: %s", out)
	}
	pkiCLI(t, "crl", "--check", "--dir", dir, "--min", "48h")
	if code, stdout, _ := runCLI("pki", "crl", "--check", "--dir", dir, "--min", "96h"); code != 1 || !strings.HasPrefix(stdout, "FAIL") {
		t.Errorf("crl --check under the threshold: exit %d %q, want 1 and FAIL", code, stdout)
	}

	t.Run("the service's verify agrees with the CRL", func(t *testing.T) {
		ca, crl := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem")
		if code, _, _ := runCLI("verify", "--ca", ca, "--crl", crl, jenkins); code != 1 {
			t.Errorf("verify revoked jenkins: exit %d, want 1", code)
		}
		if code, out, errs := runCLI("verify", "--ca", ca, "--crl", crl, filepath.Join(dir, "certs", "viewer.pem")); code != 0 {
			t.Errorf("verify viewer: exit %d\n%s%s", code, out, errs)
		}
	})

	t.Run("inspect shows identity, key and usages", func(t *testing.T) {
		var rep inspectReport
		if err := json.Unmarshal([]byte(pkiCLI(t, "inspect", "--json", filepath.Join(dir, "certs", "viewer.pem"))), &rep); err != nil {
			t.Fatal(err)
		}
		c := rep.Certificates[0]
		got := []any{c.Identity.User, c.Identity.Groups, c.Identity.SPIFFEID, c.Key, c.KeyUsage, c.ExtKeyUsage, len(c.Identity.FingerprintSHA256)}
		want := []any{"viewer", []string{"viewers"}, "spiffe://example.com/ns/ci/sa/viewer", "ECDSA P-256", []string{"digitalSignature"}, []string{"clientAuth"}, 64}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("inspect (-want +got):\n%s", diff)
		}
		out := pkiCLI(t, "inspect", filepath.Join(dir, "certs", "ctl.example.com.pem"))
		for _, w := range []string{"DNS:ctl.example.com", "IP:127.0.0.1", "RSA 2048", "digitalSignature, keyEncipherment", "serverAuth"} {
			if !strings.Contains(out, w) {
				t.Errorf("inspect of the server certificate lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("inspect reads the DER CRL", func(t *testing.T) {
		var rep inspectReport
		if err := json.Unmarshal([]byte(pkiCLI(t, "inspect", "--json", filepath.Join(dir, "crl.der"))), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.CRLs) != 1 || rep.CRLs[0].Number != "1" || len(rep.CRLs[0].Entries) != 1 || rep.CRLs[0].Entries[0].Reason != "keyCompromise" {
			t.Errorf("inspect crl.der = %+v", rep.CRLs)
		}
	})

	t.Run("inspect --config verifies and lists the permissions", func(t *testing.T) {
		cfg := filepath.Join(dir, "config.yaml")
		yaml := fmt.Sprintf("trust:\n  ca_files: [%s]\n  crl_files: [%s]\n", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem"))
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var rep inspectReport
		code, stdout, stderr := runCLI("pki", "inspect", "--json", "--config", cfg, filepath.Join(dir, "certs", "viewer.pem"))
		if code != 0 {
			t.Fatalf("exit %d: %s %s", code, stdout, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		// The shipped policy's viewers group.
		want := &verifyReport{Config: cfg, Verified: true, Permissions: []string{"authenticated", "get_groups", "list_nodes", "list_vms", "registry_list", "view_logs"}}
		if diff := cmp.Diff(want, rep.Verification); diff != "" {
			t.Errorf("verification (-want +got):\n%s", diff)
		}
		code, stdout, _ = runCLI("pki", "inspect", "--config", cfg, jenkins)
		if code != 1 || !strings.Contains(stdout, "verified:      no: revoked") {
			t.Errorf("inspect --config of revoked jenkins: exit %d\n%s", code, stdout)
		}
	})

	t.Run("export writes a PKCS #12 file with the CA", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pw, []byte("correct horse\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p12 := filepath.Join(t.TempDir(), "viewer.p12")
		pkiCLI(t, "export", "--dir", dir, "--password-file", pw, "--out", p12, filepath.Join(dir, "certs", "viewer.pem"))
		data, err := os.ReadFile(p12)
		if err != nil {
			t.Fatal(err)
		}
		_, cert, chain, err := pkcs12.DecodeChain(data, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != "viewer" || len(chain) != 1 || chain[0].Subject.CommonName != "Test CA" {
			t.Errorf("p12 holds %v with chain %d", cert.Subject, len(chain))
		}
		if code, _, stderr := runCLI("pki", "export", "--dir", dir, "--password-file", pw, "--out", p12, filepath.Join(dir, "certs", "viewer.pem")); code != 1 || !strings.Contains(stderr, "refusing to overwrite") {
			t.Errorf("export over an existing file: exit %d %q", code, stderr)
		}
	})
}

func TestPKIIssueServerLocalhostGetsAndPrintsDNSLocalhost(t *testing.T) {
	dir := newPKIDir(t)
	out := pkiCLI(t, "issue", "--dir", dir, "--server", "--cn", "localhost", "--ip", "127.0.0.1")
	if !strings.Contains(out, "  SANs         DNS:localhost, IP:127.0.0.1\n") {
		t.Errorf("issue --server --cn localhost does not print DNS:localhost among the SANs:\n%s", out)
	}
	// What curl https://localhost checks: the name against the SANs.
	data, err := os.ReadFile(filepath.Join(dir, "certs", "localhost.pem"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCertsPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := certs[0].VerifyHostname("localhost"); err != nil {
		t.Errorf("a TLS client connecting to localhost refuses it: %v", err)
	}
}

func TestPKIErrorsAreClear(t *testing.T) {
	dir := newPKIDir(t)
	pkiCLI(t, "issue", "--dir", dir, "--cn", "alice")
	other := newPKIDir(t)
	pkiCLI(t, "issue", "--dir", other, "--cn", "mallory")
	pkiCLI(t, "crl", "--dir", other)
	noKey := newPKIDir(t)
	if err := os.Remove(filepath.Join(noKey, "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	alice := filepath.Join(dir, "certs", "alice.pem")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"an unknown reason lists the valid ones", []string{"revoke", "--dir", dir, "--reason", "stolen", alice}, 2, "valid reasons: unspecified, keyCompromise,"},
		{"a missing CA key is named", []string{"issue", "--dir", noKey, "--cn", "bob"}, 1, "CA key missing"},
		{"a certificate of another CA is refused", []string{"revoke", "--dir", dir, filepath.Join(other, "certs", "mallory.pem")}, 1, "not issued by this CA"},
		{"an unknown serial is refused", []string{"revoke", "--dir", dir, "--serial", "de:ad:be:ef"}, 1, "not in the state file"},
		{"overwriting needs --force", []string{"issue", "--dir", dir, "--cn", "alice"}, 1, "refusing to overwrite (use --force)"},
		{"a server certificate needs a SAN", []string{"issue", "--dir", dir, "--server", "--cn", "Build Server"}, 2, "needs at least one SAN"},
		{"issue needs a CN", []string{"issue", "--dir", dir, "--o", "ci"}, 2, "need --cn"},
		{"an unknown key type is a usage error", []string{"issue", "--dir", dir, "--cn", "x", "--key", "dsa"}, 2, "unknown key type"},
		{"a missing PKI directory says how to make one", []string{"issue", "--dir", filepath.Join(dir, "nope"), "--cn", "x"}, 1, "certgate pki init"},
		{"init refuses an existing CA", []string{"init", "--dir", dir}, 1, "already holds a CA"},
		{"export refuses an empty password", []string{"export", "--dir", dir, "--password-file", os.DevNull, alice}, 2, "empty export password"},
		{"crl --check refuses a CRL of another CA with the same name", []string{"crl", "--check", "--dir", dir, "--file", filepath.Join(other, "crl.pem")}, 1, "not signed by CA"},
		{"an unknown subcommand is a usage error", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"pki"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.contains) {
				t.Errorf("exit %d, want %d; stderr should contain %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
	if code, _, _ := runCLI("pki", "issue", "--dir", dir, "--cn", "alice", "--force"); code != 0 {
		t.Errorf("issue --force over alice: exit %d", code)
	}
}

func TestPKIHelpShowsExamples(t *testing.T) {
	for _, c := range pkiCommands() {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, _ := runCLI("pki", c.name, "-h")
			if code != 0 || !strings.Contains(stdout, "Usage:\n  certgate pki "+c.name) || !strings.Contains(stdout, "Examples:\n  ") || !strings.Contains(stdout, "certgate pki "+c.name+" ") {
				t.Errorf("exit %d, help:\n%s", code, stdout)
			}
		})
	}
	code, _, stderr := runCLI("pki")
	if code != 2 || !strings.Contains(stderr, "inspect") {
		t.Errorf("bare pki: exit %d\n%s", code, stderr)
	}
}

func TestPKIConcurrentRevokesFromTheCLI(t *testing.T) {
	dir := newPKIDir(t)
	const n = 8
	for i := range n {
		pkiCLI(t, "issue", "--dir", dir, "--cn", fmt.Sprintf("client%d", i))
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i], _, _ = runCLI("pki", "revoke", "--dir", dir, "--reason", "superseded", filepath.Join(dir, "certs", fmt.Sprintf("client%d.pem", i)))
			if codes[i] == 0 {
				codes[i], _, _ = runCLI("pki", "crl", "--dir", dir)
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("client%d: exit %d", i, c)
		}
	}
	st, err := pki.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Revoked) != n || st.CRLNumber != n {
		t.Errorf("state: %d revoked, CRL number %d; want %d and %d", len(st.Revoked), st.CRLNumber, n, n)
	}
}

func TestPKIInitIntermediateAndInspectItsChain(t *testing.T) {
	root := newPKIDir(t)
	inter := filepath.Join(t.TempDir(), "issuing")
	pkiCLI(t, "init", "--dir", inter, "--cn", "Issuing CA", "--ca", filepath.Join(root, "ca.pem"), "--ca-key", filepath.Join(root, "ca-key.pem"), "--path-len", "0")
	pkiCLI(t, "issue", "--dir", inter, "--cn", "carol", "--o", "ci")
	pkiCLI(t, "crl", "--dir", root)
	pkiCLI(t, "crl", "--dir", inter)
	var rep inspectReport
	if err := json.Unmarshal([]byte(pkiCLI(t, "inspect", "--json", filepath.Join(inter, "chain.pem"))), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Certificates) != 1 || !rep.Certificates[0].IsCA || rep.Certificates[0].Identity.Issuer != "CN=Test CA" {
		t.Errorf("chain.pem inspected as %+v", rep.Certificates)
	}
	// certgate's verify with the intermediate and both CRLs, as the service would.
	code, stdout, stderr := runCLI("verify", "--ca", filepath.Join(root, "ca.pem"), "--intermediate", filepath.Join(inter, "chain.pem"),
		"--crl", filepath.Join(root, "crl.pem"), "--crl", filepath.Join(inter, "crl.pem"), filepath.Join(inter, "certs", "carol.pem"))
	if code != 0 {
		t.Errorf("verify carol through the intermediate: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"--ca without --ca-key is a usage error", []string{"--ca", filepath.Join(root, "ca.pem")}, 2, "go together"},
		{"a missing parent key is named", []string{"--ca", filepath.Join(root, "ca.pem"), "--ca-key", filepath.Join(root, "nope.pem")}, 1, "CA key missing"},
		{"a parent key that does not match is refused", []string{"--ca", filepath.Join(root, "ca.pem"), "--ca-key", filepath.Join(inter, "ca-key.pem")}, 1, "does not match"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"pki", "init", "--dir", filepath.Join(t.TempDir(), "x")}, tt.args...)
			code, _, stderr := runCLI(args...)
			if code != tt.code || !strings.Contains(stderr, tt.contains) {
				t.Errorf("exit %d, want %d; stderr %q should contain %q", code, tt.code, stderr, tt.contains)
			}
		})
	}
}

// TestPKIInitCRLURLNamesTheCRLInWhatTheCAIssues: pki init --crl-url makes
// every leaf the CA issues, and an intermediate it signs, carry the URL as
// its CRL distribution point; the CA's own certificate does not.
func TestPKIInitCRLURLNamesTheCRLInWhatTheCAIssues(t *testing.T) {
	root := newPKIDir(t, "--crl-url", "http://crl.example.com/root.crl")
	pkiCLI(t, "issue", "--dir", root, "--cn", "jenkins", "--o", "ci")
	issuing := filepath.Join(t.TempDir(), "issuing")
	pkiCLI(t, "init", "--dir", issuing, "--cn", "Issuing CA", "--ca", filepath.Join(root, "ca.pem"), "--ca-key", filepath.Join(root, "ca-key.pem"),
		"--crl-url", "http://crl.example.com/issuing.crl")
	pkiCLI(t, "issue", "--dir", issuing, "--cn", "bob")
	plain := newPKIDir(t)
	pkiCLI(t, "issue", "--dir", plain, "--cn", "carol")
	for _, tt := range []struct {
		file string
		want []string
	}{
		{filepath.Join(root, "certs", "jenkins.pem"), []string{"http://crl.example.com/root.crl"}},
		{filepath.Join(issuing, "ca.pem"), []string{"http://crl.example.com/root.crl"}},
		{filepath.Join(issuing, "certs", "bob.pem"), []string{"http://crl.example.com/issuing.crl"}},
		{filepath.Join(root, "ca.pem"), nil},
		{filepath.Join(plain, "certs", "carol.pem"), nil},
	} {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, certs[0].CRLDistributionPoints); diff != "" {
			t.Errorf("%s: CRL distribution points (-want +got):\n%s", tt.file, diff)
		}
	}
	if code, _, stderr := runCLI("pki", "init", "--dir", filepath.Join(t.TempDir(), "x"), "--cn", "x", "--crl-url", "file:///crl.pem"); code != exitUsage {
		t.Errorf("--crl-url file:///: exit %d, want %d (%s)", code, exitUsage, stderr)
	}
}
