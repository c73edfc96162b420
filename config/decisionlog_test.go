package config_test

import (
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
)

func TestDecisionLogLimitsHaveSafeDefaultsAndAreRead(t *testing.T) {
	d := config.Default().DecisionLog
	if d.DenyRate != 50 || d.DenyBurst != 100 || d.QueryValues {
		t.Errorf("default decision_log = %+v, want deny_rate 50, deny_burst 100, query_values false", d)
	}
	cfg := config.Default()
	if err := config.Parse([]byte("decision_log:\n  deny_rate: 5\n  deny_burst: 7\n  query_values: true\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	if d := cfg.DecisionLog; d.DenyRate != 5 || d.DenyBurst != 7 || !d.QueryValues {
		t.Errorf("parsed decision_log = %+v", d)
	}
}

func TestValidateRefusesBadDenyLimits(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rate  float64
		burst int
		want  string
	}{
		{"a negative rate", -1, 100, "decision_log.deny_rate"},
		{"a rate without a burst", 10, 0, "decision_log.deny_burst"},
		{"no limit at all", 0, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			cfg.DecisionLog.DenyRate, cfg.DecisionLog.DenyBurst = tt.rate, tt.burst
			err := cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
