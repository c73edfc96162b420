package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/server"
	"github.com/certgate/certgate/trust"
)

const devExamples = `  certgate dev
  certgate dev --dir /tmp/demo --grpc-listen 127.0.0.1:19191 --http-listen 127.0.0.1:19192 --metrics-listen 127.0.0.1:19193
`

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("dev", "dev [--dir DIR] [flags]", devExamples, stderr)
	dir := fs.String("dir", ".certgate-dev", "`dir`ectory of the demo PKI (created on first run, reused later)")
	grpcListen := fs.String("grpc-listen", "127.0.0.1:9191", "ext_authz gRPC listen `address`")
	httpListen := fs.String("http-listen", "127.0.0.1:9192", "HTTP check listen `address`")
	metricsListen := fs.String("metrics-listen", config.DefaultMetricsListen, "metrics (/metrics, /healthz, /readyz) listen `address`; \"off\" disables it")
	policyDir := fs.String("policy-dir", "", "`dir`ectory of .rego and data files (default: the embedded policy)")
	logFormat := fs.String("log-format", "text", "json or text")
	adminListen := fs.String("admin-listen", "", "admin API `address`, unix:PATH (default unix:DIR/admin.sock; a TCP address needs TLS, which dev does not set up)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *adminListen == "" {
		*adminListen = "unix:" + filepath.Join(*dir, "admin.sock")
	}
	demo, err := pki.EnsureDemo(*dir, time.Now)
	if err != nil {
		fmt.Fprintf(stderr, "certgate dev: %v\n", err)
		return exitFail
	}
	cfg := config.Default()
	cfg.Listen.GRPC, cfg.Listen.HTTP, cfg.Listen.Metrics = *grpcListen, *httpListen, *metricsListen
	if *metricsListen == "off" {
		cfg.Listen.Metrics = ""
	}
	cfg.Trust.CAFiles, cfg.Trust.CRLFiles = []string{demo.Path("ca.pem")}, []string{demo.Path("crl.pem")}
	cfg.Trust.CRLMode = trust.CRLModeFullChain
	// Header trust stays the default: the HTTP endpoint believes
	// Ssl-Client-Cert from a proxy on this host (NGINX, Envoy's HTTP mode),
	// the gRPC listener no header at all: Envoy sends source.certificate.
	cfg.Policy.Dir = *policyDir
	cfg.Log.Format = *logFormat
	cfg.Admin.Listen = *adminListen
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "certgate dev: %v\n", err)
		return exitUsage
	}
	if err := writeDevConfig(demo.Path("config.yaml"), cfg); err != nil {
		fmt.Fprintf(stderr, "certgate dev: %v\n", err)
		return exitFail
	}
	return serve(ctx, cfg, serveIO{stdout: stdout, log: newLogger(stderr, cfg.Log), ready: func(a server.Addrs) {
		printDevHelp(stdout, demo, a.GRPC, a.HTTP, a.Metrics, a.Admin)
	}})
}

// writeDevConfig writes cfg with absolute paths: the paths of a config file
// are relative to its directory, those of dev's flags to the working one.
func writeDevConfig(path string, cfg config.Config) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	cfg.ResolvePaths(wd)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	header := "# Written by `certgate dev`: the configuration it serves with.\n"
	if err := os.WriteFile(path, append([]byte(header), data...), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// self is how the user invoked certgate, for commands they can paste.
func self() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/certgate"
	}
	if !strings.ContainsRune(os.Args[0], filepath.Separator) {
		return os.Args[0]
	}
	if rel, err := filepath.Rel(".", os.Args[0]); err == nil && !strings.HasPrefix(rel, "..") {
		return "./" + rel
	}
	return os.Args[0]
}

func printDevHelp(w io.Writer, demo *pki.Demo, grpcAddr, httpAddr, metricsAddr, adminAddr string) {
	state := "reused"
	if demo.Created {
		state = "created"
	}
	me := self()
	fmt.Fprintf(w, "certgate dev: demo PKI %s in %s\n", state, demo.Dir)
	fmt.Fprintln(w, "  listening:")
	listening := []struct{ what, addr, note string }{
		{"ext_authz gRPC", grpcAddr, "Envoy's Check and gRPC health (no reflection)"},
		{"HTTP check", httpURL(httpAddr, "/v1/check"), "NGINX auth_request, /healthz, /readyz"},
		{"metrics", httpURL(metricsAddr, "/metrics"), "Prometheus, /healthz, /readyz; not on the data listeners"},
		{"admin API", adminAddr, "the admin commands below"},
	}
	for _, l := range listening {
		if l.addr == "" {
			l.addr, l.note = "off", ""
		}
		fmt.Fprintf(w, "    %-15s %-40s %s\n", l.what, l.addr, l.note)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Try it from another terminal (each sends a real ext_authz Check, as Envoy does):")
	try := []struct{ client, method, path, expect string }{
		{"viewer", "GET", "/api/v1/vm", "200: viewers hold list_vms"},
		{"viewer", "POST", "/api/v1/vm", "403: viewers lack start_vm"},
		{"jenkins", "POST", "/api/v1/registry/vm/distribute", "200: granted to user jenkins"},
		{"admin", "DELETE", "/api/v1/node", "200: admins hold every permission"},
		{"revoked", "GET", "/api/v1/vm", "401: listed in crl.pem"},
		{"stranger", "GET", "/api/v1/vm", "401: issued by an untrusted CA"},
	}
	for _, t := range try {
		fmt.Fprintf(w, "  %s check --grpc %s --cert %s --method %s --path %s   # %s\n",
			me, grpcAddr, demo.ClientCert(t.client), t.method, t.path, t.expect)
	}
	fmt.Fprintln(w, "\nThe same over the NGINX auth_request endpoint:")
	fmt.Fprintf(w, "  %s check --http %s --cert %s --method GET --path /api/v1/vm\n", me, httpAddr, demo.ClientCert("viewer"))
	fmt.Fprintln(w, "\nOffline, without the server:")
	fmt.Fprintf(w, "  %s verify --ca %s --crl %s %s\n", me, demo.Path("ca.pem"), demo.Path("crl.pem"), demo.ClientCert("revoked"))
	fmt.Fprintf(w, "  %s decide --config %s --cert %s --method POST --path /api/v1/vm\n", me, demo.Path("config.yaml"), demo.ClientCert("jenkins"))
	if adminAddr != "" {
		fmt.Fprintln(w, "\nOperate it through the admin API:")
		fmt.Fprintf(w, "  %s status  --admin %s\n", me, adminAddr)
		fmt.Fprintf(w, "  %s reload  --admin %s\n", me, adminAddr)
		fmt.Fprintf(w, "  %s explain --admin %s --cert %s --method POST --path /api/v1/vm   # 403: each step of the decision\n", me, adminAddr, demo.ClientCert("viewer"))
	}
	if metricsAddr != "" {
		fmt.Fprintln(w, "\nWatch it:")
		fmt.Fprintf(w, "  curl -s %s | grep ^certgate_\n", httpURL(metricsAddr, "/metrics"))
	}
	fmt.Fprintln(w)
}

// httpURL is http://addr+path, or "" when addr is (a listener that is off).
func httpURL(addr, path string) string {
	if addr == "" {
		return ""
	}
	return "http://" + addr + path
}
