package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
)

// TestPolicyOPAIsOPAsSchemaAndExcludesPolicyDir: policy.opa takes OPA's
// configuration as it is written for OPA; policy.dir beside it is an
// error, and a relative persistence_directory is relative to the file.
func TestPolicyOPAIsOPAsSchemaAndExcludesPolicyDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "certgate.yaml")
	yaml := `trust: {ca_files: [ca.pem]}
policy:
  opa:
    services:
      fleet: {url: "https://bundles.internal"}
    bundles:
      certgate:
        service: fleet
        resource: /certgate.tar.gz
        polling: {min_delay_seconds: 10, max_delay_seconds: 20}
        persist: true
    persistence_directory: state
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	bundles, _ := cfg.Policy.OPA["bundles"].(map[string]any)
	if _, ok := bundles["certgate"]; !ok {
		t.Fatalf("policy.opa.bundles: %v", cfg.Policy.OPA["bundles"])
	}
	if got, want := cfg.Policy.OPA["persistence_directory"], filepath.Join(dir, "state"); got != want {
		t.Errorf("persistence_directory %v, want %s", got, want)
	}
	both := cfg
	both.Policy.Dir = "/etc/certgate/policy"
	if err := both.Validate(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("policy.dir and policy.opa: %v, want an error", err)
	}
	env := func(k string) (string, bool) { return "/srv/policy", k == config.EnvPolicyDir }
	if err := config.ApplyEnv(&cfg, env); err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.OPA != nil || cfg.Policy.Dir != "/srv/policy" || cfg.Validate() != nil {
		t.Errorf("%s replaces the file's bundle: policy %+v", config.EnvPolicyDir, cfg.Policy)
	}
}

// TestDefaultStateDir: root keeps state in /var/lib/certgate, other users
// under XDG_STATE_HOME or ~/.local/state.
func TestDefaultStateDir(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		name string
		uid  int
		vars map[string]string
		want string
	}{
		{"root", 0, map[string]string{"HOME": "/root"}, "/var/lib/certgate"},
		{"a user with XDG_STATE_HOME", 1000, map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/home/u"}, "/s/certgate"},
		{"a user without it", 1000, map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/certgate"},
		{"a relative XDG_STATE_HOME is ignored", 1000, map[string]string{"XDG_STATE_HOME": "s", "HOME": "/home/u"}, "/home/u/.local/state/certgate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := config.DefaultStateDir(tc.uid, env(tc.vars)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
