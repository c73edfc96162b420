package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki/pkitest"
)

// TestInspectPrintsSubjectsAsOpenSSLDoes: a certificate with two O values
// (two RDNs, as certgate pki and `openssl req -subj /O=a/O=b` write them)
// prints its subject and issuer as `openssl x509 -noout -subject -issuer`
// does, not as one multi-valued RDN.
func TestInspectPrintsSubjectsAsOpenSSLDoes(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	dir := newPKIDir(t)
	pkiCLI(t, "issue", "--dir", dir, "--cn", "alice", "--o", "admins", "--o", "viewers", "--ou", "ops")
	cert := filepath.Join(dir, "certs", "alice.pem")
	out, err := exec.Command(bin, "x509", "-noout", "-subject", "-issuer", "-in", cert).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	subject, issuer, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	inspect := pkiCLI(t, "inspect", cert)
	for _, want := range []string{
		"  subject:       " + strings.TrimPrefix(subject, "subject=") + "\n",
		"  issuer:        " + strings.TrimPrefix(issuer, "issuer=") + "\n",
	} {
		if !strings.Contains(inspect, want) {
			t.Errorf("inspect lacks %q (openssl's):\n%s", want, inspect)
		}
	}
	if want := "O = admins, O = viewers, OU = ops, CN = alice"; subject != "subject="+want {
		t.Errorf("openssl prints %q, want %q", subject, want)
	}
}

// TestExplainPrintsSubjectsAsOpenSSLDoes: explain names the certificate as
// openssl would, from the file it sent.
func TestExplainPrintsSubjectsAsOpenSSLDoes(t *testing.T) {
	s := startDev(t)
	code, stdout, stderr := runCLI("explain", "--admin", s.admin, "--cert", s.client("viewer"), "--path", "/api/v1/vm")
	if want := "subject O = viewers, CN = viewer, issuer O = certgate dev, CN = certgate dev CA, serial "; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("explain: exit %d, output lacks %q\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
	}
}
