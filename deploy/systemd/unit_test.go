// Package systemd_test checks deploy/systemd/certgate.service with
// systemd-analyze: the unit verifies cleanly and its exposure score stays
// that of a locked-down service.
package systemd_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitName = "certgate.service"

// systemRoot lays out a root with the unit where it is installed, the
// commands it runs and the host's own system units (sysinit.target and the
// rest), so that systemd-analyze checks it as on an installed system
// without touching the host's /etc or /usr/local.
func systemRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mkdir := func(dir string) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, data []byte, mode os.FileMode) {
		mkdir(filepath.Dir(name))
		if err := os.WriteFile(filepath.Join(root, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(from, to string, mode os.FileMode) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		write(to, data, mode)
	}
	copyFile(unitName, filepath.Join("etc/systemd/system", unitName), 0o644)
	// The binary's contents do not matter to verify, only that it is there.
	write("usr/local/bin/certgate", []byte("#!/bin/sh\n"), 0o755)
	copyFile("/usr/bin/kill", "usr/bin/kill", 0o755)
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	units, err := filepath.Glob("/usr/lib/systemd/system/*")
	if err != nil || len(units) == 0 {
		t.Fatalf("no system units under /usr/lib/systemd/system (%v)", err)
	}
	mkdir("usr/lib/systemd/system")
	for _, u := range units {
		if fi, err := os.Lstat(u); err == nil && fi.Mode().IsRegular() {
			copyFile(u, filepath.Join("usr/lib/systemd/system", filepath.Base(u)), 0o644)
		} else if target, err := os.Readlink(u); err == nil {
			_ = os.Symlink(target, filepath.Join(root, "usr/lib/systemd/system", filepath.Base(u)))
		}
	}
	return root
}

func needTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("SKIP (not a pass): systemd-analyze is not installed (Debian package systemd)")
	}
	if _, err := os.Stat("/usr/bin/kill"); err != nil {
		t.Skip("SKIP (not a pass): /usr/bin/kill (procps), which ExecReload runs, is missing")
	}
}

// TestUnitVerifies: systemd-analyze verify finds nothing to say, not even
// a warning (a misspelt directive or value is only a warning to systemd,
// which then ignores the line; here it fails the test).
func TestUnitVerifies(t *testing.T) {
	needTools(t)
	root := systemRoot(t)
	out, err := exec.Command("systemd-analyze", "verify", "--root="+root, "/etc/systemd/system/"+unitName).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitIsLockedDown: systemd's own exposure score is at most 1.5 of 10
// ("OK"); dropping a hardening line raises it.
func TestUnitIsLockedDown(t *testing.T) {
	needTools(t)
	root := systemRoot(t)
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=15", "--no-pager",
		"--root="+root, unitName).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: exposure above 1.5 (%v)\n%s", err, out)
	}
	if !strings.Contains(string(out), "Overall exposure level for "+unitName) {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
}

// TestUnitSettings: what an operator relies on and systemd-analyze does not
// check: the reload signal, the admin socket's directory, the user.
func TestUnitSettings(t *testing.T) {
	data, err := os.ReadFile(unitName)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, "#") {
			got[k] = append(got[k], v)
		}
	}
	for key, want := range map[string]string{
		"ExecStart":               "/usr/local/bin/certgate serve --config /etc/certgate/config.yaml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"DynamicUser":             "yes",
		"RuntimeDirectory":        "certgate",
		"StateDirectory":          "certgate",
		"Environment":             "CERTGATE_ADMIN_LISTEN=unix:/run/certgate/admin.sock",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"PrivateTmp":              "yes",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
	} {
		if len(got[key]) != 1 || got[key][0] != want {
			t.Errorf("%s = %q, want exactly %q", key, got[key], want)
		}
	}
}
