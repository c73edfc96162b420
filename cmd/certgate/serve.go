package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

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
	ready func(server.Addrs)
}

// serve runs the server.Service of cfg until ctx ends and reloads it on
// SIGHUP; a configuration, first snapshot or listener that cannot be used
// exits 1.
func serve(ctx context.Context, cfg config.Config, sio serveIO) int {
	// From here on SIGHUP means "reload", never its default "terminate",
	// even while the first snapshot loads: one that arrives before serving
	// starts is kept and reloads once the service exists.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := sio.log
	svc, err := server.NewService(ctx, cfg, server.ServiceOptions{Logger: log, Stdout: sio.stdout, Ready: sio.ready, Version: version()})
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFail
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go reloadOnSIGHUP(ctx, svc, hup)
	if err := svc.Run(ctx); err != nil {
		log.Error("cannot serve", "error", err.Error())
		return exitFail
	}
	return exitOK
}

func reloadOnSIGHUP(ctx context.Context, svc *server.Service, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			svc.Reload(ctx, "SIGHUP")
		}
	}
}
