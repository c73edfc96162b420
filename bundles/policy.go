package bundles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"
	bundleplugin "github.com/open-policy-agent/opa/v1/plugins/bundle"

	"github.com/certgate/certgate/policy"
)

// ErrNoBundle is the error of a load before any bundle was downloaded or
// found persisted: there is no policy to serve, and certgate serves none
// (every check is denied with 500 no_snapshot, /readyz is 503).
var ErrNoBundle = errors.New("no bundle has been activated yet")

// Status is what became of the configured bundle's downloads, for the
// admin API's GetStatus and `certgate status`.
type Status struct {
	Name string
	// URL is the service's URL joined with the bundle's resource.
	URL string
	// Revision and ETag are those of the bundle the serving policy is
	// built from; empty before one activated.
	Revision, ETag string
	// ActivatedAt is when a bundle last became part of the serving
	// snapshot; zero if none ever did.
	ActivatedAt time.Time
	// CheckedAt is when the bundle server last answered with a bundle or
	// a 304.
	CheckedAt time.Time
	// LastError and LastErrorAt are the last failure to download, verify,
	// compile or check a bundle; cleared by the next activation.
	LastError   string
	LastErrorAt time.Time
	// Activations and Failures count since the process started.
	Activations, Failures uint64
	// FromDisk tells that the serving bundle was read from the persist
	// directory at start and no download has replaced it yet.
	FromDisk bool
}

// Policy is a server.PolicySource whose policy is the configured bundle:
// the one on trial while an activation runs, else the one last activated.
type Policy struct {
	name string
	src  *bundleplugin.Source
	url  string
	cfg  *Config
	log  *slog.Logger
	now  func() time.Time

	// turn makes activations take turns; mu guards the rest.
	turn            sync.Mutex
	mu              sync.Mutex
	active, pending *held
	status          Status
	updates         map[string]uint64
}

// held is one downloaded bundle and what identifies it.
type held struct {
	b      *bundle.Bundle
	etag   string
	digest string
	raw    []byte
}

// The outcomes of a download, as counted in certgate_bundle_updates_total.
const (
	UpdateActivated     = "activated"
	UpdateUnchanged     = "unchanged"
	UpdateNotModified   = "not_modified"
	UpdateDownloadError = "download_failed"
	UpdateRejected      = "rejected"
)

// New returns the Policy of the one bundle cfg configures. log receives
// certgate's and OPA's lines about it.
func New(cfg *Config, log *slog.Logger) *Policy {
	if log == nil {
		log = slog.Default()
	}
	name := slices.Sorted(maps.Keys(cfg.Bundles))[0]
	src := cfg.Bundles[name]
	url := src.Resource
	if c, ok := cfg.Services[src.Service]; ok {
		url = strings.TrimRight(c.Config().URL, "/") + "/" + strings.TrimLeft(src.Resource, "/")
	}
	return &Policy{name: name, src: src, url: url, cfg: cfg, log: log.With("bundle", name), now: time.Now,
		status: Status{Name: name, URL: url}, updates: map[string]uint64{}}
}

// Name is the configured bundle's name.
func (p *Policy) Name() string { return p.name }

// LoadPolicy compiles the bundle on trial, or else the active one, with
// opts.
func (p *Policy) LoadPolicy(ctx context.Context, opts ...policy.Option) (*policy.Engine, string, error) {
	h := p.current()
	if h == nil {
		return nil, "", fmt.Errorf("bundle %s: %w", p.name, ErrNoBundle)
	}
	engine, err := policy.LoadBundle(ctx, p.name, h.b, opts...)
	if err != nil {
		return nil, "", err
	}
	return engine, h.digest, nil
}

// PolicyDigest is the digest of the bundle LoadPolicy would compile.
func (p *Policy) PolicyDigest(context.Context) (string, error) {
	h := p.current()
	if h == nil {
		return "", fmt.Errorf("bundle %s: %w", p.name, ErrNoBundle)
	}
	return h.digest, nil
}

// WatchDir is "": a bundle changes by download, not on disk.
func (*Policy) WatchDir() string { return "" }

func (p *Policy) current() *held {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending != nil {
		return p.pending
	}
	return p.active
}

// Status reports the bundle's downloads and activations.
func (p *Policy) Status() []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return []Status{p.status}
}

// Updates is how many downloads ended with result (UpdateActivated, …).
func (p *Policy) Updates(result string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.updates[result]
}

// newHeld identifies b by a digest of its modules and data, so that the
// same bundle served again (a new ETag, a restart) changes nothing.
func newHeld(b *bundle.Bundle, etag string, raw []byte) (*held, error) {
	if b.Type() == bundle.DeltaBundleType {
		return nil, errors.New("a delta bundle: certgate needs snapshot bundles")
	}
	h := sha256.New()
	mods := slices.Clone(b.Modules)
	slices.SortFunc(mods, func(x, y bundle.ModuleFile) int { return strings.Compare(x.RelativePath, y.RelativePath) })
	for _, m := range mods {
		fmt.Fprintf(h, "%s\x00%d\x00", m.RelativePath, len(m.Raw))
		_, _ = h.Write(m.Raw)
	}
	// encoding/json sorts map keys: equal data hashes equally.
	data, err := json.Marshal(b.Data)
	if err != nil {
		return nil, fmt.Errorf("bundle data: %w", err)
	}
	_, _ = h.Write(data)
	return &held{b: b, etag: etag, digest: "bundle:" + hex.EncodeToString(h.Sum(nil)), raw: raw}, nil
}
