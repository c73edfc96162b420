package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// LoadFunc builds a complete snapshot with the given revision.
type LoadFunc func(ctx context.Context, revision uint64) (*Snapshot, error)

// Reloader swaps in new snapshots one at a time. A failed load keeps the
// current snapshot serving and is logged and returned.
type Reloader struct {
	Checker *Checker
	Load    LoadFunc
	Logger  *slog.Logger

	mu sync.Mutex
}

// Reload loads a new snapshot and, if that succeeds, swaps it in.
func (r *Reloader) Reload(ctx context.Context, trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next uint64 = 1
	if cur := r.Checker.Snapshot(); cur != nil {
		next = cur.Revision + 1
	}
	snap, err := r.Load(ctx, next)
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "reload failed; keeping the current snapshot",
			slog.String("trigger", trigger), slog.String("error", err.Error()))
		return fmt.Errorf("reload (%s): %w", trigger, err)
	}
	r.Checker.Swap(snap)
	log.LogAttrs(ctx, slog.LevelInfo, "reloaded", slog.String("trigger", trigger), slog.Uint64("revision", snap.Revision))
	return nil
}
