package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/duration"
)

func TestParseReadsDurationsWithDaysAndWeeks(t *testing.T) {
	tests := []struct {
		name, yaml string
		get        func(config.Config) duration.Duration
		want       time.Duration
	}{
		{"crl_warn_before in days", "trust:\n  crl_warn_before: 2d\n", func(c config.Config) duration.Duration { return c.Trust.CRLWarnBefore }, 48 * time.Hour},
		{"crl_warn_before in weeks and days", "trust:\n  crl_warn_before: 1w2d\n", func(c config.Config) duration.Duration { return c.Trust.CRLWarnBefore }, 9 * 24 * time.Hour},
		{"shutdown_grace in Go's units", "listen:\n  shutdown_grace: 1m30s\n", func(c config.Config) duration.Duration { return c.Listen.ShutdownGrace }, 90 * time.Second},
		{"debounce in milliseconds", "reload:\n  debounce: 250ms\n", func(c config.Config) duration.Duration { return c.Reload.Debounce }, 250 * time.Millisecond},
		{"a zero debounce", "reload:\n  debounce: 0\n", func(c config.Config) duration.Duration { return c.Reload.Debounce }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			if err := config.Parse([]byte(tt.yaml), &cfg); err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(tt.get(cfg)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRejectsDurationsWithoutAUnit(t *testing.T) {
	for name, yaml := range map[string]string{
		"a bare number":  "reload:\n  debounce: 500\n",
		"a unit spelled": "trust:\n  crl_warn_before: 2 days\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			err := config.Parse([]byte(yaml), &cfg)
			if err == nil || !strings.Contains(err.Error(), "want a duration such as") {
				t.Errorf("Parse: %v, want an error saying what a duration looks like", err)
			}
		})
	}
}
