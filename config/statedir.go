package config

import "path/filepath"

// DefaultStateDir is where a certgate run by a user with this uid keeps
// what it must find again after a restart (persisted OPA bundles, under
// bundles/): /var/lib/certgate for root, as systemd's StateDirectory
// makes it; $XDG_STATE_HOME/certgate for other users, else
// $HOME/.local/state/certgate (the XDG Base Directory default). lookup is
// os.LookupEnv in production.
func DefaultStateDir(uid int, lookup func(string) (string, bool)) string {
	if uid == 0 {
		return "/var/lib/certgate"
	}
	if dir, ok := lookup("XDG_STATE_HOME"); ok && filepath.IsAbs(dir) {
		return filepath.Join(dir, "certgate")
	}
	if home, ok := lookup("HOME"); ok && filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "certgate")
	}
	return filepath.Join(".", ".certgate")
}
