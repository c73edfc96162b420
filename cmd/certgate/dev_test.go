package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
)

func TestDevServesAndTheCommandsItPrintsWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	dir := t.TempDir()
	go func() {
		done <- run(ctx, []string{"dev", "--dir", dir, "--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "Offline") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("certgate dev printed no help within 20s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ran int
	for _, line := range strings.Split(stdout.String(), "\n") {
		line = strings.TrimSpace(line)
		cmd, comment, _ := strings.Cut(line, "#")
		fields := strings.Fields(cmd)
		i := indexOf(fields, "check")
		if i < 0 {
			i = indexOf(fields, "verify")
		}
		for _, admin := range []string{"decide", "status", "reload", "explain"} {
			if i < 0 {
				i = indexOf(fields, admin)
			}
		}
		if i < 0 || i+1 >= len(fields) || !strings.HasPrefix(fields[i+1], "--") {
			continue
		}
		want := exitFail
		if strings.Contains(comment, "200") || (comment == "" && fields[i] != "verify") {
			want = exitOK
		}
		if fields[i] == "decide" {
			want = exitOK // jenkins may start a VM
		}
		code, out, errOut := runCLI(fields[i:]...)
		if code != want {
			t.Errorf("%q exited %d, want %d\nstdout: %s\nstderr: %s", cmd, code, want, out, errOut)
		}
		ran++
	}
	if code, out, errOut := runCLI("status", "--admin", "unix:"+filepath.Join(dir, "admin.sock")); code != exitOK ||
		!strings.Contains(out, "revision   1") || !strings.Contains(out, "CRL ") || !strings.Contains(out, "current, 1 revoked") {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
	// The metrics listener it prints serves /metrics; the HTTP check
	// listener does not.
	listening := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		for _, what := range []string{"HTTP check", "metrics"} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), what+" "); ok {
				listening[what] = strings.Fields(rest)[0]
			}
		}
	}
	if code, body := get(t, listening["metrics"]); code != http.StatusOK || !strings.Contains(body, "certgate_snapshot_revision 1") {
		t.Errorf("GET %s: %d, want 200 with certgate metrics", listening["metrics"], code)
	}
	if checkURL, ok := strings.CutSuffix(listening["HTTP check"], "/v1/check"); !ok {
		t.Errorf("no HTTP check address printed:\n%s", stdout.String())
	} else if code, _ := get(t, checkURL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the HTTP check listener: %d, want 404", code)
	}
	if ran < 11 {
		t.Errorf("ran %d printed commands, want at least 8:\n%s", ran, stdout.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("certgate dev exited %d after cancel\nstderr: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("certgate dev did not stop within 15s of cancel")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
