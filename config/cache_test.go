package config_test

import (
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
)

func TestVerdictCacheBounds(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       config.VerdictCache
		problem    string
	}{
		{"left out, the defaults (zero)", "", config.VerdictCache{}, ""},
		{"a fleet's size", "cache:\n  verdicts:\n    max_entries: 250000\n    max_bytes: 335544320\n", config.VerdictCache{MaxEntries: 250000, MaxBytes: 320 << 20}, ""},
		{"turned off", "cache:\n  verdicts:\n    max_entries: -1\n", config.VerdictCache{MaxEntries: -1}, ""},
		{"bytes written as MiB", "cache:\n  verdicts:\n    max_bytes: 128\n", config.VerdictCache{MaxBytes: 128}, "cache.verdicts.max_bytes 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			if err := config.Parse([]byte(tc.yaml), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Cache.Verdicts != tc.want {
				t.Errorf("cache.verdicts = %+v, want %+v", cfg.Cache.Verdicts, tc.want)
			}
			err := cfg.Validate()
			if tc.problem == "" && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)) {
				t.Errorf("Validate: %v, want a problem naming %q", err, tc.problem)
			}
		})
	}
}

func TestDecisionCacheBounds(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       config.DecisionCache
		problem    string
	}{
		{"left out, the defaults (zero)", "", config.DecisionCache{}, ""},
		{"a larger fleet", "cache:\n  decisions:\n    max_entries: 200000\n    max_bytes: 134217728\n", config.DecisionCache{MaxEntries: 200000, MaxBytes: 128 << 20}, ""},
		{"turned off", "cache:\n  decisions:\n    max_bytes: -1\n", config.DecisionCache{MaxBytes: -1}, ""},
		{"bytes written as MiB", "cache:\n  decisions:\n    max_bytes: 32\n", config.DecisionCache{MaxBytes: 32}, "cache.decisions.max_bytes 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			if err := config.Parse([]byte(tc.yaml), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Cache.Decisions != tc.want {
				t.Errorf("cache.decisions = %+v, want %+v", cfg.Cache.Decisions, tc.want)
			}
			err := cfg.Validate()
			if tc.problem == "" && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)) {
				t.Errorf("Validate: %v, want a problem naming %q", err, tc.problem)
			}
		})
	}
}
