package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/certgate/certgate/crlfetch"
	"github.com/certgate/certgate/duration"
)

// CRLFetch configures CRLs fetched over HTTP; its keys sit directly under
// trust: (crl_urls, crl_refresh, …).
type CRLFetch struct {
	// URLs are fetched at start and then every Refresh and ahead of each
	// CRL's nextUpdate; PEM or DER, checked like crl_files before use.
	URLs []string `yaml:"crl_urls"`
	// Refresh is the most time between two fetches of one URL.
	Refresh duration.Duration `yaml:"crl_refresh"`
	// CacheDir keeps each URL's last good CRL, for a restart while the
	// server is down; empty keeps none.
	CacheDir string `yaml:"crl_cache_dir"`
	// Timeout bounds one fetch; MaxBytes one response body.
	Timeout  duration.Duration `yaml:"crl_fetch_timeout"`
	MaxBytes int64             `yaml:"crl_max_bytes"`
	// DistributionPoints learns CRL URLs from certificates.
	DistributionPoints CRLDistributionPoints `yaml:"crl_distribution_points"`
}

// CRLDistributionPoints says whether certgate learns CRL URLs from the CRL
// distribution points of the configured CA and intermediate certificates
// and of client certificates that verified, and which: only URLs under
// AllowedPrefixes, at most MaxURLs of them.
type CRLDistributionPoints struct {
	Enabled         bool     `yaml:"enabled"`
	AllowedPrefixes []string `yaml:"allowed_prefixes"`
	MaxURLs         int      `yaml:"max_urls"`
}

// defaultCRLFetch is what an unset crl_* key means.
func defaultCRLFetch() CRLFetch {
	return CRLFetch{
		Refresh:            duration.Duration(crlfetch.DefaultRefresh),
		Timeout:            duration.Duration(crlfetch.DefaultTimeout),
		MaxBytes:           crlfetch.DefaultMaxBytes,
		DistributionPoints: CRLDistributionPoints{MaxURLs: crlfetch.DefaultMaxLearned},
	}
}

// Fetches says whether any CRL comes over HTTP.
func (c CRLFetch) Fetches() bool { return len(c.URLs) > 0 || c.DistributionPoints.Enabled }

func (c CRLFetch) validateFetch() []error {
	var errs []error
	for _, u := range c.URLs {
		if err := crlfetch.CheckURL(u); err != nil {
			errs = append(errs, fmt.Errorf("trust.crl_urls: %w", err))
		}
	}
	if time.Duration(c.Refresh) < time.Second {
		errs = append(errs, fmt.Errorf("trust.crl_refresh %s: want at least 1s", time.Duration(c.Refresh)))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("trust.crl_fetch_timeout: must be positive"))
	}
	if c.MaxBytes <= 0 {
		errs = append(errs, errors.New("trust.crl_max_bytes: must be positive"))
	}
	dp := c.DistributionPoints
	if err := crlfetch.CheckPrefixes(dp.AllowedPrefixes); err != nil {
		errs = append(errs, fmt.Errorf("trust.crl_distribution_points: %w", err))
	}
	if dp.Enabled && len(dp.AllowedPrefixes) == 0 {
		errs = append(errs, errors.New("trust.crl_distribution_points: enabled needs allowed_prefixes (a certificate's URL is fetched only under one of them)"))
	}
	if dp.MaxURLs < 1 {
		errs = append(errs, fmt.Errorf("trust.crl_distribution_points.max_urls %d: want at least 1", dp.MaxURLs))
	}
	return errs
}
