//go:build unix

package crlfetch

import (
	"fmt"
	"os"
	"syscall"
)

// openCacheFile opens a cache entry for reading, refusing one that another
// user could have written: a symbolic link (it names a file the directory
// does not hold), anything but a regular file (a FIFO would block the
// start for good), a file of another user than this one or root, or one
// that any user may write. A file its group may write is read: Kubernetes
// makes the files of a volume group-writable for the pod's fsGroup, and
// the group is the pod's own. A cached entry is only as good as its
// writer: its CRL is checked again, but its validators are not, and an
// older CRL sent back with the current one's ETag would be kept by every
// 304 that follows.
func openCacheFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if lfi, lerr := os.Lstat(path); lerr == nil && lfi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link, not a file certgate wrote", path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := checkCacheFile(path, fi); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func checkCacheFile(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("%s may be written by any user (mode %04o)", path, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := int(st.Uid); uid != 0 && uid != os.Geteuid() {
			return fmt.Errorf("%s belongs to uid %d, not to this user (uid %d)", path, uid, os.Geteuid())
		}
	}
	return nil
}
