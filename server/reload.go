package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// LoadFunc builds a complete snapshot with the given revision.
type LoadFunc func(ctx context.Context, revision uint64) (*Snapshot, error)

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

// Reloader swaps in new snapshots one at a time. A failed load keeps the
// current snapshot serving and is logged, counted and remembered; a load
// whose inputs have the digest of the serving snapshot changes nothing.
type Reloader struct {
	Checker *Checker
	Load    LoadFunc
	Logger  *slog.Logger
	Metrics *Metrics
	// OnSwap, when set, runs after a new snapshot is swapped in.
	OnSwap func(*Snapshot)

	mu     sync.Mutex
	status ReloadStatus
}

// Reload is Attempt for callers that only need to know whether it failed.
func (r *Reloader) Reload(ctx context.Context, trigger string) error {
	if a := r.Attempt(ctx, trigger); a.Err != nil {
		return fmt.Errorf("reload (%s): %w", trigger, a.Err)
	}
	return nil
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
	snap, err := r.Load(ctx, next)
	switch {
	case err != nil:
		attempt.Result, attempt.Err = ReloadFailure, err
		r.status.Failures++
		if cur != nil {
			attempt.Revision = cur.Revision
		}
		log.LogAttrs(ctx, slog.LevelError, "reload failed; the serving snapshot stays",
			slog.String("trigger", trigger), slog.Uint64("revision", attempt.Revision), slog.String("error", err.Error()))
	case cur != nil && snap.Digest != "" && snap.Digest == cur.Digest:
		attempt.Result, attempt.Revision = ReloadUnchanged, cur.Revision
		log.LogAttrs(ctx, slog.LevelInfo, "reload: nothing changed on disk",
			slog.String("trigger", trigger), slog.Uint64("revision", cur.Revision))
	default:
		r.Checker.Swap(snap)
		attempt.Result, attempt.Revision = ReloadSuccess, snap.Revision
		r.status.Successes++
		log.LogAttrs(ctx, slog.LevelInfo, "reloaded",
			slog.String("trigger", trigger), slog.Uint64("revision", snap.Revision), slog.String("digest", snap.Digest))
		if r.OnSwap != nil {
			r.OnSwap(snap)
		}
	}
	r.status.Last = attempt
	r.Metrics.observeReload(attempt.Result)
	return attempt
}

// Status returns what the Reloader has done so far.
func (r *Reloader) Status() ReloadStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}
