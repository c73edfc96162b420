package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/duration"
)

func TestCRLURLKeysLoadUnderTrust(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	yaml := `trust:
  ca_files: [ca.pem]
  crl_urls: [http://crl.example.com/ca.crl]
  crl_refresh: 2s
  crl_cache_dir: cache
  crl_distribution_points:
    enabled: true
    allowed_prefixes: [http://crl.example.com/]
`
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tr := cfg.Trust
	if tr.URLs[0] != "http://crl.example.com/ca.crl" || time.Duration(tr.Refresh) != 2*time.Second ||
		tr.CacheDir != filepath.Join(filepath.Dir(p), "cache") || !tr.DistributionPoints.Enabled || tr.DistributionPoints.MaxURLs != 16 {
		t.Fatalf("trust %+v", tr.CRLFetch)
	}
	if !cfg.TrustConfig().FetchesCRLs {
		t.Fatal("FetchesCRLs not set with crl_urls")
	}
	if config.Default().TrustConfig().FetchesCRLs {
		t.Fatal("FetchesCRLs set by default")
	}
}

func TestCRLURLKeysAreValidated(t *testing.T) {
	for name, tt := range map[string]struct {
		edit func(*config.CRLFetch)
		want string
	}{
		"a file URL":                {func(c *config.CRLFetch) { c.URLs = []string{"file:///etc/crl.pem"} }, "crl_urls"},
		"a relative URL":            {func(c *config.CRLFetch) { c.URLs = []string{"crl.pem"} }, "crl_urls"},
		"a refresh under a second":  {func(c *config.CRLFetch) { c.Refresh = duration.Duration(time.Millisecond) }, "crl_refresh"},
		"no size limit":             {func(c *config.CRLFetch) { c.MaxBytes = 0 }, "crl_max_bytes"},
		"learning without prefixes": {func(c *config.CRLFetch) { c.DistributionPoints.Enabled = true }, "allowed_prefixes"},
		"a prefix without a slash": {func(c *config.CRLFetch) {
			c.DistributionPoints.AllowedPrefixes = []string{"http://crl.example.com/crls"}
		}, "ending in a slash"},
		"no learned URL allowed": {func(c *config.CRLFetch) { c.DistributionPoints.MaxURLs = 0 }, "max_urls"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			tt.edit(&cfg.Trust.CRLFetch)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestCRLURLsFromTheEnvironment(t *testing.T) {
	cfg := config.Default()
	env := map[string]string{config.EnvCRLURLs: "http://a.example/a.crl, http://b.example/b.crl"}
	if err := config.ApplyEnv(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Trust.URLs, " "); got != "http://a.example/a.crl http://b.example/b.crl" {
		t.Fatalf("crl_urls %q", got)
	}
}
