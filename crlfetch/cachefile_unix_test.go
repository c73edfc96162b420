//go:build unix

package crlfetch_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/certgate/certgate/crlfetch"
)

// TestACacheEntryAnotherUserCouldWriteIsNotRead: the cache's CRL is checked
// again, but its validators are not (a stale CRL with the current one's
// ETag would be kept by every 304), and opening a FIFO would block the
// start: only a regular file of this user that not every user may write is
// read.
func TestACacheEntryAnotherUserCouldWriteIsNotRead(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, entry string)
		ok    bool
	}{
		{"as written", func(*testing.T, string) {}, true},
		{"writable by others", func(t *testing.T, entry string) { chmod(t, entry, 0o606) }, false},
		// Kubernetes's fsGroup makes a volume's files group-writable.
		{"writable by the group", func(t *testing.T, entry string) { chmod(t, entry, 0o660) }, true},
		{"a symbolic link", func(t *testing.T, entry string) {
			moved := filepath.Join(filepath.Dir(filepath.Dir(entry)), "elsewhere.json")
			if err := os.Rename(entry, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(moved, entry); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a FIFO", func(t *testing.T, entry string) {
			if err := os.Remove(entry); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(entry, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			srv := newServer(t, w.crl(3))
			first := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, CacheDir: dir})
			first.Start(ctx)
			url := srv.URL
			srv.Close()
			entries, err := filepath.Glob(filepath.Join(dir, "*.json"))
			if err != nil || len(entries) != 1 {
				t.Fatalf("cache entries %v, %v; want one", entries, err)
			}
			tt.spoil(t, entries[0])
			restarted := newFetcher(t, w, crlfetch.Options{URLs: []string{url}, CacheDir: dir})
			restarted.Start(ctx)
			if st := only(t, restarted); st.Available != tt.ok || st.FromCache != tt.ok {
				t.Fatalf("after a restart with the server down: available %v, from cache %v; want %v", st.Available, st.FromCache, tt.ok)
			}
		})
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
