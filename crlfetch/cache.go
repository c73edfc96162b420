package crlfetch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// cacheEntry is one source's last good document on disk, with the
// validators of the response that brought it.
type cacheEntry struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	FetchedAt    time.Time `json:"fetched_at"`
	Data         []byte    `json:"data"`
}

// cachePath is where the document of url is kept: one file per URL, named
// by its digest, so that no URL names a path.
func (f *Fetcher) cachePath(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(f.opts.CacheDir, hex.EncodeToString(sum[:16])+".json")
}

// writeCache replaces the cached document of url: a temporary file, synced,
// renamed over the old one, so a crash leaves the old entry or the new one.
// A failure is logged; the document is used all the same. A read-only
// cache is left as it is.
func (f *Fetcher) writeCache(url string, resp *response, doc Document) {
	if f.opts.CacheDir == "" || f.opts.ReadOnlyCache {
		return
	}
	e := cacheEntry{URL: url, FetchedAt: f.opts.Now().UTC(), Data: doc.Data}
	if resp.conditional {
		e.ETag, e.LastModified = resp.etag, resp.lastModified
	}
	if err := writeAtomically(f.opts.CacheDir, f.cachePath(url), e); err != nil {
		f.log.Warn("cannot write the CRL cache; a restart that cannot fetch this CRL will miss it", "url", url, "error", err.Error())
	}
}

func writeAtomically(dir, path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".crl-*.tmp")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// readCache makes the cached document of s its last good one, when there
// is one that Check accepts now: the cache is read back through the same
// checks as a fetched body.
func (f *Fetcher) readCache(s *source) {
	if f.opts.CacheDir == "" {
		return
	}
	e, err := f.loadEntry(s.url)
	if err != nil {
		if !os.IsNotExist(err) {
			f.log.Warn("cached CRL not used", "url", s.url, "error", err.Error())
		}
		return
	}
	info, err := f.opts.Check(Document{URL: s.url, Data: e.Data}, nil)
	if err != nil {
		f.log.Warn("cached CRL not used", "url", s.url, "error", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s.good = &Document{URL: s.url, Data: e.Data}
	s.info, s.fromCache = info, true
	s.etag, s.lastModified, s.conditional = e.ETag, e.LastModified, true
	f.log.Info("CRL read from the cache", "url", s.url, "fetched_at", e.FetchedAt.Format(time.RFC3339),
		"crl_number", info.Number, "next_update", info.NextUpdate.UTC().Format(time.RFC3339))
}

// loadEntry reads the cache entry of url, no larger than the body limit
// allows (base64 and JSON add a third and a little), from a file only this
// user (or root) can have written (openCacheFile).
func (f *Fetcher) loadEntry(url string) (*cacheEntry, error) {
	file, err := openCacheFile(f.cachePath(url))
	if err != nil {
		return nil, err
	}
	defer func() { _ = file.Close() }()
	limit := f.opts.MaxBytes*4/3 + 64<<10
	data, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w", file.Name(), ErrTooLarge)
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", file.Name(), err)
	}
	if e.URL != url {
		return nil, fmt.Errorf("%s holds %q, not this URL", file.Name(), e.URL)
	}
	return &e, nil
}
