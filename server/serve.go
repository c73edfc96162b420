package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
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

// NewGRPCServer returns a gRPC server with the ext_authz v3 service, the
// standard health service (serving for "" and the ext_authz service name)
// and reflection registered.
func NewGRPCServer(checker *Checker) *grpc.Server {
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(MaxGRPCMessageBytes),
		grpc.MaxSendMsgSize(MaxGRPCMessageBytes),
		grpc.MaxHeaderListSize(MaxGRPCHeaderListBytes),
		grpc.MaxConcurrentStreams(MaxGRPCStreams),
		grpc.ConnectionTimeout(GRPCHandshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: GRPCPingMinInterval, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: GRPCIdleTimeout, Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	)
	authv3.RegisterAuthorizationServer(srv, NewAuthorizationServer(checker))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv
}

// NewHTTPServer returns the HTTP listener's server with explicit timeouts
// and header limits.
func NewHTTPServer(checker *Checker, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           NewHTTPHandler(checker),
		ReadHeaderTimeout: HTTPReadHeaderTimeout,
		ReadTimeout:       HTTPReadTimeout,
		WriteTimeout:      HTTPWriteTimeout,
		IdleTimeout:       HTTPIdleTimeout,
		MaxHeaderBytes:    MaxHTTPHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve runs the gRPC and HTTP servers on the given listeners (either may be
// nil) until ctx ends, then stops them gracefully. It returns the first
// serving error.
func Serve(ctx context.Context, checker *Checker, log *slog.Logger, grpcLis, httpLis net.Listener) error {
	errc := make(chan error, 2)
	var gs *grpc.Server
	var hs *http.Server
	if grpcLis != nil {
		gs = NewGRPCServer(checker)
		go func() { errc <- gs.Serve(grpcLis) }()
	}
	if httpLis != nil {
		hs = NewHTTPServer(checker, log)
		go func() {
			if err := hs.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if hs != nil {
		_ = hs.Shutdown(shutdown)
	}
	if gs != nil {
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-shutdown.Done():
			gs.Stop()
		}
	}
	return err
}
