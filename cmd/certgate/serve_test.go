package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
)

// TestServeRefusesATCPAdminListenerWithoutTLS: certgate does not start with
// an admin API on TCP without TLS, not even on loopback, where every local
// user could reload it; the config file and the environment are refused
// alike, before anything listens.
func TestServeRefusesATCPAdminListenerWithoutTLS(t *testing.T) {
	d := demo(t)
	cfg := filepath.Join(d.Dir, "config.yaml")
	yaml := "trust:\n  ca_files: [" + d.Path("ca.pem") + "]\nadmin:\n  listen: 127.0.0.1:0\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("serve", "--config", cfg)
	if code != exitUsage || !strings.Contains(stderr, "admin.listen") || !strings.Contains(stderr, "cert_file") {
		t.Errorf("serve with a TCP admin listener in the file: exit %d, stderr %s; want %d naming admin.listen", code, stderr, exitUsage)
	}
	t.Setenv(config.EnvAdminListen, "localhost:0")
	code, _, stderr = runCLI("serve", "--ca", d.Path("ca.pem"))
	if code != exitUsage || !strings.Contains(stderr, "admin.listen") {
		t.Errorf("serve with %s=localhost:0: exit %d, stderr %s; want %d naming admin.listen", config.EnvAdminListen, code, stderr, exitUsage)
	}
}

// TestServeExitsWhenAListenerCannotBind: a taken address is exit 1 with
// the address named, before anything is served.
func TestServeExitsWhenAListenerCannotBind(t *testing.T) {
	d := demo(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	code, _, stderr := runCLI("serve", "--ca", d.Path("ca.pem"), "--crl", d.Path("crl.pem"), "--grpc-listen", "127.0.0.1:0",
		"--http-listen", taken.Addr().String(), "--metrics-listen", "off", "--admin-listen", "off")
	if code != exitFail || !strings.Contains(stderr, "listen for HTTP on "+taken.Addr().String()) || strings.Contains(stderr, `"msg":"serving"`) {
		t.Errorf("serve on a taken HTTP address: exit %d, stderr %s; want %d naming the address, never serving", code, stderr, exitFail)
	}
}
