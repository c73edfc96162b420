package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
)

// envRunMain makes the test binary run certgate's main instead of the
// tests, so that a test can start certgate as another user.
const envRunMain = "CERTGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// nobody is the ordinary user the test runs certgate as when it runs as root.
const nobody = 65534

// asUser is a certgate process run as an ordinary user: the current one, or
// nobody when the tests run as root. dir is world-readable and holds the
// binary and a copy of the demo CA.
type asUser struct {
	t   *testing.T
	uid int
	dir string
	env []string
}

func newAsUser(t *testing.T) *asUser {
	t.Helper()
	dir, err := os.MkdirTemp("", "certgate-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	u := &asUser{t: t, uid: os.Getuid(), dir: dir}
	if u.uid == 0 {
		u.uid = nobody
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	u.copy(self, "certgate", 0o755)
	u.copy(demo(t).Path("ca.pem"), "ca.pem", 0o644)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u.env = []string{envRunMain + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + u.mkdir("home", 0o700)}
	return u
}

func (u *asUser) copy(from, to string, mode os.FileMode) {
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(filepath.Join(u.dir, to), data, mode)
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

// mkdir makes a directory under dir owned by the user.
func (u *asUser) mkdir(name string, mode os.FileMode) string {
	p := filepath.Join(u.dir, name)
	if err := os.Mkdir(p, mode); err != nil {
		u.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		u.t.Fatal(err)
	}
	if os.Getuid() == 0 {
		if err := os.Chown(p, u.uid, u.uid); err != nil {
			u.t.Fatal(err)
		}
	}
	return p
}

func (u *asUser) command(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(u.dir, "certgate"), args...)
	cmd.Env, cmd.Dir = u.env, u.dir
	if os.Getuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.uid)}}
	}
	return cmd
}

// TestServeStartsForAnOrdinaryUserWithoutAConfigFile runs the last step of
// docs/pki.md (serve with --ca and nothing else) as a user who may not
// create /run/certgate: the admin API listens in a directory of theirs, and
// `certgate status` finds it there without flags.
func TestServeStartsForAnOrdinaryUserWithoutAConfigFile(t *testing.T) {
	tests := []struct {
		name string
		// setup adds variables and returns the socket serve should listen
		// on and the flags serve and status need to agree on it.
		setup func(u *asUser) (sock string, serveFlags, statusFlags []string)
	}{
		{"under XDG_RUNTIME_DIR", func(u *asUser) (string, []string, []string) {
			run := u.mkdir("run", 0o700)
			u.env = append(u.env, "XDG_RUNTIME_DIR="+run)
			return filepath.Join(run, "certgate", "admin.sock"), nil, nil
		}},
		{"in a private directory under TMPDIR without XDG_RUNTIME_DIR", func(u *asUser) (string, []string, []string) {
			tmp := u.mkdir("tmp", 0o777|os.ModeSticky)
			u.env = append(u.env, "TMPDIR="+tmp)
			return filepath.Join(tmp, "certgate-"+strconv.Itoa(u.uid), "admin.sock"), nil, nil
		}},
		{"where --admin-listen says", func(u *asUser) (string, []string, []string) {
			sock := filepath.Join(u.mkdir("elsewhere", 0o700), "sock", "admin.sock")
			return sock, []string{"--admin-listen", "unix:" + sock}, []string{"--admin", "unix:" + sock}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newAsUser(t)
			sock, serveFlags, statusFlags := tt.setup(u)
			var stderr testlog.Buffer
			serve := u.command(append([]string{"serve", "--ca", "ca.pem", "--grpc-listen", "127.0.0.1:0", "--http-listen", "off", "--metrics-listen", "off", "--log-format", "text"}, serveFlags...)...)
			serve.Stdout, serve.Stderr = io.Discard, &stderr
			if err := serve.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- serve.Wait() }()
			defer func() { _ = serve.Process.Signal(syscall.SIGTERM); <-exited }()
			deadline := time.After(20 * time.Second)
			for !strings.Contains(stderr.String(), "msg=serving") {
				select {
				case err := <-exited:
					exited <- err
					t.Fatalf("serve exited (%v):\n%s", err, stderr.String())
				case <-deadline:
					t.Fatalf("serve is not serving after 20s:\n%s", stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			if !strings.Contains(stderr.String(), "admin=unix:"+sock) {
				t.Errorf("serve does not listen on %s:\n%s", sock, stderr.String())
			}
			if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("socket directory: %v, mode %v; want 0700", err, fi.Mode())
			}
			var out, errOut bytes.Buffer
			status := u.command(append([]string{"status"}, statusFlags...)...)
			status.Stdout, status.Stderr = &out, &errOut
			if err := status.Run(); err != nil || !strings.Contains(out.String(), "revision   1") {
				t.Errorf("status without flags: %v\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
			}
		})
	}
}
