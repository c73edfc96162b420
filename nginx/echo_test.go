package nginx_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestEchoListensOnThePortItIsGiven starts echo.py on a free port (0), as
// someone whose 8080 is taken would start it on another, and asks it once.
func TestEchoListensOnThePortItIsGiven(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 not found: %v", err)
		}
		t.Skipf("python3 not found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "echo.py", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "echo: listening on ")
	if err != nil || !ok || strings.HasSuffix(url, ":8080") {
		t.Fatalf("echo.py 0 said %q (%v)", line, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/vm?x=1", nil)
	req.Header.Set("X-Certgate-User", "viewer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var got struct {
		Method, Path string
		Headers      map[string]string
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.Path != "/api/v1/vm?x=1" || got.Headers["X-Certgate-User"] != "viewer" {
		t.Errorf("echo answered %+v", got)
	}
}
