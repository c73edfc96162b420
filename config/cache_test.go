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
