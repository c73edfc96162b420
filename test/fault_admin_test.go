package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// faultTarget is steady load on both of p's check adapters.
func faultTarget(p *certgateProc, w *world, classes []loadClass) loadTarget {
	return loadTarget{GRPC: p.grpcAddr, HTTP: p.httpAddr, PEMs: w.clients, Classes: classes}
}

// waitStatus polls GetStatus every 10 ms until ok accepts it or limit
// passes, and returns how long after since it was accepted.
func waitStatus(ctx context.Context, admin adminv1.AdminServiceClient, since time.Time, limit time.Duration,
	ok func(*adminv1.GetStatusResponse) bool,
) (time.Duration, *adminv1.GetStatusResponse, error) {
	deadline := time.Now().Add(limit)
	var last *adminv1.GetStatusResponse
	var lastErr error
	for time.Now().Before(deadline) {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := admin.GetStatus(callCtx, &adminv1.GetStatusRequest{})
		cancel()
		if err == nil {
			last = st
			if ok(st) {
				return time.Since(since), st, nil
			}
		}
		lastErr = err
		time.Sleep(10 * time.Millisecond)
	}
	if lastErr != nil {
		return 0, last, fmt.Errorf("status not reached within %v (last status %v): %w", limit, last, lastErr)
	}
	return 0, last, fmt.Errorf("status not reached within %v (last status %v)", limit, last)
}

// reloadedAfter accepts a status whose last reload was attempted after at
// and ended with result.
func reloadedAfter(at time.Time, result adminv1.ReloadResult) func(*adminv1.GetStatusResponse) bool {
	return func(st *adminv1.GetStatusResponse) bool {
		lr := st.GetLastReload()
		return lr != nil && !lr.GetAttemptedAt().AsTime().Before(at) && lr.GetResult() == result
	}
}

// writeInPlace truncates and rewrites path, as an editor saving in place
// or `cat > file` does.
func writeInPlace(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// writeRename writes a hidden temporary file beside path and renames it
// over path, as atomic writers (and most deploy tools) do.
func writeRename(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// TestFaultAdminOverTLSIsDecidedByTheAdminRule runs `certgate serve` with
// a TLS admin listener and a route table that ends in a catch-all
// ("* /**" for "authenticated", as real tables do), and calls it with the
// certgate CLI: the catch-all lets every valid certificate through the
// data plane, but only the admins group, which the shipped
// data.certgate.admin grants, may use the admin API.
func TestFaultAdminOverTLSIsDecidedByTheAdminRule(t *testing.T) {
	w := newWorld(t)
	serverCA := pkitest.New(t, "admin listener CA")
	server := serverCA.Leaf("localhost", pkitest.Usage(pki.ServerAuth), pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"localhost"} }))
	serverKey, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	p := writeFaultConfig(t, w, faultConfig{
		adminListen: anyPort,
		adminCert:   w.write(t, "admin-server.pem", server.CertPEM()),
		adminKey:    w.write(t, "admin-server-key.pem", serverKey),
	})
	serverCAFile := w.write(t, "admin-server-ca.pem", serverCA.CertPEM())
	// Append the catch-all to the shipped routes.
	dataPath := filepath.Join(p.policyDir, "data.json")
	raw, err := os.ReadFile(dataPath)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	data["certgate"]["routes"] = append(data["certgate"]["routes"].([]any),
		map[string]string{"permission": "authenticated", "method": "*", "path": "/**"})
	raw, err = json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dataPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p.start()
	_, port, err := net.SplitHostPort(p.adminAddr)
	if err != nil {
		t.Fatalf("admin address %q: %v", p.adminAddr, err)
	}

	// The catch-all does let the viewer ask for the admin service's path.
	req := client.EnvoyRequest(client.Check{CertPEM: w.clients["viewer"], Method: "POST", Target: "/certgate.admin.v1.AdminService/Reload"})
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	resp, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), req)
	if err != nil || resp.GetOkResponse() == nil {
		t.Fatalf("data-plane check of the viewer: %v %v, want the catch-all to allow it", resp, err)
	}

	cli := func(client string, args ...string) (int, string) {
		t.Helper()
		keyPEM, err := w.keys[client].KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		certFile := w.write(t, client+"-admin.pem", w.clients[client])
		keyFile := w.write(t, client+"-admin-key.pem", keyPEM)
		// The server certificate names localhost: dial it by that name.
		args = append(args, "--admin", "localhost:"+port, "--admin-cert", certFile, "--admin-key", keyFile, "--admin-ca", serverCAFile)
		cmd := exec.Command(p.bin, args...)
		cmd.Env = withoutCertgateEnv(os.Environ())
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out)
		case errors.As(err, &exit):
			return exit.ExitCode(), string(out)
		}
		t.Fatalf("certgate %v: %v", args, err)
		return 0, ""
	}
	for _, args := range [][]string{{"status"}, {"permissions"}, {"reload"}, {"explain", "--cert", w.write(t, "jenkins.pem", w.clients["jenkins"]), "--method", "GET", "--path", "/api/v1/vm"}} {
		if code, out := cli("admin", args...); code != 0 {
			t.Errorf("admin: certgate %s: exit %d\n%s", args[0], code, out)
		}
		for _, who := range []string{"viewer", "jenkins", "builder"} {
			if code, out := cli(who, args...); code == 0 || !strings.Contains(strings.ToLower(out), "permission denied") {
				t.Errorf("%s: certgate %s: exit %d, want refused with permission denied\n%s", who, args[0], code, out)
			}
		}
	}
}

// TestFaultServeRefusesAnAdminTCPListenerWithoutTLS: `certgate serve`
// exits with a usage error, before listening, when admin.listen is a TCP
// address without cert_file and key_file, loopback included.
func TestFaultServeRefusesAnAdminTCPListenerWithoutTLS(t *testing.T) {
	w := newWorld(t)
	p := writeFaultConfig(t, w, faultConfig{adminListen: anyPort})
	p.launch()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("certgate serve is still running with a TCP admin listener without TLS")
	}
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("exit %v, want status 2", p.err)
	}
	if log := p.logTail(); !strings.Contains(log, "admin.listen") || !strings.Contains(log, "cert_file") {
		t.Errorf("the error does not name admin.listen and cert_file:\n%s", log)
	}
}
