package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The results of a reload.
const (
	ReloadSuccess   = "success"
	ReloadUnchanged = "unchanged"
	ReloadFailure   = "failure"
)

// ReloadAttempt describes one reload.
type ReloadAttempt struct {
	At      time.Time
	Trigger string
	// Result is ReloadSuccess, ReloadUnchanged or ReloadFailure.
	Result string
	Err    error
	// Revision serves after the attempt.
	Revision uint64
}

// ReloadStatus is what the Reloader has done so far.
type ReloadStatus struct {
	Last                ReloadAttempt
	Successes, Failures uint64
}

// add records a in s.
func (s *ReloadStatus) add(a ReloadAttempt) {
	switch {
	case a.Result == ReloadSuccess:
		s.Successes++
	case a.Err != nil:
		s.Failures++
	}
	s.Last = a
}

// Reloader swaps in new snapshots one at a time. A failed load, or one whose
// CRLs go back from the serving ones (trust.Store.CheckSuccessor), keeps the
// current snapshot serving and is logged, counted and remembered; a load
// whose inputs have the digest of the serving snapshot changes nothing.
type Reloader struct {
	Checker *Checker
	// Source loads snapshots; when its Digest equals the serving
	// snapshot's, a reload ends as unchanged without loading anything.
	Source  Source
	Logger  *slog.Logger
	Metrics *Metrics
	// OnSwap, when set, runs after a new snapshot is swapped in.
	OnSwap func(*Snapshot)

	// mu makes attempts take turns. Their record is not kept here but
	// published by the Checker with the snapshot each attempt left
	// serving (serving.reload), so reading the status never waits for a
	// load in progress and never disagrees with the snapshot.
	mu sync.Mutex
}

// Attempt loads a new snapshot and, if that succeeds and differs from the
// serving one, swaps it in. It returns what happened.
func (r *Reloader) Attempt(ctx context.Context, trigger string) ReloadAttempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.Checker.Snapshot()
	var next uint64 = 1
	if cur != nil {
		next = cur.Revision + 1
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	attempt := ReloadAttempt{At: time.Now(), Trigger: trigger}
	var snap *Snapshot
	var err error
	unchanged := r.sameInputs(ctx, cur)
	if !unchanged {
		snap, err = r.Source.Load(ctx, next)
		unchanged = err == nil && cur != nil && snap.Digest != "" && snap.Digest == cur.Digest
		if err == nil && !unchanged && cur != nil {
			// A CRL older than the serving one could drop a revocation.
			err = snap.Trust.CheckSuccessor(cur.Trust)
		}
	}
	var swap *Snapshot // nil keeps the serving snapshot
	switch {
	case unchanged:
		attempt.Result, attempt.Revision = ReloadUnchanged, cur.Revision
		log.InfoContext(ctx, "reload: no input changed", "trigger", trigger, "revision", cur.Revision)
	case err != nil:
		attempt.Result, attempt.Err = ReloadFailure, err
		if cur != nil {
			attempt.Revision = cur.Revision
		}
		log.ErrorContext(ctx, "reload failed; the serving snapshot stays", "trigger", trigger, "revision", attempt.Revision, "error", err.Error())
	default:
		swap = snap
		attempt.Result, attempt.Revision = ReloadSuccess, snap.Revision
	}
	// The attempt is recorded in the same step as the swap it makes.
	r.Checker.publish(swap, &attempt)
	if swap != nil {
		log.InfoContext(ctx, "reloaded", "trigger", trigger, "revision", snap.Revision, "digest", snap.Digest)
		if r.OnSwap != nil {
			r.OnSwap(snap)
		}
	}
	r.Metrics.observeReload(attempt.Result)
	return attempt
}

// sameInputs reports whether the files still hash to the serving
// snapshot's digest, so that a reload storm (SIGHUPs, editors writing a
// file in several steps) does not compile the policy again and again.
func (r *Reloader) sameInputs(ctx context.Context, cur *Snapshot) bool {
	if cur == nil || cur.Digest == "" {
		return false
	}
	d, err := r.Source.Digest(ctx)
	return err == nil && d == cur.Digest
}

// Status returns what the Reloader has done so far.
func (r *Reloader) Status() ReloadStatus {
	if st := r.Checker.state.Load(); st != nil {
		return st.reload
	}
	return ReloadStatus{}
}
