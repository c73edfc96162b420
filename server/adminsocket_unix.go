//go:build unix

package server

import (
	"fmt"
	"os"
	"syscall"
)

// checkSocketDir refuses a socket directory that belongs to another user
// (root apart): whoever owns it could swap the socket for one of their
// own, which the admin commands would then talk to. It matters for the
// per-user directory under /tmp that anyone may create first.
func checkSocketDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := int(st.Uid); uid != 0 && uid != os.Getuid() {
		return fmt.Errorf("admin API: socket directory %s belongs to uid %d, not to this user (uid %d); remove it or set admin.listen", dir, uid, os.Getuid())
	}
	return nil
}
