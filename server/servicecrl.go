package server

import (
	"context"
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/crlfetch"
	"github.com/certgate/certgate/trust"
)

// newCRLFetcher builds the fetcher of trust.crl_urls and learned
// distribution points, or returns nil when neither is configured. Each
// document it fetches is checked by trust.CheckCRLDocument against the
// configured CAs and against the store serving (serving returns it, nil
// before the first snapshot) before it replaces the last good one; reload
// is called after it did. A readOnlyCache fetcher reads trust.crl_cache_dir
// but never writes it.
func newCRLFetcher(cfg config.Config, log *slog.Logger, serving func() *trust.Store, reload func(context.Context), readOnlyCache bool) (*crlfetch.Fetcher, error) {
	fc := cfg.Trust.CRLFetch
	if !fc.Fetches() {
		return nil, nil
	}
	tc := cfg.TrustConfig()
	check := func(doc crlfetch.Document, prev *crlfetch.Document) (crlfetch.Info, error) {
		cas, err := trust.LoadCAs(tc)
		if err != nil {
			return crlfetch.Info{}, err
		}
		var p *trust.CRLDocument
		if prev != nil {
			p = &trust.CRLDocument{Name: prev.URL, Data: prev.Data}
		}
		crls, err := trust.CheckCRLDocument(cas, trust.CRLDocument{Name: doc.URL, Data: doc.Data}, p, serving())
		if err != nil {
			return crlfetch.Info{}, err
		}
		return crlInfo(crls), nil
	}
	var learn crlfetch.LearnOptions
	if fc.DistributionPoints.Enabled {
		learn = crlfetch.LearnOptions{AllowedPrefixes: fc.DistributionPoints.AllowedPrefixes, Max: fc.DistributionPoints.MaxURLs}
	}
	return crlfetch.New(crlfetch.Options{
		URLs: fc.URLs, Refresh: time.Duration(fc.Refresh), Timeout: time.Duration(fc.Timeout), MaxBytes: fc.MaxBytes,
		CacheDir: fc.CacheDir, ReadOnlyCache: readOnlyCache, Learn: learn, Check: check, OnChange: reload, Logger: log,
	})
}

// crlInfo is what the status shows of a document's CRLs: the latest
// thisUpdate, the earliest nextUpdate (what schedules the next fetch) and
// the first CRL's number.
func crlInfo(crls []*x509.RevocationList) crlfetch.Info {
	var info crlfetch.Info
	for i, c := range crls {
		if c.ThisUpdate.After(info.ThisUpdate) {
			info.ThisUpdate = c.ThisUpdate
		}
		if info.NextUpdate.IsZero() || (!c.NextUpdate.IsZero() && c.NextUpdate.Before(info.NextUpdate)) {
			info.NextUpdate = c.NextUpdate
		}
		if i == 0 && c.Number != nil {
			info.Number = c.Number.String()
		}
	}
	return info
}

// withFetchedCRLs adds the fetcher's documents to tc, without the CRLs that
// none of tc's CAs signs any more (trust.KeepSigned): a CA replaced on disk
// must not make every reload fail, and so stay trusted, while its CRL URL
// still serves the old key's CRL.
func withFetchedCRLs(tc trust.Config, f *crlfetch.Fetcher, log *slog.Logger) trust.Config {
	if f == nil {
		return tc
	}
	docs := f.Documents()
	if len(docs) == 0 {
		return tc
	}
	if log == nil {
		log = slog.Default()
	}
	cas, err := trust.LoadCAs(tc)
	for _, d := range docs {
		doc := trust.CRLDocument{Name: d.URL, Data: d.Data}
		if err == nil { // else the load fails on the CA files anyway
			var dropped int
			if doc, dropped = trust.KeepSigned(cas, doc); dropped > 0 {
				log.Warn("fetched CRLs left out: no configured CA signs them any more (a CA replaced?); the certificates they covered are missing their CRL until the URL serves one the CAs sign",
					"url", d.URL, "left_out", dropped)
			}
			if len(doc.Data) == 0 {
				continue
			}
		}
		tc.CRLDocuments = append(tc.CRLDocuments, doc)
	}
	return tc
}

// learnFromCAs hands the fetcher the distribution points of the
// configured CA certificates of snap, when it learns.
func (s *Service) learnFromCAs(snap *Snapshot) {
	if s.fetcher != nil && s.cfg.Trust.DistributionPoints.Enabled {
		s.fetcher.Learn(snap.Trust.CRLDistributionPoints()...)
	}
}

// trustConfig is the configured trust.Config with the fetched CRLs.
func (s *Service) trustConfig() trust.Config {
	return withFetchedCRLs(s.cfg.TrustConfig(), s.fetcher, s.log)
}

// servingStore is the trust store serving now, nil before the first
// snapshot: what a fetched CRL may not go back from.
func (s *Service) servingStore() *trust.Store {
	if s.checker == nil {
		return nil
	}
	if snap := s.checker.Snapshot(); snap != nil {
		return snap.Trust
	}
	return nil
}

// learnCRLURLs is the Checker's LearnCRLURLs: nil unless distribution
// points are learned.
func (s *Service) learnCRLURLs() func([]string) {
	if s.fetcher == nil || !s.cfg.Trust.DistributionPoints.Enabled {
		return nil
	}
	return func(urls []string) { s.fetcher.Learn(urls...) }
}

// FetchedTrustConfig is cfg's trust.Config with its CRL URLs fetched once
// (or read from the cache), for the commands that decide as serve would
// without serving (decide, pki inspect --config). A URL that cannot be
// fetched is missing, as it would be for serve. Learned URLs are not
// fetched: there is no stream of client certificates to learn them from.
// trust.crl_cache_dir is read, never written: the cache is serve's, and
// these commands often run as another user (root) than serve does.
func FetchedTrustConfig(ctx context.Context, cfg config.Config, log *slog.Logger) (trust.Config, error) {
	f, err := newCRLFetcher(cfg, log, func() *trust.Store { return nil }, nil, true)
	if err != nil || f == nil {
		return cfg.TrustConfig(), err
	}
	f.Start(ctx)
	return withFetchedCRLs(cfg.TrustConfig(), f, log), nil
}
