package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// Limits on what one peer may send. Envoy's CheckRequest carries the
// request headers and a PEM certificate; a few hundred KiB is generous.
// Anything over a limit is refused by the transport (gRPC
// RESOURCE_EXHAUSTED, HTTP 431), which the proxy turns into a deny; the
// certificate value itself is bounded again, lower, by identity.Options.
const (
	MaxGRPCMessageBytes = 1 << 20
	MaxHTTPHeaderBytes  = 256 << 10
	// MaxGRPCHeaderListBytes bounds the HTTP/2 headers (gRPC metadata) of
	// one call: Envoy sends a few hundred bytes there.
	MaxGRPCHeaderListBytes = 64 << 10
	// MaxGRPCStreams bounds the concurrent calls on one connection; Envoy
	// opens more connections when it needs more.
	MaxGRPCStreams = 1024
)

// Timeouts of the listeners.
const (
	// GRPCHandshakeTimeout bounds the connection setup (the HTTP/2
	// preface and settings) of a gRPC client.
	GRPCHandshakeTimeout = 5 * time.Second
	// GRPCIdleTimeout closes a gRPC connection without calls for this long.
	GRPCIdleTimeout = 15 * time.Minute
	// GRPCPingMinInterval is the most often a client may ping; more often
	// and the connection is closed (GOAWAY too_many_pings).
	GRPCPingMinInterval = 10 * time.Second
	// HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPWriteTimeout and
	// HTTPIdleTimeout bound slow or idle HTTP clients.
	HTTPReadHeaderTimeout = 5 * time.Second
	HTTPReadTimeout       = 10 * time.Second
	HTTPWriteTimeout      = 10 * time.Second
	HTTPIdleTimeout       = 120 * time.Second
)

// DefaultShutdownGrace is how long in-flight calls may take after a stop
// is asked for when servers.ShutdownGrace is zero.
const DefaultShutdownGrace = 10 * time.Second

// dataListener is what a data listener (gRPC ext_authz, HTTP check)
// believes and whom it answers; the zero value is plain TCP, believes no
// header and answers every peer.
type dataListener struct {
	// Trust is what it believes of forwarded certificate headers.
	Trust ListenerTrust
	// Peers may ask for decisions (listen.allowed_peers); nil: any.
	Peers AllowedPeers
	// TLS, when set, serves TLS and requires the proxy's client
	// certificate (listen.tls).
	TLS *tls.Config
}

// newGRPCServer returns a gRPC server with the ext_authz v3 service, the
// standard health service (serving for "" and the ext_authz service name)
// and, with withReflection, reflection registered, and the health server to
// report a stop with. Streams run on that many workers (0: a goroutine
// each), whose stacks stay grown between calls.
func newGRPCServer(checker *Checker, data dataListener, withReflection bool, workers int) (*grpc.Server, *health.Server) {
	var opts []grpc.ServerOption
	if data.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(data.TLS)))
	}
	srv := grpc.NewServer(append(opts,
		grpc.NumStreamWorkers(uint32(max(workers, 0))),
		grpc.MaxRecvMsgSize(MaxGRPCMessageBytes),
		grpc.MaxSendMsgSize(MaxGRPCMessageBytes),
		grpc.MaxHeaderListSize(MaxGRPCHeaderListBytes),
		grpc.MaxConcurrentStreams(MaxGRPCStreams),
		grpc.ConnectionTimeout(GRPCHandshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: GRPCPingMinInterval, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: GRPCIdleTimeout, Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	)...)
	auth := NewAuthorizationServer(checker, data.Trust)
	auth.peers = data.Peers
	authv3.RegisterAuthorizationServer(srv, auth)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	if withReflection {
		reflection.Register(srv)
	}
	return srv, hs
}

// newHTTPServer returns the HTTP listener's server for h with explicit
// timeouts and header limits.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HTTPReadHeaderTimeout,
		ReadTimeout:       HTTPReadTimeout,
		WriteTimeout:      HTTPWriteTimeout,
		IdleTimeout:       HTTPIdleTimeout,
		MaxHeaderBytes:    MaxHTTPHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// servers are the bound listeners of one Service and what they serve;
// Service.Run is the only production caller, so that every certgate (serve,
// dev, bench --serve, the end-to-end tests) serves the same way.
type servers struct {
	Checker *Checker
	Logger  *slog.Logger
	// GRPC (ext_authz, health, reflection when GRPCReflection is set),
	// HTTP (check endpoint, probes), MetricsListener (Metrics at /metrics,
	// probes) and Admin (AdminService) may each be nil.
	GRPC, HTTP, Admin net.Listener
	MetricsListener   net.Listener
	// GRPCTrust and HTTPTrust say which forwarded certificate headers each
	// listener believes, and from which peers; the zero value believes none.
	GRPCTrust, HTTPTrust ListenerTrust
	// AllowedPeers may ask GRPC and HTTP for decisions; nil: any peer.
	AllowedPeers AllowedPeers
	// DataTLS, when set, serves GRPC and HTTP over TLS with a client
	// certificate required (listen.tls).
	DataTLS *tls.Config
	// GRPCReflection registers gRPC server reflection on GRPC, which lists
	// the services to anyone who can reach the listener; off by default.
	GRPCReflection bool
	// Metrics is served at /metrics on MetricsListener, never on the data
	// listeners.
	Metrics http.Handler
	// AdminService serves on Admin; AdminTLS, when set, turns on TLS there
	// and requires a client certificate the policy's admin rule allows. A
	// TCP Admin listener without AdminTLS is refused.
	AdminService *AdminService
	AdminTLS     *tls.Config
	// ShutdownGrace bounds how long in-flight calls may take to finish.
	ShutdownGrace time.Duration
}

// Run serves until ctx ends or a listener fails. It then reports
// not-ready (/readyz 503, gRPC health NOT_SERVING), stops accepting, lets
// in-flight calls finish within ShutdownGrace and closes what is left.
// It returns the serving error, or nil after a requested stop.
func (s *servers) Run(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	if s.Admin != nil && s.AdminService != nil && s.AdminTLS == nil && s.Admin.Addr().Network() != "unix" {
		return fmt.Errorf("admin API on %s: a TCP admin listener needs TLS with client certificates", s.Admin.Addr())
	}
	var draining atomic.Bool
	errc := make(chan error, 4)
	var gs, as *grpc.Server
	var health *health.Server
	var hs, ms *http.Server
	if s.GRPC != nil {
		gs, health = newGRPCServer(s.Checker, dataListener{Trust: s.GRPCTrust, Peers: s.AllowedPeers, TLS: forProtocols(s.DataTLS, "h2")}, s.GRPCReflection, streamWorkers())
		go func() { errc <- gs.Serve(s.GRPC) }()
	}
	serveHTTP := func(srv *http.Server, lis net.Listener) {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}
	if s.HTTP != nil {
		workers := newWarmPool(streamWorkers())
		defer workers.close()
		hs = newHTTPServer(newHTTPMux(s.Checker, s.HTTPTrust, s.AllowedPeers, draining.Load, workers), log)
		hs.ConnContext = countRequests
		lis := s.HTTP
		if s.DataTLS != nil {
			hs.TLSConfig = forProtocols(s.DataTLS, "http/1.1")
			lis = tls.NewListener(lis, hs.TLSConfig)
		}
		go serveHTTP(hs, lis)
	}
	if s.MetricsListener != nil {
		ms = newHTTPServer(newMetricsMux(s.Checker, draining.Load, s.Metrics), log)
		go serveHTTP(ms, s.MetricsListener)
	}
	if s.Admin != nil && s.AdminService != nil {
		as = NewAdminGRPCServer(s.AdminService, s.AdminTLS)
		go func() { errc <- as.Serve(s.Admin) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	grace := s.ShutdownGrace
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	draining.Store(true)
	if health != nil {
		health.Shutdown() // every service NOT_SERVING
	}
	log.Info("shutting down: not ready, finishing in-flight calls", "grace", grace.String())
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, h := range []*http.Server{hs, ms} {
		if h == nil {
			continue
		}
		wg.Go(func() {
			if err := h.Shutdown(shutdown); err != nil {
				log.Warn("HTTP calls still running at the end of the grace period were cut", "error", err.Error())
				_ = h.Close()
			}
		})
	}
	for _, g := range []*grpc.Server{gs, as} {
		if g == nil {
			continue
		}
		wg.Go(func() { stopGRPC(shutdown, g, log) })
	}
	wg.Wait()
	return err
}

// stopGRPC stops g gracefully, or by force when ctx ends first.
func stopGRPC(ctx context.Context, g *grpc.Server, log *slog.Logger) {
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		log.Warn("gRPC calls still running at the end of the grace period were cut")
		g.Stop()
		<-stopped
	}
}
