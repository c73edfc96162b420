package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/server"
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

func TestServeWarnsOfUnboundNameConstrainedCAs(t *testing.T) {
	dir := t.TempDir()
	root, err := pki.NewRootCA(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	team, err := root.NewIntermediate(pki.Options{PermittedDNSDomains: []string{"team.example"}})
	if err != nil {
		t.Fatal(err)
	}
	rootFile, teamFile := filepath.Join(dir, "root.pem"), filepath.Join(dir, "team.pem")
	for f, pem := range map[string][]byte{rootFile: root.CertPEM(), teamFile: team.CertPEM()} {
		if err := os.WriteFile(f, pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		bindings []config.CABinding
		warned   bool
	}{
		{"an unbound constrained CA is warned about", nil, true},
		{"a bound one is not", []config.CABinding{{CAFile: teamFile, AllowedUsers: []string{"*"}, AllowedGroups: []string{"team-*"}}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles, cfg.Trust.IntermediateFiles, cfg.Trust.CABindings = []string{rootFile}, []string{teamFile}, tt.bindings
			snap, err := server.LoadSnapshot(context.Background(), cfg.TrustConfig(), "", 1)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			warnUnboundConstrainedCAs(slog.New(slog.NewJSONHandler(&out, nil)), snap)
			if got := strings.Contains(out.String(), "trust.ca_bindings"); got != tt.warned {
				t.Errorf("warned %v, want %v: %s", got, tt.warned, out.String())
			}
		})
	}
}
