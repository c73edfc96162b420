package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolsApplyCABindings: trust.ca_bindings of the config reach decide
// and pki inspect --config, as they reach the service.
func TestToolsApplyCABindings(t *testing.T) {
	d := demo(t)
	cfg := filepath.Join(d.Dir, "config.yaml")
	yaml := "trust:\n  ca_files: [" + d.Path("ca.pem") + "]\n  crl_files: [" + d.Path("crl.pem") + "]\n" +
		"  ca_bindings:\n    - ca_file: " + d.Path("ca.pem") + "\n      allowed_users: [viewer]\n      allowed_groups: [viewers]\nlog:\n  level: error\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"decide accepts what the binding allows", []string{"decide", "--config", cfg, "--cert", d.ClientCert("viewer"), "--path", "/api/v1/vm"}, 0, `"status": 200`},
		{"decide refuses a user the binding does not allow", []string{"decide", "--config", cfg, "--cert", d.ClientCert("jenkins"), "--method", "POST", "--path", "/api/v1/vm"}, 1, `"status": 401`},
		{"pki inspect --config names the reason", []string{"pki", "inspect", "--json", "--config", cfg, d.ClientCert("jenkins")}, 1, `"reason": "identity_not_allowed_for_ca"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.contains) {
				t.Errorf("exit %d, want %d; stdout should contain %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
}
