package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// demo creates the `certgate dev` PKI in a temp dir.
func demo(t *testing.T) *pki.Demo {
	t.Helper()
	d, err := pki.EnsureDemo(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVerifyExitCodes(t *testing.T) {
	d := demo(t)
	ca, crl := d.Path("ca.pem"), d.Path("crl.pem")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"a valid certificate prints its identity", []string{"--ca", ca, "--crl", crl, d.ClientCert("viewer")}, 0, `"user": "viewer"`},
		{"a revoked certificate fails with the reason", []string{"--ca", ca, "--crl", crl, d.ClientCert("revoked")}, 1, "revoked"},
		{"an expired certificate fails with the reason", []string{"--ca", ca, "--crl", crl, d.ClientCert("expired")}, 1, "expired"},
		{"a foreign certificate fails with the reason", []string{"--ca", ca, d.ClientCert("stranger")}, 1, "unknown_authority"},
		{"the revoked certificate is valid without CRLs", []string{"--ca", ca, d.ClientCert("revoked")}, 0, `"groups": [`},
		{"a time before expiry makes the expired certificate valid", []string{"--ca", ca, "--at", time.Now().Add(-25 * time.Hour).Format(time.RFC3339), d.ClientCert("expired")}, 0, `"user": "expired"`},
		{"a missing --ca is a usage error", []string{d.ClientCert("viewer")}, 2, "need --ca"},
		{"a missing certificate file is a usage error", []string{"--ca", ca, filepath.Join(d.Dir, "nope.pem")}, 2, "nope.pem"},
		{"a bad --at is a usage error", []string{"--ca", ca, "--at", "yesterday", d.ClientCert("viewer")}, 2, "--at"},
		{"a server certificate is no client by default", []string{"--ca", ca, d.Path("server.pem")}, 1, "key_usage"},
		{"a server certificate verifies with --purpose server", []string{"--ca", ca, "--purpose", "server", d.Path("server.pem")}, 0, `"fingerprint_sha256"`},
		{"a server certificate verifies with --purpose any", []string{"--ca", ca, "--purpose", "any", d.Path("server.pem")}, 0, `"fingerprint_sha256"`},
		{"a client certificate is no server", []string{"--ca", ca, "--purpose", "server", d.ClientCert("viewer")}, 1, "key_usage"},
		{"an unknown --purpose is a usage error", []string{"--ca", ca, "--purpose", "email", d.ClientCert("viewer")}, 2, "--purpose"},
		{"a CA file that is a key is a usage error", []string{"--ca", d.Path("ca-key.pem"), d.ClientCert("viewer")}, 2, "ca-key.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"verify"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.contains) {
				t.Errorf("output does not mention %q\nstdout: %s\nstderr: %s", tt.contains, stdout, stderr)
			}
		})
	}
}

func TestDecidePrintsTheDecisionOfTheShippedPolicy(t *testing.T) {
	d := demo(t)
	cfg := filepath.Join(d.Dir, "config.yaml")
	yaml := "trust:\n  ca_files: [" + d.Path("ca.pem") + "]\n  crl_files: [" + d.Path("crl.pem") + "]\nlog:\n  level: error\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, client, method, path string
		code, status               int
		permission                 string
	}{
		{"jenkins may start a VM", "jenkins", "POST", "/api/v1/vm", 0, 200, "start_vm"},
		{"viewer may not start a VM", "viewer", "POST", "/api/v1/vm", 1, 403, "start_vm"},
		{"revoked is not authenticated", "revoked", "GET", "/api/v1/vm", 1, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("decide", "--config", cfg, "--cert", d.ClientCert(tt.client), "--method", tt.method, "--path", tt.path)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			var got decision
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("output is not the decision JSON: %v\n%s", err, stdout)
			}
			if got.Status != tt.status || got.Permission != tt.permission || got.Allow != (tt.code == 0) {
				t.Errorf("decision = %+v, want status %d permission %q", got, tt.status, tt.permission)
			}
		})
	}
}

func TestDecideRejectsUnknownConfigKeys(t *testing.T) {
	d := demo(t)
	cfg := filepath.Join(d.Dir, "bad.yaml")
	if err := os.WriteFile(cfg, []byte("trust:\n  ca_file: [x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("decide", "--config", cfg, "--cert", d.ClientCert("viewer"), "--path", "/")
	if code != 2 || !strings.Contains(stderr, "ca_file") {
		t.Errorf("exit %d stderr %q, want 2 and a message naming ca_file", code, stderr)
	}
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	code, _, stderr := runCLI("frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}
