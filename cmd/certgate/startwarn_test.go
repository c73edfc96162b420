package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// startServe runs serve in-process with args until it logs "serving" and
// returns what it logged by then.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	args = append([]string{"serve", "--grpc-listen", "127.0.0.1:0", "--http-listen", "off", "--metrics-listen", "off", "--admin-listen", "off", "--log-format", "text"}, args...)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "msg=serving") {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not serving after 20s:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stderr.String()
}

// TestServeWarnsAtStartAboutRevocationSetUpsThatDenyOrAcceptEveryone: a
// set-up that denies every client, or accepts every revoked certificate,
// starts with a WARN line that says so and names the CA.
func TestServeWarnsAtStartAboutRevocationSetUpsThatDenyOrAcceptEveryone(t *testing.T) {
	d := demo(t)
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(other, pki.EncodeCertsPEM(pkitest.New(t, "Other CA").Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		want       []string // lines, each found by all of its parts
		wantNoWarn bool
	}{
		{"a CA without a CRL under full_chain denies all its clients", []string{"--ca", d.Path("ca.pem"), "--ca", other, "--crl", d.Path("crl.pem")}, []string{
			`level=INFO msg="revocation checking" crl_mode=full_chain set_by="default with CRLs"`,
			`level=WARN|will be denied with 401 crl_unavailable|ca="O = certgate tests, CN = Other CA" crl_mode=full_chain`,
		}, false},
		{"the same CA under leaf denies the clients it issued", []string{"--ca", d.Path("ca.pem"), "--ca", other, "--crl", d.Path("crl.pem"), "--crl-mode", "leaf"}, []string{
			`level=INFO msg="revocation checking" crl_mode=leaf set_by=trust.crl_mode`,
			`level=WARN|every client certificate it issues directly will be denied with 401 crl_unavailable|ca="O = certgate tests, CN = Other CA" crl_mode=leaf`,
		}, false},
		{"no CRL at all means off, and accepts revoked certificates", []string{"--ca", d.Path("ca.pem")}, []string{
			`level=INFO msg="revocation checking" crl_mode=off set_by="default without CRLs"`,
			`level=WARN|no CRL is configured, so crl_mode is off: revoked client certificates are accepted`,
		}, false},
		{"crl_mode off said outright is no warning", []string{"--ca", d.Path("ca.pem"), "--crl-mode", "off"}, []string{
			`level=INFO msg="revocation checking" crl_mode=off set_by=trust.crl_mode`,
		}, true},
		{"every CA with its CRL is no warning", []string{"--ca", d.Path("ca.pem"), "--crl", d.Path("crl.pem")}, []string{
			`level=INFO msg="revocation checking" crl_mode=full_chain set_by="default with CRLs"`,
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := startServe(t, tt.args...)
			for _, want := range tt.want {
				if !hasLine(log, strings.Split(want, "|")...) {
					t.Errorf("no line with %q in:\n%s", want, log)
				}
			}
			if tt.wantNoWarn && strings.Contains(log, "level=WARN") {
				t.Errorf("a warning at start:\n%s", log)
			}
		})
	}
}

// hasLine says whether one line of log holds every part.
func hasLine(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestServeWarnsAfterAReloadThatLeavesACAWithoutCRL: a CRL file replaced by
// another CA's CRL turns every client away from the next reload on; the
// log says so then, not only at start.
func TestServeWarnsAfterAReloadThatLeavesACAWithoutCRL(t *testing.T) {
	d := demo(t)
	dir := t.TempDir()
	crl := filepath.Join(dir, "crl.pem")
	data, err := os.ReadFile(d.Path("crl.pem"))
	if err == nil {
		err = os.WriteFile(crl, data, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix:" + filepath.Join(dir, "admin.sock")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--grpc-listen", "127.0.0.1:0", "--http-listen", "off", "--metrics-listen", "off", "--log-format", "text",
			"--admin-listen", sock, "--ca", d.Path("ca.pem"), "--crl", crl}, &stdout, &stderr)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "msg=serving"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve is not serving after 20s:\n%s", stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "level=WARN") {
		t.Fatalf("a warning at start:\n%s", stderr.String())
	}
	other := pkitest.New(t, "Other CA")
	if err := os.WriteFile(crl, pki.EncodeCRLPEM(other.CRL().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("reload", "--admin", sock); code != exitOK {
		t.Fatalf("reload: exit %d\n%s%s", code, out, errOut)
	}
	if !hasLine(stderr.String(), "level=WARN", "will be denied with 401 crl_unavailable", `ca="O = certgate dev, CN = certgate dev CA"`) {
		t.Errorf("no warning after the reload:\n%s", stderr.String())
	}
}
