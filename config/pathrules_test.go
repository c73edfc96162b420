package config_test

import (
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/trust"
)

// TestTrustProfileAndChainDepth: trust.profile and trust.max_chain_depth
// are read, validated and handed to the trust store; unset, they keep the
// compatible profile and no depth limit.
func TestTrustProfileAndChainDepth(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		profile trust.Profile
		depth   *int
		wantErr string
	}{
		{"unset", "", "", nil, ""},
		{"strict with a depth of 2", "trust:\n  profile: strict\n  max_chain_depth: 2\n", trust.ProfileStrict, new(2), ""},
		{"a depth of 0 allows no intermediate", "trust:\n  max_chain_depth: 0\n", "", new(0), ""},
		{"an unknown profile", "trust:\n  profile: lax\n", "lax", nil, "trust.profile"},
		{"a negative depth", "trust:\n  max_chain_depth: -1\n", "", new(-1), "trust.max_chain_depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			if err := config.Parse([]byte(tt.yaml), &cfg); err != nil {
				t.Fatal(err)
			}
			tc := cfg.TrustConfig()
			if tc.Profile != tt.profile || (tc.MaxChainDepth == nil) != (tt.depth == nil) || (tt.depth != nil && *tc.MaxChainDepth != *tt.depth) {
				t.Errorf("TrustConfig profile %q depth %v, want %q %v", tc.Profile, tc.MaxChainDepth, tt.profile, tt.depth)
			}
			err := cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
