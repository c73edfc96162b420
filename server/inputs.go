package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// Source is where a snapshot's inputs come from. Load and Digest read the
// same inputs, so that a Digest equal to the serving snapshot's means a
// Load would build the same snapshot again.
type Source interface {
	// Load builds a complete snapshot with the given revision; its Digest
	// is that of the inputs it read. Nothing is swapped in.
	Load(ctx context.Context, revision uint64) (*Snapshot, error)
	// Digest hashes the inputs as a Load now would read them, without
	// loading them; ErrNoDigest when the Source cannot tell.
	Digest(ctx context.Context) (string, error)
}

// ErrNoDigest is the Digest error of a Source that cannot hash its inputs
// without loading them: every reload then loads.
var ErrNoDigest = errors.New("source has no digest")

// LoadFunc is a Source that only loads: its Digest is ErrNoDigest.
type LoadFunc func(ctx context.Context, revision uint64) (*Snapshot, error)

// Load calls f.
func (f LoadFunc) Load(ctx context.Context, revision uint64) (*Snapshot, error) {
	return f(ctx, revision)
}

// Digest returns ErrNoDigest.
func (LoadFunc) Digest(context.Context) (string, error) { return "", ErrNoDigest }

// PolicySource is where a snapshot's policy comes from: a directory
// (PolicyDir) or OPA bundles (package bundles).
type PolicySource interface {
	// LoadPolicy compiles the policy and returns it with the digest of
	// what it read.
	// opts configure the Engine (its decision cache).
	LoadPolicy(ctx context.Context, opts ...policy.Option) (*policy.Engine, string, error)
	// PolicyDigest is the digest LoadPolicy would return now.
	PolicyDigest(ctx context.Context) (string, error)
	// WatchDir is the directory whose changes should reload, "" for none.
	WatchDir() string
}

// Inputs is the Source of a snapshot whose trust store is read from the
// files of Trust and whose policy comes from Policy (the embedded default
// when nil), with the shadow policy of the directory Shadow ("" for none;
// LoadShadow). PolicyOptions configure both policies' Engines (their
// decision caches; DecisionCacheOptions).
type Inputs struct {
	Trust         trust.Config
	Policy        PolicySource
	Shadow        string
	PolicyOptions []policy.Option
}

// Load reads the trust files and the policy. The trust files' digest is
// taken first: should a file change while it is loaded, the snapshot may
// be newer than its digest, and the change's own reload then sees a
// different digest and loads again.
func (in Inputs) Load(ctx context.Context, revision uint64) (*Snapshot, error) {
	files := inputFiles(in.Trust)
	trustDigest, err := filesDigest(files, in.Trust.CRLDocuments, "")
	if err != nil {
		return nil, err
	}
	store, err := trust.Load(in.Trust)
	if err != nil {
		return nil, fmt.Errorf("load trust store: %w", err)
	}
	ps := in.policySource()
	engine, policyDigest, err := ps.LoadPolicy(ctx, in.PolicyOptions...)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	snap := &Snapshot{Trust: store, Policy: engine, Revision: revision, LoadedAt: time.Now(),
		Digest: joinDigests(trustDigest, policyDigest), Files: files, PolicyDir: ps.WatchDir()}
	// A shadow that does not load is in snap.ShadowErr; snap serves
	// either way.
	_ = LoadShadow(ctx, snap, in.Shadow, in.PolicyOptions...)
	return snap, nil
}

// Digest hashes the trust files and asks the policy source for its digest.
func (in Inputs) Digest(ctx context.Context) (string, error) {
	trustDigest, err := filesDigest(inputFiles(in.Trust), in.Trust.CRLDocuments, "")
	if err != nil {
		return "", err
	}
	policyDigest, err := in.policySource().PolicyDigest(ctx)
	if err != nil {
		return "", err
	}
	return ShadowDigest(joinDigests(trustDigest, policyDigest), in.Shadow), nil
}

func (in Inputs) policySource() PolicySource {
	if in.Policy == nil {
		return PolicyDir("")
	}
	return in.Policy
}

// PolicyDir is a PolicySource reading the .rego and data files of a
// directory (policy.Load); "" is the embedded default policy.
type PolicyDir string

// LoadPolicy hashes the directory, then compiles it.
func (d PolicyDir) LoadPolicy(ctx context.Context, opts ...policy.Option) (*policy.Engine, string, error) {
	digest, err := d.PolicyDigest(ctx)
	if err != nil {
		return nil, "", err
	}
	engine, err := policy.Load(ctx, string(d), opts...)
	if err != nil {
		return nil, "", err
	}
	return engine, digest, nil
}

// PolicyDigest hashes every file of the directory that is not hidden.
func (d PolicyDir) PolicyDigest(context.Context) (string, error) {
	return filesDigest(nil, nil, string(d))
}

// WatchDir is the directory itself.
func (d PolicyDir) WatchDir() string { return string(d) }

// LoadSnapshot builds a snapshot from files: the trust store of tc and the
// policy in policyDir ("" for the embedded default).
func LoadSnapshot(ctx context.Context, tc trust.Config, policyDir string, revision uint64) (*Snapshot, error) {
	return Inputs{Trust: tc, Policy: PolicyDir(policyDir)}.Load(ctx, revision)
}

// InputDigest is the Digest a snapshot loaded now from tc and policyDir
// would have, computed without loading anything.
func InputDigest(tc trust.Config, policyDir string) (string, error) {
	return Inputs{Trust: tc, Policy: PolicyDir(policyDir)}.Digest(context.Background())
}

func inputFiles(tc trust.Config) []string {
	return slices.Concat(tc.CAFiles, tc.IntermediateFiles, tc.CRLFiles, tc.BindingFiles())
}

// joinDigests combines the trust and policy digests into a snapshot's.
func joinDigests(trustDigest, policyDigest string) string {
	h := sha256.Sum256([]byte(trustDigest + "\x00" + policyDigest))
	return hex.EncodeToString(h[:])
}

// filesDigest hashes every named file, every fetched CRL document (by its
// URL, in a domain of its own) and every file below policyDir that is not
// hidden (Kubernetes keeps its volume generations in "..*" entries; the
// visible names point into the current one).
func filesDigest(files []string, docs []trust.CRLDocument, policyDir string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	for _, d := range docs {
		fmt.Fprintf(h, "url\x00%s\x00%d\x00", d.Name, len(d.Data))
		_, _ = h.Write(d.Data)
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
			return hashFile(h, name)
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, name string) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
	_, _ = h.Write(data)
	return nil
}
