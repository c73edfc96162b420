package server

import (
	"context"
	"errors"
	"testing"
)

// TestInputsDigestIsTheDigestOfWhatLoadReads: the Reloader skips a load
// when Digest equals the serving snapshot's, so the two must agree, and
// must differ once a trust or policy file changes.
func TestInputsDigestIsTheDigestOfWhatLoadReads(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	src := Inputs{Trust: w.trustConfig(dir), Policy: PolicyDir(dir)}
	ctx := context.Background()
	snap, err := src.Load(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := src.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if digest != snap.Digest {
		t.Fatalf("Digest %s, Load's snapshot %s", digest, snap.Digest)
	}
	if snap.PolicyDir != dir {
		t.Errorf("PolicyDir %q, want %q (the watcher watches it)", snap.PolicyDir, dir)
	}
	w.write(t, dir, dir, version{grants: map[string][]string{"viewers": {"start_vm"}}})
	changed, err := src.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if changed == digest {
		t.Fatal("Digest did not change with the files")
	}
}

// TestALoadFuncAlwaysLoads: a Source without a digest never lets the
// Reloader skip a load as unchanged.
func TestALoadFuncAlwaysLoads(t *testing.T) {
	if _, err := LoadFunc(nil).Digest(context.Background()); !errors.Is(err, ErrNoDigest) {
		t.Fatalf("Digest: %v, want ErrNoDigest", err)
	}
}
