package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/config"
)

func TestLoadResolvesRelativePathsAgainstTheFilesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "certgate")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		name string
		yaml string
		want func(*config.Config)
	}{
		{"trust files", "trust:\n  ca_files: [ca.pem, /abs/ca2.pem]\n  intermediate_files: [sub/int.pem]\n  crl_files: [../crl.pem]\n", func(c *config.Config) {
			c.Trust.CAFiles = []string{in("ca.pem"), "/abs/ca2.pem"}
			c.Trust.IntermediateFiles = []string{in("sub/int.pem")}
			c.Trust.CRLFiles = []string{filepath.Join(filepath.Dir(dir), "crl.pem")}
		}},
		{"a CA binding's file", "trust:\n  ca_bindings:\n    - ca_file: team-ca.pem\n      allowed_users: [\"*\"]\n      allowed_groups: [team]\n", func(c *config.Config) {
			c.Trust.CABindings = []config.CABinding{{CAFile: in("team-ca.pem"), AllowedUsers: []string{"*"}, AllowedGroups: []string{"team"}}}
		}},
		{"the policy directory", "policy:\n  dir: policy\n", func(c *config.Config) { c.Policy.Dir = in("policy") }},
		{"no policy directory stays the embedded policy", "policy:\n  dir: \"\"\n", func(*config.Config) {}},
		{"the shadow policy directory", "policy:\n  shadow:\n    dir: shadow\n", func(c *config.Config) { c.Policy.Shadow.Dir = in("shadow") }},
		{"the admin certificate, key and socket", "admin:\n  listen: unix:run/admin.sock\n  cert_file: admin.pem\n  key_file: admin-key.pem\n", func(c *config.Config) {
			c.Admin.Listen, c.Admin.CertFile, c.Admin.KeyFile = "unix:"+in("run/admin.sock"), in("admin.pem"), in("admin-key.pem")
		}},
		{"a TCP admin address is no path", "admin:\n  listen: 127.0.0.1:9194\n", func(c *config.Config) { c.Admin.Listen = "127.0.0.1:9194" }},
		{"a decision log file", "decision_log:\n  output: log/decisions.jsonl\n", func(c *config.Config) { c.DecisionLog.Output = in("log/decisions.jsonl") }},
		{"a decision log on stderr is no file", "decision_log:\n  output: stderr\n", func(c *config.Config) { c.DecisionLog.Output = "stderr" }},
		{"a decision log that is off is no file", "decision_log:\n  output: \"off\"\n", func(c *config.Config) { c.DecisionLog.Output = "off" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := in("config.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := config.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			want := config.Default()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}
