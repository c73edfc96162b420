package config

import (
	"os"
	"path/filepath"
	"strconv"
)

// DefaultAdminSocket is where root's certgate listens for the admin API
// unless told otherwise; see DefaultAdminListen for everyone else.
const DefaultAdminSocket = "unix:/run/certgate/admin.sock"

// EnvXDGRuntimeDir is the per-user runtime directory of the XDG Base
// Directory specification, where an ordinary user's admin socket lives.
const EnvXDGRuntimeDir = "XDG_RUNTIME_DIR"

// DefaultAdminListen is the admin.listen of a user with this uid when
// nothing else is said, and where the admin commands look for it:
// DefaultAdminSocket for root; $XDG_RUNTIME_DIR/certgate/admin.sock for
// other users, since only root may create /run/certgate; and, without
// XDG_RUNTIME_DIR, a per-user directory under tempDir (certgate-UID, which
// the server creates with mode 0700 and refuses when someone else owns it).
// lookup is os.LookupEnv in production.
func DefaultAdminListen(uid int, lookup func(string) (string, bool), tempDir string) string {
	if uid == 0 {
		return DefaultAdminSocket
	}
	if dir, ok := lookup(EnvXDGRuntimeDir); ok && filepath.IsAbs(dir) {
		return "unix:" + filepath.Join(dir, "certgate", "admin.sock")
	}
	return "unix:" + filepath.Join(tempDir, "certgate-"+strconv.Itoa(uid), "admin.sock")
}

// adminListen is DefaultAdminListen for the user running certgate.
func adminListen() string {
	return DefaultAdminListen(os.Getuid(), os.LookupEnv, os.TempDir())
}
