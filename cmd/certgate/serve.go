package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
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
	return serve(ctx, cfg, newLogger(stderr, cfg.Log), func(string, string) {})
}

// serve loads the first snapshot, binds the listeners (a bind failure is an
// error, never a silent start), reloads on SIGHUP and serves until ctx ends.
// ready is called with the bound addresses once both listeners are up.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready func(grpcAddr, httpAddr string)) int {
	load := func(ctx context.Context, revision uint64) (*server.Snapshot, error) {
		return server.LoadSnapshot(ctx, cfg.TrustConfig(), cfg.Policy.Dir, revision)
	}
	snap, err := load(ctx, 1)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	checker := server.NewChecker(snap, server.Options{
		Identity: identity.Options{TrustForwardedHeaders: cfg.Headers.TrustForwarded},
		Logger:   log,
	})
	if cfg.Listen.HTTP != "" && !cfg.Headers.TrustForwarded {
		log.Warn("the HTTP check endpoint reads Ssl-Client-Cert, but headers.trust_forwarded is false: every HTTP check will be denied with 401")
	}
	var grpcLis, httpLis net.Listener
	if cfg.Listen.GRPC != "" {
		if grpcLis, err = net.Listen("tcp", cfg.Listen.GRPC); err != nil {
			log.Error("cannot listen for gRPC", "address", cfg.Listen.GRPC, "error", err.Error())
			return exitFail
		}
	}
	if cfg.Listen.HTTP != "" {
		if httpLis, err = net.Listen("tcp", cfg.Listen.HTTP); err != nil {
			if grpcLis != nil {
				_ = grpcLis.Close()
			}
			log.Error("cannot listen for HTTP", "address", cfg.Listen.HTTP, "error", err.Error())
			return exitFail
		}
	}
	reloader := &server.Reloader{Checker: checker, Load: load, Logger: log}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = reloader.Reload(ctx, "SIGHUP")
			}
		}
	}()
	grpcAddr, httpAddr := addr(grpcLis), addr(httpLis)
	log.Info("serving", "grpc", grpcAddr, "http", httpAddr, "revision", snap.Revision,
		"crl_mode", string(snap.Trust.Status().Mode), "policy_files", snap.Policy.Files())
	ready(grpcAddr, httpAddr)
	if err := server.Serve(ctx, checker, log, grpcLis, httpLis); err != nil {
		log.Error("serving failed", "error", err.Error())
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}

func addr(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}
