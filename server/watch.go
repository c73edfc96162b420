package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reloads when an input of the serving snapshot changes on disk.
// It watches directories rather than files, so that it sees a file replaced
// by rename (editors, `mv`, and Kubernetes ConfigMap and Secret volumes,
// which swap a "..data" symlink) as well as one written in place.
type Watcher struct {
	Reloader *Reloader
	// Debounce is how long to wait after the last event before reloading,
	// so a file written in several steps is read once, whole.
	Debounce time.Duration
	Logger   *slog.Logger

	// watching, when set (in tests), runs after each (re)watch.
	watching func()
}

// noSnapshotPoll is how often a Watcher started without a snapshot looks
// for the first one.
const noSnapshotPoll = 200 * time.Millisecond

// Run watches until ctx ends. A directory that cannot be watched is logged
// and retried after the next reload.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch files: %w", err)
	}
	defer func() { _ = fw.Close() }()
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	var targets watchTargets
	rewatch := func() {
		targets = newWatchTargets(w.Reloader.Checker.Snapshot())
		for dir := range targets.dirs {
			if err := fw.Add(dir); err != nil {
				log.Warn("cannot watch directory; changes there need SIGHUP or the admin API", "dir", dir, "error", err.Error())
			}
		}
		if w.watching != nil {
			w.watching()
		}
	}
	rewatch()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// Without a snapshot (a bundle not yet downloaded) there is nothing
	// to watch; the first snapshot comes from elsewhere, and its files are
	// watched once it serves.
	firstSnapshot := time.NewTicker(noSnapshotPoll)
	defer firstSnapshot.Stop()
	if w.Reloader.Checker.Snapshot() != nil {
		firstSnapshot.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-firstSnapshot.C:
			if w.Reloader.Checker.Snapshot() != nil {
				firstSnapshot.Stop()
				rewatch()
			}
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if targets.matters(ev.Name) {
				timer.Reset(w.Debounce)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			// An overflow may have hidden a change: reload to be sure.
			log.Warn("file watch error; reloading to be safe", "error", err.Error())
			timer.Reset(w.Debounce)
		case <-timer.C:
			w.Reloader.Attempt(ctx, "file change")
			rewatch()
		}
	}
}

// watchTargets are the directories to watch and the names in them that
// matter. Events for other names in a CA's directory (/etc/ssl, say) do not
// trigger a reload.
type watchTargets struct {
	dirs map[string]bool
	// names are base names that matter per directory; a nil set means
	// every name (the policy directory).
	names map[string]map[string]bool
}

func newWatchTargets(snap *Snapshot) watchTargets {
	t := watchTargets{dirs: map[string]bool{}, names: map[string]map[string]bool{}}
	if snap == nil {
		return t
	}
	for _, dir := range []string{snap.PolicyDir, snap.ShadowDir} {
		if dir == "" {
			continue
		}
		root := filepath.Clean(dir)
		_ = filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil //nolint:nilerr // an unreadable entry is skipped; the reload reports it
			}
			if !d.IsDir() {
				return nil
			}
			if name != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			t.addAll(name)
			return nil
		})
		// The parent sees the policy directory itself being replaced.
		t.addName(filepath.Dir(root), filepath.Base(root))
	}
	for _, f := range snap.Files {
		f = filepath.Clean(f)
		t.addName(filepath.Dir(f), filepath.Base(f))
	}
	return t
}

// addAll makes every name in dir matter.
func (t watchTargets) addAll(dir string) {
	t.dirs[dir] = true
	t.names[dir] = nil
}

// addName makes base in dir matter.
func (t watchTargets) addName(dir, base string) {
	names, ok := t.names[dir]
	if ok && names == nil {
		return // every name already matters
	}
	if names == nil {
		names = map[string]bool{}
		t.names[dir] = names
	}
	t.dirs[dir] = true
	names[base] = true
}

// matters reports whether an event on name should trigger a reload.
func (t watchTargets) matters(name string) bool {
	dir, base := filepath.Dir(name), filepath.Base(name)
	names, ok := t.names[dir]
	if !ok {
		return false
	}
	// Kubernetes volumes change by swapping the hidden "..data" link.
	return names == nil || names[base] || strings.HasPrefix(base, "..")
}
