package bundles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// persistPath is where the bundle is kept between runs.
func (p *Policy) persistPath() string {
	return filepath.Join(p.cfg.PersistDir, p.name, "bundle.tar.gz")
}

// persist writes the bundle as downloaded (signatures included), whole or
// not at all: a temporary file renamed over the last one.
func (p *Policy) persist(raw []byte) error {
	path := p.persistPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("persist bundle: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bundle-*.tar.gz")
	if err != nil {
		return fmt.Errorf("persist bundle: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(raw); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("persist bundle: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("persist bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("persist bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("persist bundle: %w", err)
	}
	return nil
}

// LoadPersisted makes the bundle kept by an earlier run (persist: true)
// the active one, verified with the configured keys and size limit as a
// download is, so that a restart while the bundle server is down serves
// it. It reports false, nil when there is none (or persist is off); a
// persisted bundle that cannot be read or verified is an error.
func (p *Policy) LoadPersisted() (bool, error) {
	if !p.src.Persist {
		return false, nil
	}
	path := p.persistPath()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("persisted bundle: %w", err)
	}
	if int64(len(raw)) > p.src.SizeLimitBytes {
		return false, fmt.Errorf("persisted bundle %s: larger than size_limit_bytes %d", path, p.src.SizeLimitBytes)
	}
	b, err := bundle.NewCustomReader(bundle.NewTarballLoader(bytes.NewReader(raw)).WithSizeLimitBytes(p.src.SizeLimitBytes)).
		WithRegoVersion(ast.RegoV1).
		WithBundleVerificationConfig(p.src.Signing).
		WithSizeLimitBytes(p.src.SizeLimitBytes).
		WithBundleName(p.name).
		Read()
	if err != nil {
		return false, fmt.Errorf("persisted bundle %s: %w", path, err)
	}
	h, err := newHeld(&b, "", raw)
	if err != nil {
		return false, fmt.Errorf("persisted bundle %s: %w", path, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = h
	p.status.Revision, p.status.FromDisk = b.Manifest.Revision, true
	return true, nil
}

// Forget drops the active bundle (one read from disk that did not load),
// so that the Source serves no policy until a download activates.
func (p *Policy) Forget(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = nil
	p.status.Revision, p.status.FromDisk = "", false
	p.status.LastError, p.status.LastErrorAt = err.Error(), p.now()
	p.status.Failures++
}

// Served records that the first snapshot was built from the active bundle
// (one read from disk), which counts as its activation.
func (p *Policy) Served() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active != nil && p.status.ActivatedAt.IsZero() {
		p.status.ActivatedAt = p.now()
		p.status.Activations++
	}
}
