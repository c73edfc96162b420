package bundles

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/download"
)

// Activation is what became of a bundle on trial: the server built a
// snapshot with it and swapped it in (Swapped), found it equal to the
// serving one (neither), or failed (Err), keeping the serving snapshot.
type Activation struct {
	Swapped bool
	Err     error
	// Revision is the snapshot revision serving afterwards.
	Revision uint64
}

// Activate builds a snapshot with the bundle on trial and swaps it in (the
// server's Reloader).
type Activate func(ctx context.Context, trigger string) Activation

// Run downloads the bundle with OPA's downloader until ctx ends, and
// activates each new one. A bundle that fails to download, verify, compile
// or decide the sample inputs keeps the serving snapshot; it is logged,
// counted and shown in Status, and downloaded again at the next poll, so
// that one refused because of another input (a broken CA file) is retried.
func (p *Policy) Run(ctx context.Context, activate Activate) error {
	client, ok := p.cfg.Services[p.src.Service]
	if !ok {
		return fmt.Errorf("bundle %s: unknown service %q", p.name, p.src.Service)
	}
	var dl *download.Downloader
	dl = download.New(p.src.Config, client, p.src.Resource).
		WithBundleVerificationConfig(p.src.Signing).
		WithSizeLimitBytes(p.src.SizeLimitBytes).
		WithBundlePersistence(p.src.Persist).
		WithBundleName(p.name).
		WithBundleParserOpts(ast.ParserOptions{RegoVersion: ast.RegoV1}).
		WithLogAttrs(map[string]any{"name": p.name}).
		WithCallback(func(ctx context.Context, u download.Update) error {
			if !p.update(ctx, u, activate) {
				dl.ClearCache()
			}
			return nil
		})
	dl.Start(ctx)
	<-ctx.Done()
	dl.Stop(context.Background())
	return nil
}

// update handles one download result and reports whether the bundle
// serves (or nothing new came).
func (p *Policy) update(ctx context.Context, u download.Update, activate Activate) bool {
	switch {
	case u.Error != nil:
		p.fail(ctx, UpdateDownloadError, fmt.Errorf("download %s: %w", p.url, u.Error))
		return false
	case u.Bundle == nil:
		p.mu.Lock()
		p.status.CheckedAt = p.now()
		p.updates[UpdateNotModified]++
		p.mu.Unlock()
		return true
	}
	var raw []byte
	if u.Raw != nil {
		var err error
		if raw, err = io.ReadAll(u.Raw); err != nil {
			p.fail(ctx, UpdateDownloadError, fmt.Errorf("download %s: %w", p.url, err))
			return false
		}
	}
	h, err := newHeld(u.Bundle, u.ETag, raw)
	if err != nil {
		p.fail(ctx, UpdateRejected, err)
		return false
	}
	return p.try(ctx, h, activate)
}

// try activates h: it is on trial (the Source's policy) while the
// Reloader loads it, and active if the Reloader kept it.
func (p *Policy) try(ctx context.Context, h *held, activate Activate) bool {
	p.turn.Lock()
	defer p.turn.Unlock()
	p.mu.Lock()
	p.pending = h
	p.mu.Unlock()
	attempt := activate(ctx, "bundle "+p.name)
	p.mu.Lock()
	p.pending = nil
	if attempt.Err != nil {
		p.mu.Unlock()
		p.fail(ctx, UpdateRejected, fmt.Errorf("bundle revision %q (ETag %s) refused: %w", h.b.Manifest.Revision, h.etag, attempt.Err))
		return false
	}
	result := UpdateUnchanged
	now := p.now()
	if attempt.Swapped {
		result = UpdateActivated
		p.status.ActivatedAt = now
	}
	if p.status.ActivatedAt.IsZero() {
		p.status.ActivatedAt = now
	}
	p.active = h
	p.status.Revision, p.status.ETag = h.b.Manifest.Revision, h.etag
	p.status.CheckedAt, p.status.LastError, p.status.LastErrorAt = now, "", time.Time{}
	p.status.FromDisk = false
	p.status.Activations++
	p.updates[result]++
	p.mu.Unlock()
	p.log.InfoContext(ctx, "bundle activated", "result", result, "revision", h.b.Manifest.Revision, "etag", h.etag, "snapshot", attempt.Revision)
	if h.raw != nil {
		if err := p.persist(h.raw); err != nil {
			p.log.WarnContext(ctx, "cannot persist the bundle; a restart without the bundle server will not serve it", "error", err.Error())
		}
	}
	return true
}

// fail records a bundle that does not serve.
func (p *Policy) fail(ctx context.Context, result string, err error) {
	p.mu.Lock()
	p.status.LastError, p.status.LastErrorAt = err.Error(), p.now()
	p.status.Failures++
	p.updates[result]++
	p.mu.Unlock()
	p.log.ErrorContext(ctx, "bundle not activated; the serving snapshot stays", "result", result, "error", err.Error())
}
