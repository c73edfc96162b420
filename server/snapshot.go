package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	// Digest is a SHA-256 over the names and contents of every input file,
	// taken before loading them: equal digests mean nothing changed.
	Digest string
	// Files are the CA, intermediate and CRL files; PolicyDir the policy
	// directory ("" for the embedded policy). A watcher watches them.
	Files     []string
	PolicyDir string
	// Shadow is the shadow policy evaluated beside Policy (LoadShadow);
	// nil when none is configured or it did not load (ShadowErr says why).
	// ShadowDir is watched like PolicyDir.
	Shadow    *policy.Engine
	ShadowErr error
	ShadowDir string
}

// LoadShadow loads the shadow policy in dir ("" for none) into snap, which
// is not serving yet, and folds dir's files into snap.Digest
// (ShadowDigest). A shadow that does not load leaves snap without one and
// is returned as the error: snap serves either way, as a shadow never
// decides anything.
func LoadShadow(ctx context.Context, snap *Snapshot, dir string) error {
	if dir == "" {
		return nil
	}
	snap.ShadowDir = dir
	snap.Digest = ShadowDigest(snap.Digest, dir) // taken before loading, as for the policy
	engine, err := policy.Load(ctx, dir)
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
	shadow, err := inputDigest(nil, nil, dir)
	if err != nil {
		shadow = "unreadable: " + err.Error()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00shadow\x00%s", digest, shadow)
	return hex.EncodeToString(h.Sum(nil))
}

// LoadSnapshot builds a complete snapshot from disk: the trust store and
// the policy in policyDir ("" for the embedded default). Nothing is swapped
// in here; a failure leaves the caller's current snapshot untouched.
func LoadSnapshot(ctx context.Context, tc trust.Config, policyDir string, revision uint64) (*Snapshot, error) {
	files := inputFiles(tc)
	// The digest is taken first: should a file change while it is loaded,
	// the snapshot may be newer than its digest, and the change's own
	// reload then sees a different digest and loads again.
	digest, err := inputDigest(files, tc.CRLDocuments, policyDir)
	if err != nil {
		return nil, err
	}
	store, err := trust.Load(tc)
	if err != nil {
		return nil, fmt.Errorf("load trust store: %w", err)
	}
	engine, err := policy.Load(ctx, policyDir)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return &Snapshot{Trust: store, Policy: engine, Revision: revision, LoadedAt: time.Now(),
		Digest: digest, Files: files, PolicyDir: policyDir}, nil
}

// InputDigest is the Digest a snapshot loaded now from tc and policyDir
// would have, computed without loading anything.
func InputDigest(tc trust.Config, policyDir string) (string, error) {
	return inputDigest(inputFiles(tc), tc.CRLDocuments, policyDir)
}

func inputFiles(tc trust.Config) []string {
	return slices.Concat(tc.CAFiles, tc.IntermediateFiles, tc.CRLFiles, tc.BindingFiles())
}

// inputDigest hashes every named file, every fetched CRL document (by its
// URL, in a domain of its own) and every file below policyDir that is not
// hidden (Kubernetes keeps its volume generations in "..*" entries; the
// visible names point into the current one).
func inputDigest(files []string, docs []trust.CRLDocument, policyDir string) (string, error) {
	h := sha256.New()
	add := func(name string) error {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
		return nil
	}
	for _, f := range files {
		if err := add(f); err != nil {
			return "", err
		}
	}
	for _, d := range docs {
		fmt.Fprintf(h, "url\x00%s\x00%d\x00", d.Name, len(d.Data))
		h.Write(d.Data)
	}
	if policyDir != "" {
		err := filepath.WalkDir(policyDir, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("policy directory: %w", err)
			}
			if name != policyDir && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			return add(name)
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
