package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/certgate/certgate/buildinfo"
	"github.com/certgate/certgate/bundles"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/crlfetch"
)

// ServiceOptions are what a Service takes besides its configuration: where
// it writes, and whom it tells once it listens.
type ServiceOptions struct {
	// Logger receives the service log; nil logs to slog.Default.
	Logger *slog.Logger
	// Stdout is where decision_log.output "stdout" writes; nil is
	// os.Stdout.
	Stdout io.Writer
	// DecisionLog, when set, receives the decision lines instead of
	// decision_log.output (tests that read every line at once, a load
	// tool that discards them). The Service does not close it.
	DecisionLog *DecisionLog
	// Ready, when set, is called once with the bound addresses, after
	// every listener is bound and before any is served.
	Ready func(Addrs)
	// Version is what GetStatus reports; "" is this binary's build info.
	Version string
}

// Addrs are the addresses a Service's listeners are bound to; a listener
// that is off has "". A Unix socket is "unix:PATH".
type Addrs struct {
	GRPC, HTTP, Metrics, Admin string
}

// Service is one running certgate, wired from its configuration alone:
// the Checker on the first snapshot, the Reloader (file changes, the admin
// API, Reload), the Watcher, the CRL warner, the decision log, the metrics
// and the admin API, and the gRPC, HTTP, metrics and admin listeners.
// `certgate serve`, `certgate dev`, `certgate bench --serve` and the
// end-to-end tests all run it, so what they measure and test is what
// serve runs. Signals are the caller's: it calls Reload on SIGHUP and ends
// Run's context on SIGTERM.
type Service struct {
	cfg    config.Config
	log    *slog.Logger
	source Source
	// bundle is the policy.opa bundle the policy comes from, or nil.
	bundle   *bundles.Policy
	checker  *Checker
	reloader *Reloader
	warner   *CRLWarner
	admin    *AdminService
	adminTLS *tls.Config
	metrics  http.Handler
	// grpcTrust and httpTrust are what each listener believes of
	// forwarded certificate headers.
	grpcTrust, httpTrust ListenerTrust
	// peers and dataTLS guard the data listeners (listen.allowed_peers,
	// listen.tls).
	peers          AllowedPeers
	dataTLS        *tls.Config
	ready          func(Addrs)
	closeDecisions func()
	ran            atomic.Bool
	// fetcher keeps trust.crl_urls (and learned distribution points)
	// current; nil when none is configured.
	fetcher *crlfetch.Fetcher
}

// NewService validates cfg, loads the first snapshot and builds everything
// Run serves with; nothing listens yet. A configuration or first snapshot
// that cannot be used is an error: certgate never starts without a policy,
// except that with policy.opa and no bundle yet (none ever downloaded or
// persisted) it serves without a snapshot, every check a 500 no_snapshot
// deny and /readyz 503, until the bundle activates.
// The decision log it opens is flushed and closed when Run returns.
func NewService(ctx context.Context, cfg config.Config, opts ServiceOptions) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: opts.Logger, ready: opts.Ready, closeDecisions: func() {}}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if s.grpcTrust, s.httpTrust, err = listenerTrust(cfg.Headers); err != nil {
		return nil, err
	}
	// CRLs over HTTP are fetched (or read from the cache) before the
	// first snapshot, which they are part of; each new one reloads.
	if s.fetcher, err = newCRLFetcher(cfg, s.log, s.servingStore, func(ctx context.Context) { s.Reload(ctx, "CRL fetch") }, false); err != nil {
		return nil, err
	}
	if s.fetcher != nil {
		s.fetcher.Start(ctx)
	}
	snap, err := s.firstSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap != nil {
		s.learnFromCAs(snap)
		logRevocation(s.log, cfg.Trust.CRLMode, snap.Trust)
	}
	if s.adminTLS, err = adminTLSConfig(cfg.Admin); err != nil {
		return nil, err
	}
	if s.peers, s.dataTLS, err = dataAccess(cfg.Listen, s.log); err != nil {
		return nil, err
	}
	decisions := opts.DecisionLog
	if decisions == nil {
		if decisions, s.closeDecisions, err = openDecisionLog(cfg.DecisionLog, opts.Stdout); err != nil {
			return nil, err
		}
	}
	registry := prometheus.NewRegistry()
	metrics := NewMetrics(registry)
	s.metrics = promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry})
	s.checker = NewChecker(snap, Options{
		Logger:      s.log,
		DecisionLog: decisions,
		Metrics:     metrics,
		// Whether a 403 body names the missing permission.
		NameMissingPermission: cfg.Listen.NameMissingPermission,
		LearnCRLURLs:          s.learnCRLURLs(),
		VerdictCacheSize:      cfg.Cache.Verdicts.MaxEntries,
		VerdictCacheBytes:     cfg.Cache.Verdicts.MaxBytes,
	})
	crlLead := time.Duration(cfg.Trust.CRLWarnBefore)
	s.warner = &CRLWarner{Checker: s.checker, Lead: crlLead, Every: time.Hour, Logger: s.log, Metrics: metrics}
	s.reloader = &Reloader{Checker: s.checker, Source: s.source, Logger: s.log, Metrics: metrics,
		OnSwap: func(next *Snapshot) {
			s.warner.Poke()
			logRevocation(s.log, cfg.Trust.CRLMode, next.Trust)
			s.learnFromCAs(next)
		}}
	if s.fetcher != nil {
		registry.MustRegister(s.fetcher)
	}
	version := opts.Version
	if version == "" {
		version = buildinfo.Read().String()
	}
	s.admin = &AdminService{Checker: s.checker, Reloader: s.reloader, CRLWarnBefore: crlLead, Version: version, CRLFetcher: s.fetcher}
	s.attachBundle(registry)
	s.warnAtStart(snap)
	return s, nil
}

// serviceSource is the Service's Source: the configured trust files with
// the CRLs fetched so far (trustConfig, read at each load), and the policy.
// It warns about what each snapshot it loads trusts too much.
type serviceSource struct {
	s      *Service
	policy PolicySource
	// shadow is policy.shadow.dir.
	shadow string
}

func (src serviceSource) inputs() Inputs {
	return Inputs{Trust: src.s.trustConfig(), Policy: src.policy, Shadow: src.shadow,
		PolicyOptions: DecisionCacheOptions(src.s.cfg.Cache.Decisions)}
}

// Digest hashes the inputs a Load now would read.
func (src serviceSource) Digest(ctx context.Context) (string, error) { return src.inputs().Digest(ctx) }

// Load loads a snapshot and warns about its name-constrained CAs without
// a binding.
func (src serviceSource) Load(ctx context.Context, revision uint64) (*Snapshot, error) {
	snap, err := src.inputs().Load(ctx, revision)
	if err != nil {
		return nil, err
	}
	if snap.ShadowErr != nil {
		// The snapshot serves without a shadow (certgate_shadow_policy_loaded 0).
		src.s.log.ErrorContext(ctx, "shadow policy not loaded; serving without a shadow", "revision", revision, "dir", src.shadow, "error", snap.ShadowErr.Error())
	}
	warnUnboundConstrainedCAs(src.s.log, snap)
	return snap, nil
}

// warnAtStart warns about set-ups that start but deny every request of a
// kind.
func (s *Service) warnAtStart(snap *Snapshot) {
	if s.cfg.Listen.HTTP != "" && s.httpTrust.Families == 0 {
		s.log.Warn("the HTTP check endpoint reads certificate headers, but headers.http.trust believes none: every HTTP check will be denied with 401")
	}
	warnOpenDataListeners(s.log, s.cfg.Listen)
	warnSharedProxyCA(s.log, s.cfg)
	if s.adminTLS != nil && snap != nil && !snap.Policy.AdminDefined() {
		s.log.Warn("the policy defines no data.certgate.admin.allow: every call to the TLS admin API will be denied")
	}
}

// Checker is the Service's decision pipeline.
func (s *Service) Checker() *Checker { return s.checker }

// Reload loads the configured files again and swaps the result in, as a
// file change or `certgate reload` does; trigger names the cause in the
// log and in GetStatus ("SIGHUP"). A failure keeps the serving snapshot.
func (s *Service) Reload(ctx context.Context, trigger string) ReloadAttempt {
	return s.reloader.Attempt(ctx, trigger)
}

// ErrServiceRan is returned by a second Run: a Service serves once.
var ErrServiceRan = errors.New("server: the service has run already")

// Run binds every configured listener, watches the files (reload.watch),
// warns about expiring CRLs and serves until ctx ends; then it reports
// not-ready, lets in-flight calls finish within listen.shutdown_grace and
// closes the decision log. A listener that cannot be bound is an error
// before anything is served, never a silent start; so is a listener that
// fails while serving.
func (s *Service) Run(ctx context.Context) error {
	if s.ran.Swap(true) {
		return ErrServiceRan
	}
	defer s.closeDecisions()
	lis, err := bindListeners(s.cfg)
	if err != nil {
		return err
	}
	defer lis.close()
	ctx, cancel := context.WithCancel(ctx)
	// The watcher, the CRL warner and the CRL fetcher end before Run
	// returns, so that no reload they start outlives it.
	var background sync.WaitGroup
	defer background.Wait()
	defer cancel()
	if s.cfg.Reload.Watch {
		w := &Watcher{Reloader: s.reloader, Debounce: time.Duration(s.cfg.Reload.Debounce), Logger: s.log}
		background.Go(func() {
			if err := w.Run(ctx); err != nil {
				s.log.Error("file watching is off; reload with SIGHUP or `certgate reload`", "error", err.Error())
			}
		})
	}
	background.Go(func() { s.warner.Run(ctx) })
	if s.fetcher != nil {
		background.Go(func() { s.fetcher.Run(ctx) })
	}
	if s.bundle != nil {
		background.Go(func() { s.runBundle(ctx) })
	}
	addrs := lis.addrs()
	s.logServing(addrs)
	if s.ready != nil {
		s.ready(addrs)
	}
	srv := &servers{
		Checker: s.checker, Logger: s.log,
		GRPC: lis.grpc, HTTP: lis.http, Admin: lis.admin, MetricsListener: lis.metrics,
		GRPCReflection: s.cfg.Listen.GRPCReflection,
		GRPCTrust:      s.grpcTrust, HTTPTrust: s.httpTrust,
		AllowedPeers: s.peers, DataTLS: s.dataTLS,
		Metrics:      s.metrics,
		AdminService: s.admin, AdminTLS: s.adminTLS,
		ShutdownGrace: time.Duration(s.cfg.Listen.ShutdownGrace),
	}
	if err := srv.Run(ctx); err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// logServing is the line that says certgate serves, with every bound
// address and what the first snapshot enforces (tests read the addresses).
func (s *Service) logServing(a Addrs) {
	attrs := []any{"grpc", a.GRPC, "http", a.HTTP, "metrics", a.Metrics, "admin", a.Admin, "watch", s.cfg.Reload.Watch,
		"grpc_header_trust", s.grpcTrust.String(), "http_header_trust", s.httpTrust.String()}
	// Without a snapshot (no bundle yet) certgate serves, failing closed.
	if snap := s.checker.Snapshot(); snap != nil {
		ts := snap.Trust.Status()
		attrs = append(attrs, "revision", snap.Revision, "crl_mode", string(ts.Mode), "on_stale_crl", string(ts.OnStaleCRL),
			"profile", string(ts.Profile), "max_chain_depth", ts.MaxChainDepth, "policy_files", snap.Policy.Files())
	}
	s.log.Info("serving", attrs...)
}
