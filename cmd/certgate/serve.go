package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/server"
)

const serveExamples = `  certgate serve --config /etc/certgate/config.yaml
  certgate serve --ca ca.pem --crl crl.pem --policy-dir ./policy
  CERTGATE_CRL_MODE=leaf certgate serve --config config.yaml
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--config FILE] [flags]", serveExamples, stderr)
	var cf configFlags
	cf.register(fs)
	cf.registerServe(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certgate serve: unexpected argument %s\n", quote(fs.Arg(0)))
		return exitUsage
	}
	cfg, err := cf.load(fs, config.Default())
	if err != nil {
		fmt.Fprintf(stderr, "certgate serve: %v\n", err)
		return exitUsage
	}
	return serve(ctx, cfg, serveIO{stdout: stdout, log: newLogger(stderr, cfg.Log)})
}

// serveIO is where a serving certgate writes, and whom it tells once its
// listeners are bound.
type serveIO struct {
	stdout io.Writer
	log    *slog.Logger
	// ready, when set, is called with the bound addresses.
	ready func(grpcAddr, httpAddr, metricsAddr, adminAddr string)
}

// listeners are the bound sockets of one certgate process.
type listeners struct{ grpc, http, metrics, admin net.Listener }

func (l *listeners) close() {
	for _, lis := range []net.Listener{l.grpc, l.http, l.metrics, l.admin} {
		if lis != nil {
			_ = lis.Close()
		}
	}
}

// serve loads the first snapshot, binds the listeners (a bind failure is an
// error, never a silent start), reloads on SIGHUP, file changes and admin
// calls, and serves until ctx ends; then it drains and returns exitOK.
func serve(ctx context.Context, cfg config.Config, sio serveIO) int {
	// From here on SIGHUP means "reload", never its default "terminate",
	// even while the first snapshot loads: one that arrives before serving
	// starts is kept and reloads once serving has started.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := sio.log
	load := func(ctx context.Context, revision uint64) (*server.Snapshot, error) {
		snap, err := server.LoadSnapshot(ctx, cfg.TrustConfig(), cfg.Policy.Dir, revision)
		if err == nil {
			warnUnboundConstrainedCAs(log, snap)
		}
		return snap, err
	}
	snap, err := load(ctx, 1)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	logRevocation(log, cfg.Trust.CRLMode, snap.Trust)
	decisions, closeDecisions, err := openDecisionLog(cfg.DecisionLog, sio.stdout)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	defer closeDecisions()
	registry := prometheus.NewRegistry()
	metrics := server.NewMetrics(registry)
	checker := server.NewChecker(snap, server.Options{
		Logger:      log,
		DecisionLog: decisions,
		Metrics:     metrics,
		// Whether a 403 body names the missing permission.
		NameMissingPermission: cfg.Listen.NameMissingPermission,
	})
	grpcTrust, httpTrust, err := listenerTrust(cfg.Headers)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	if cfg.Listen.HTTP != "" && httpTrust.Families == 0 {
		log.Warn("the HTTP check endpoint reads certificate headers, but headers.http.trust believes none: every HTTP check will be denied with 401")
	}
	lis, err := listen(cfg)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	defer lis.close()
	var adminTLS *tls.Config
	if cfg.Admin.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Admin.CertFile, cfg.Admin.KeyFile)
		if err != nil {
			log.Error("cannot start", "error", fmt.Errorf("admin API certificate: %w", err).Error())
			return exitFail
		}
		adminTLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		if !snap.Policy.AdminDefined() {
			log.Warn("the policy defines no data.certgate.admin.allow: every call to the TLS admin API will be denied")
		}
	}
	warner := &server.CRLWarner{Checker: checker, Lead: time.Duration(cfg.Trust.CRLWarnBefore), Every: time.Hour, Logger: log, Metrics: metrics}
	reloader := &server.Reloader{Checker: checker, Load: load, Logger: log, Metrics: metrics,
		Digest: func() (string, error) { return server.InputDigest(cfg.TrustConfig(), cfg.Policy.Dir) },
		OnSwap: func(s *server.Snapshot) { warner.Poke(); logRevocation(log, cfg.Trust.CRLMode, s.Trust) }}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go reloadOnSIGHUP(ctx, reloader, hup)
	if cfg.Reload.Watch {
		w := &server.Watcher{Reloader: reloader, Debounce: time.Duration(cfg.Reload.Debounce), Logger: log}
		go func() {
			if err := w.Run(ctx); err != nil {
				log.Error("file watching is off; reload with SIGHUP or `certgate reload`", "error", err.Error())
			}
		}()
	}
	go warner.Run(ctx)

	grpcAddr, httpAddr, metricsAddr, adminAddr := addr(lis.grpc), addr(lis.http), addr(lis.metrics), addr(lis.admin)
	log.Info("serving", "grpc", grpcAddr, "http", httpAddr, "metrics", metricsAddr, "admin", adminAddr, "revision", snap.Revision,
		"crl_mode", string(snap.Trust.Status().Mode), "on_stale_crl", string(snap.Trust.Status().OnStaleCRL),
		"profile", string(snap.Trust.Status().Profile), "max_chain_depth", snap.Trust.Status().MaxChainDepth,
		"policy_files", snap.Policy.Files(), "watch", cfg.Reload.Watch,
		"grpc_header_trust", grpcTrust.String(), "http_header_trust", httpTrust.String())
	if sio.ready != nil {
		sio.ready(grpcAddr, httpAddr, metricsAddr, adminAddr)
	}
	servers := &server.Servers{
		Checker: checker, Logger: log,
		GRPC: lis.grpc, HTTP: lis.http, Admin: lis.admin,
		MetricsListener: lis.metrics, GRPCReflection: cfg.Listen.GRPCReflection,
		GRPCTrust: grpcTrust, HTTPTrust: httpTrust,
		Metrics:       promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}),
		AdminService:  &server.AdminService{Checker: checker, Reloader: reloader, CRLWarnBefore: time.Duration(cfg.Trust.CRLWarnBefore), Version: version()},
		AdminTLS:      adminTLS,
		ShutdownGrace: time.Duration(cfg.Listen.ShutdownGrace),
	}
	if err := servers.Run(ctx); err != nil {
		log.Error("serving failed", "error", err.Error())
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}

// listenerTrust is what each listener believes of forwarded certificate
// headers (config.Validate has checked the names and addresses).
func listenerTrust(h config.Headers) (grpcTrust, httpTrust server.ListenerTrust, err error) {
	for _, l := range []struct {
		cfg config.ListenerHeaders
		dst *server.ListenerTrust
	}{{h.GRPC, &grpcTrust}, {h.HTTP, &httpTrust}} {
		if l.dst.Families, l.dst.Proxies, err = l.cfg.Parse(); err != nil {
			return grpcTrust, httpTrust, fmt.Errorf("headers: %w", err)
		}
	}
	return grpcTrust, httpTrust, nil
}

// listen binds every configured listener, or none.
func listen(cfg config.Config) (*listeners, error) {
	l := &listeners{}
	var err error
	if cfg.Listen.GRPC != "" {
		if l.grpc, err = net.Listen("tcp", cfg.Listen.GRPC); err != nil {
			return nil, fmt.Errorf("listen for gRPC on %s: %w", cfg.Listen.GRPC, err)
		}
	}
	if cfg.Listen.HTTP != "" {
		if l.http, err = net.Listen("tcp", cfg.Listen.HTTP); err != nil {
			l.close()
			return nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.Listen.HTTP, err)
		}
	}
	if cfg.Listen.Metrics != "" {
		if l.metrics, err = net.Listen("tcp", cfg.Listen.Metrics); err != nil {
			l.close()
			return nil, fmt.Errorf("listen for metrics on %s: %w", cfg.Listen.Metrics, err)
		}
	}
	if cfg.Admin.Listen != "" {
		network, address := cfg.Admin.AdminAddress()
		if l.admin, err = server.ListenAdmin(network, address); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

func reloadOnSIGHUP(ctx context.Context, r *server.Reloader, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.Attempt(ctx, "SIGHUP")
		}
	}
}

// openDecisionLog opens the decision log's output: stdout, stderr, off or
// a file appended to. Lines are written in batches (see
// server.BufferedWriter); the returned func flushes and closes.
func openDecisionLog(c config.DecisionLog, stdout io.Writer) (*server.DecisionLog, func(), error) {
	var w io.Writer
	closeFile := func() {}
	switch c.Output {
	case "off":
		return server.NewDecisionLog(nil, 0), func() {}, nil
	case "stdout", "":
		w = stdout
	case "stderr":
		w = os.Stderr
	default:
		f, err := os.OpenFile(c.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("decision log: %w", err)
		}
		w, closeFile = f, func() { _ = f.Close() }
	}
	buffered := server.NewBufferedWriter(w)
	d := server.NewDecisionLog(buffered, c.SampleAllowed, server.DenyRate(c.DenyRate, c.DenyBurst), server.QueryValues(c.QueryValues))
	return d, func() { _ = buffered.Close(); closeFile() }, nil
}

func addr(l net.Listener) string {
	if l == nil {
		return ""
	}
	if l.Addr().Network() == "unix" {
		return "unix:" + l.Addr().String()
	}
	return l.Addr().String()
}

// warnUnboundConstrainedCAs warns about each name-constrained CA without a
// trust.ca_bindings entry: its constraints limit the SANs it may issue,
// not the users and groups, so it may still issue "CN=admin, O=admins".
func warnUnboundConstrainedCAs(log *slog.Logger, snap *server.Snapshot) {
	for _, subject := range snap.Trust.UnboundConstrainedCAs() {
		log.Warn("a name-constrained CA may assert any user and group: bind it in trust.ca_bindings",
			"ca", subject, "revision", snap.Revision)
	}
}
