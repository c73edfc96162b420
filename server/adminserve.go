package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// ListenAdmin listens on the admin address. A Unix socket gets mode 0600 in
// a directory created with mode 0700 when missing and refused when another
// user owns it; a stale socket left by a crashed certgate is replaced, a
// live one is an error.
func ListenAdmin(network, address string) (net.Listener, error) {
	if network != "unix" {
		lis, err := net.Listen(network, address)
		if err != nil {
			return nil, fmt.Errorf("admin API: listen on %s: %w", address, err)
		}
		return lis, nil
	}
	if err := os.MkdirAll(filepath.Dir(address), 0o700); err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	if err := checkSocketDir(filepath.Dir(address)); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(address); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("admin API: %s exists and is not a socket", address)
		}
		if c, err := net.DialTimeout("unix", address, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("admin API: another process is serving on %s", address)
		}
		if err := os.Remove(address); err != nil {
			return nil, fmt.Errorf("admin API: remove stale socket: %w", err)
		}
	}
	lis, err := net.Listen("unix", address)
	if err != nil {
		return nil, fmt.Errorf("admin API: listen on %s: %w", address, err)
	}
	if err := os.Chmod(address, 0o600); err != nil {
		_ = lis.Close()
		return nil, fmt.Errorf("admin API: restrict %s: %w", address, err)
	}
	return lis, nil
}

// NewAdminGRPCServer returns a gRPC server for svc. With tlsCfg set, every
// client must present a certificate, and every call is decided by svc's
// Checker (Checker.AuthorizeAdmin): the chain is verified with certgate's
// own CAs and CRLs, and the identity judged by the policy's admin rule
// (policy.AdminQuery, data.certgate.admin.allow), never by the route table
// of the checks. Without tlsCfg, access is governed by the Unix socket's
// file permissions; servers.Run refuses to serve it on TCP.
func NewAdminGRPCServer(svc *AdminService, tlsCfg *tls.Config) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxGRPCMessageBytes),
		grpc.ConnectionTimeout(10 * time.Second),
	}
	if tlsCfg != nil {
		cfg := tlsCfg.Clone()
		cfg.ClientAuth = tls.RequireAnyClientCert // the Checker verifies the chain
		cfg.MinVersion = tls.VersionTLS12
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)),
			grpc.UnaryInterceptor(adminAuthorizer(svc.Checker)),
			grpc.StreamInterceptor(adminStreamAuthorizer(svc.Checker)))
	}
	srv := grpc.NewServer(opts...)
	adminv1.RegisterAdminServiceServer(srv, svc)
	return srv
}

// adminAuthorizer decides each admin call from the client certificate of
// its TLS connection.
func adminAuthorizer(checker *Checker) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := authorizeAdmin(ctx, checker, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// adminStreamAuthorizer is adminAuthorizer for streaming methods, so that
// one added to the service later is not served unauthorized.
func adminStreamAuthorizer(checker *Checker) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := authorizeAdmin(ss.Context(), checker, info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

func authorizeAdmin(ctx context.Context, checker *Checker, fullMethod string) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "no peer")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return status.Error(codes.Unauthenticated, "a client certificate is required")
	}
	res := checker.AuthorizeAdmin(ctx, ti.State.PeerCertificates, fullMethod)
	switch {
	case res.Allow:
		return nil
	case res.Status == http.StatusUnauthorized:
		return status.Errorf(codes.Unauthenticated, "admin API: not authenticated (decision %s)", res.DecisionID)
	case res.Status == http.StatusForbidden:
		return status.Errorf(codes.PermissionDenied, "admin API: permission denied (decision %s)", res.DecisionID)
	}
	return status.Errorf(codes.Internal, "admin API: authorization failed (decision %s)", res.DecisionID)
}
