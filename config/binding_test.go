package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/trust"
)

func TestCABindingsAreReadAndPassedToTrust(t *testing.T) {
	cfg := config.Default()
	yaml := "trust:\n  ca_files: [root.pem]\n  ca_bindings:\n" +
		"    - ca_file: team-ca.pem\n      allowed_users: [\"team-*\"]\n      allowed_groups: [team-dev]\n" +
		"    - fingerprint_sha256: ab:cd\n      allowed_users: []\n      allowed_groups: []\n"
	if err := config.Parse([]byte(yaml), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := []trust.Binding{
		{CAFile: "team-ca.pem", AllowedUsers: []string{"team-*"}, AllowedGroups: []string{"team-dev"}},
		{FingerprintSHA256: "ab:cd", AllowedUsers: []string{}, AllowedGroups: []string{}},
	}
	if diff := cmp.Diff(want, cfg.TrustConfig().Bindings); diff != "" {
		t.Errorf("TrustConfig().Bindings (-want +got):\n%s", diff)
	}
}

func TestValidateWantsEveryCABindingSpelledOut(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"no CA", "allowed_users: []\n      allowed_groups: []", "set one of ca_file and fingerprint_sha256"},
		{"two CAs", "ca_file: a.pem\n      fingerprint_sha256: ab\n      allowed_users: []\n      allowed_groups: []", "set one of ca_file and fingerprint_sha256"},
		{"no allowed_users", "ca_file: a.pem\n      allowed_groups: [x]", "ca_bindings[0].allowed_users"},
		{"no allowed_groups", "ca_file: a.pem\n      allowed_users: [x]", "ca_bindings[0].allowed_groups"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			if err := config.Parse([]byte("trust:\n  ca_files: [root.pem]\n  ca_bindings:\n    - "+tt.yaml+"\n"), &cfg); err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
