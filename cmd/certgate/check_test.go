package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
	"github.com/google/go-cmp/cmp"
)

// devServer is a `certgate dev` running in-process for a test.
type devServer struct {
	dir, grpc, http, admin string
}

func startDev(t *testing.T) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	s := &devServer{dir: t.TempDir()}
	go func() {
		done <- run(ctx, []string{"dev", "--dir", s.dir, "--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--metrics-listen", "off"}, &stdout, &stderr)
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "Offline") {
		if time.Now().After(deadline) {
			t.Fatalf("certgate dev printed no help within 20s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "ext_authz gRPC "); ok {
			s.grpc = strings.Fields(rest)[0]
		}
		if rest, ok := strings.CutPrefix(line, "HTTP check "); ok {
			s.http = strings.TrimSuffix(strings.TrimPrefix(strings.Fields(rest)[0], "http://"), "/v1/check")
		}
	}
	s.admin = "unix:" + filepath.Join(s.dir, "admin.sock")
	return s
}

func (s *devServer) client(name string) string { return filepath.Join(s.dir, "clients", name+".pem") }

func TestCheckPrintsTheReasonTheAdminAPIGives(t *testing.T) {
	s := startDev(t)
	combined := filepath.Join(t.TempDir(), "jenkins-with-key.pem")
	cert, _ := os.ReadFile(s.client("jenkins"))
	key, _ := os.ReadFile(s.client("jenkins-key"))
	if err := os.WriteFile(combined, append(key, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // the first line of stdout, or of stderr on a usage error
	}{
		{"a 403 names the permission and the reason", []string{"--grpc", s.grpc, "--admin", s.admin, "--cert", s.client("viewer"), "--method", "POST", "--path", "/api/v1/vm"},
			exitFail, "DENY 403 (gRPC code 7), permission start_vm: missing_permission"},
		{"a 401 says what is wrong with the chain", []string{"--grpc", s.grpc, "--admin", s.admin, "--cert", s.client("revoked"), "--path", "/api/v1/vm"},
			exitFail, "DENY 401 (gRPC code 16): chain: revoked (CN=revoked,O=ci)"},
		{"an allow names the permission", []string{"--grpc", s.grpc, "--admin", s.admin, "--cert", s.client("jenkins"), "--method", "POST", "--path", "/api/v1/vm"},
			exitOK, "ALLOW 200, permission start_vm: granted"},
		{"the HTTP endpoint is explained alike", []string{"--http", s.http, "--admin", s.admin, "--cert", s.client("viewer"), "--method", "POST", "--path", "/api/v1/vm"},
			exitFail, "DENY 403, permission start_vm: missing_permission"},
		{"no certificate is the reason itself", []string{"--grpc", s.grpc, "--path", "/api/v1/vm"},
			exitFail, "DENY 401 (gRPC code 16): no client certificate was sent (--cert)"},
		{"an unreachable admin API is said to be the reason there is none", []string{"--grpc", s.grpc, "--admin", "unix:" + filepath.Join(s.dir, "nope.sock"), "--cert", s.client("viewer"), "--method", "POST", "--path", "/api/v1/vm"},
			exitFail, "DENY 403 (gRPC code 7)\n  reason unknown: certgate tells clients no reason, and asking its admin API failed: cannot reach the admin API"},
		{"a key beside the certificate is not sent", []string{"--grpc", s.grpc, "--admin", s.admin, "--cert", combined, "--method", "POST", "--path", "/api/v1/vm"},
			exitOK, "ALLOW 200, permission start_vm: granted"},
		{"a key file is refused with what it holds", []string{"--grpc", s.grpc, "--cert", s.client("viewer-key"), "--path", "/api/v1/vm"},
			exitUsage, "certgate check: " + s.client("viewer-key") + " holds a private key, not a certificate"},
		{"a missing --path is a usage error", []string{"--grpc", s.grpc, "--cert", s.client("viewer")},
			exitUsage, "certgate check: --path is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"check"}, tt.args...)...)
			out := stdout
			if code == exitUsage {
				out = stderr
			}
			if code != tt.code || !strings.HasPrefix(out, tt.want) {
				t.Errorf("exit %d, want %d; output does not start with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestCheckJSONIsTheAnswerAndItsReason(t *testing.T) {
	s := startDev(t)
	code, stdout, stderr := runCLI("check", "--grpc", s.grpc, "--admin", s.admin, "--json", "--cert", s.client("viewer"), "--method", "POST", "--path", "/api/v1/vm")
	if code != exitFail {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, exitFail, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	want := map[string]any{
		"allow": false, "status": 403.0, "grpc_code": 7.0, "body": `{"status":"FAIL","message":"Forbidden"}`,
		"reason": "missing_permission", "permission": "start_vm",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check --json (-want +got):\n%s", diff)
	}
}
