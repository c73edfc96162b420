//go:build unix

package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminSocketDirectoryOfAnotherUserIsRefused: a directory someone else
// made first (say /tmp/certgate-1000) could have the socket swapped under
// the admin commands, so certgate does not listen in it.
func TestAdminSocketDirectoryOfAnotherUserIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("giving a directory to another user needs root")
	}
	dir := filepath.Join(t.TempDir(), "certgate-1000")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	lis, err := ListenAdmin("unix", filepath.Join(dir, "admin.sock"))
	if err == nil {
		_ = lis.Close()
		t.Fatal("listened in a directory of uid 4242")
	}
	if !strings.Contains(err.Error(), "belongs to uid 4242") {
		t.Errorf("error %q does not name the owner", err)
	}
}
