package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// Snapshot is one immutable generation of everything loaded from disk: the
// trust store and the compiled policy. A request runs entirely on the
// snapshot it started with.
type Snapshot struct {
	Trust    *trust.Store
	Policy   *policy.Engine
	Revision uint64
	LoadedAt time.Time
	// Digest is a SHA-256 over the inputs (the names and contents of the
	// trust files, the policy's files or bundle), taken before loading
	// them: equal digests mean nothing changed (see Source).
	Digest string
	// Files are the CA, intermediate and CRL files; PolicyDir the policy
	// directory ("" for the embedded policy or a bundle). A watcher
	// watches them.
	Files     []string
	PolicyDir string
	// Shadow is the shadow policy evaluated beside Policy (LoadShadow);
	// nil when none is configured or it did not load (ShadowErr says why).
	// ShadowDir is watched like PolicyDir.
	Shadow    *policy.Engine
	ShadowErr error
	ShadowDir string
	// ShadowFilesDigest is a SHA-256 over ShadowDir's files alone,
	// taken before loading them ("" when unreadable).
	ShadowFilesDigest string
}

// LoadShadow loads the shadow policy in dir ("" for none) into snap, which
// is not serving yet, and folds dir's files into snap.Digest
// (ShadowDigest). A shadow that does not load leaves snap without one and
// is returned as the error: snap serves either way, as a shadow never
// decides anything. opts configure the shadow's Engine.
func LoadShadow(ctx context.Context, snap *Snapshot, dir string, opts ...policy.Option) error {
	if dir == "" {
		return nil
	}
	snap.ShadowDir = dir
	snap.Digest = ShadowDigest(snap.Digest, dir) // taken before loading, as for the policy
	snap.ShadowFilesDigest, _ = filesDigest(nil, nil, dir)
	engine, err := policy.Load(ctx, dir, opts...)
	if err != nil {
		snap.ShadowErr = fmt.Errorf("load shadow policy: %w", err)
		return snap.ShadowErr
	}
	snap.Shadow = engine
	return nil
}

// ShadowDigest is digest with the shadow policy in dir folded in; digest
// itself when dir is "". A directory that cannot be read folds in the
// error, so that it becoming readable is a change.
func ShadowDigest(digest, dir string) string {
	if dir == "" {
		return digest
	}
	shadow, err := filesDigest(nil, nil, dir)
	if err != nil {
		shadow = "unreadable: " + err.Error()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00shadow\x00%s", digest, shadow)
	return hex.EncodeToString(h.Sum(nil))
}
