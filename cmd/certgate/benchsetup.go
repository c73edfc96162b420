package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/certgate/certgate/loadgen"
	"github.com/certgate/certgate/pki"
)

// benchTarget is what bench loads: a certgate it started in this process
// (--serve) or the one at the addresses given, and with --baseline the
// no-op server; with --mode nginx an NGINX in front of each.
type benchTarget struct {
	grpcAddr, httpAddr, pkiDir string
	cg                         *loadgen.Certgate // with --serve
	noop                       *loadgen.Noop     // with --baseline
	nginx, noopNGINX           *loadgen.NGINX    // with --mode nginx
	fleetCA                    *loadgen.FleetCA  // with --ca-key-type
	cleanup                    []func()
}

// close stops what startBenchTarget started, last first.
func (t *benchTarget) close() {
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		t.cleanup[i]()
	}
}

// startBenchTarget starts what the flags ask for: certgate in this process
// (in a fresh demo PKI unless --pki names one) with --serve, the no-op with
// --baseline, NGINX and its app with --mode nginx. Without --serve it
// takes the addresses and PKI directory of the flags.
func startBenchTarget(ctx context.Context, f benchFlags) (*benchTarget, error) {
	t := &benchTarget{grpcAddr: f.grpcAddr, httpAddr: f.httpAddr, pkiDir: f.pkiDir}
	if err := t.start(ctx, f); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *benchTarget) start(ctx context.Context, f benchFlags) error {
	if f.serve {
		if t.pkiDir == "" {
			tmp, err := os.MkdirTemp("", "certgate-bench-")
			if err != nil {
				return fmt.Errorf("demo PKI: %w", err)
			}
			t.cleanup = append(t.cleanup, func() { _ = os.RemoveAll(tmp) })
			t.pkiDir = tmp
		}
		if f.scenario.caKey != "" {
			ca, err := loadgen.EnsureFleetCA(t.pkiDir, pki.KeyAlgorithm(f.scenario.caKey))
			if err != nil {
				return err
			}
			t.fleetCA = &ca
		}
		cg, err := startServed(ctx, f, t.pkiDir, t.fleetCA)
		if err != nil {
			return err
		}
		t.cleanup = append(t.cleanup, func() { _ = cg.Close() })
		t.cg, t.grpcAddr, t.httpAddr = cg, cg.GRPCAddr, cg.HTTPAddr
	} else if t.pkiDir == "" {
		t.pkiDir = ".certgate-dev"
	}
	if f.baseline {
		noop, err := loadgen.StartNoop()
		if err != nil {
			return err
		}
		t.cleanup = append(t.cleanup, func() { _ = noop.Close() })
		t.noop = noop
	}
	if f.mode == modeNGINX {
		return t.startNGINX(f)
	}
	return nil
}

// startServed starts the certgate that `bench --serve` loads: the one
// place that wires it, so that it can become the wiring `certgate serve`
// uses.
func startServed(ctx context.Context, f benchFlags, pkiDir string, fleetCA *loadgen.FleetCA) (*loadgen.Certgate, error) {
	cfg := loadgen.ServeConfig{Dir: pkiDir, CRLEntries: f.crlEntries, PolicyDir: f.policyDir}
	if fleetCA != nil {
		cfg.Intermediates, cfg.CRLs = []string{fleetCA.CertFile}, []string{fleetCA.CRLFile}
	}
	return loadgen.StartCertgate(ctx, cfg)
}

// startNGINX starts the app and an NGINX in front of certgate's HTTP
// endpoint, and with --baseline another in front of the no-op's.
func (t *benchTarget) startNGINX(f benchFlags) error {
	app, err := loadgen.StartApp()
	if err != nil {
		return err
	}
	t.cleanup = append(t.cleanup, func() { _ = app.Close() })
	start := func(auth string) (*loadgen.NGINX, error) {
		n, err := loadgen.StartNGINX(loadgen.NGINXConfig{Bin: f.scenario.nginxBin, PKIDir: t.pkiDir, AuthAddr: auth, AppAddr: app.Addr})
		if err != nil {
			return nil, err
		}
		t.cleanup = append(t.cleanup, func() { _ = n.Close() })
		return n, nil
	}
	if t.nginx, err = start(t.httpAddr); err != nil {
		return err
	}
	if t.noop != nil {
		if t.noopNGINX, err = start(t.noop.HTTPAddr); err != nil {
			return err
		}
	}
	return nil
}

// endpoint is one side of the comparison: its target by --mode (over TLS
// with tc unless it is nil), and the CPU time of the process serving it
// (pid, else this process) and of NGINX in front of it.
func (t *benchTarget) endpoint(f benchFlags, grpcAddr, httpAddr string, tc *tls.Config, n *loadgen.NGINX, pid int) (loadgen.Endpoint, error) {
	var ep loadgen.Endpoint
	switch f.mode {
	case modeHTTP:
		ep.NewTarget = func() (loadgen.Target, error) { return loadgen.NewHTTPTargetTLS(httpAddr, f.concurrency, tc), nil }
	case modeNGINX:
		ca, err := os.ReadFile(filepath.Join(t.pkiDir, "ca.pem"))
		if err != nil {
			return ep, fmt.Errorf("nginx target: %w", err)
		}
		ep.NewTarget = func() (loadgen.Target, error) { return loadgen.NewNGINXTarget(n.Addr, ca, f.concurrency) }
	default:
		ep.NewTarget = func() (loadgen.Target, error) { return loadgen.NewGRPCTargetTLS(grpcAddr, f.connections, tc) }
	}
	if pid > 0 {
		ep.CPU = append(ep.CPU, loadgen.CPUSource{Name: "process " + strconv.Itoa(pid) + " (/proc/<pid>/stat utime+stime)",
			Read: loadgen.ProcessCPU(func() []int { return []int{pid} })})
	} else {
		ep.CPU = append(ep.CPU, loadgen.CPUSource{Name: "this process: server and load tool (getrusage)", Read: loadgen.SelfCPU})
	}
	if n != nil {
		ep.CPU = append(ep.CPU, loadgen.CPUSource{Name: "nginx master and worker (/proc/<pid>/stat utime+stime)", Read: loadgen.ProcessCPU(n.PIDs)})
	}
	return ep, nil
}

// benchMix is the request mix: a fleet scenario when a scenario flag is
// given, else the default mix over the demo clients of pkiDir and
// --distinct-certs extra ones; with the exit code of a failure.
func benchMix(t *benchTarget, f benchFlags) (*loadgen.Mix, int, error) {
	pkiDir := t.pkiDir
	if f.scenario.on(f.mode) {
		return scenarioMix(pkiDir, f.scenario, t.fleetCA)
	}
	clients, err := loadgen.LoadClients(pkiDir)
	if err != nil {
		return nil, exitUsage, fmt.Errorf("%w (run 'certgate dev' first, or pass --pki or --serve)", err)
	}
	distinct, err := loadgen.DistinctClients(pkiDir, f.distinct)
	if err != nil {
		return nil, exitUsage, err
	}
	mix, err := loadgen.NewMix(clients, distinct, nil)
	if err != nil {
		return nil, exitFail, err
	}
	return mix, exitOK, nil
}

// scenarioMix issues the fleet and builds the scenario's mix.
func scenarioMix(pkiDir string, s scenarioFlags, ca *loadgen.FleetCA) (*loadgen.Mix, int, error) {
	routes := []loadgen.Route{loadgen.DefaultRoute}
	switch {
	case s.mix != "":
		r, err := loadgen.ParseRoutes(s.mix)
		if err != nil {
			return nil, exitUsage, fmt.Errorf("--mix: %w", err)
		}
		routes = r
	case s.pathTemplate != "":
		r, err := loadgen.ParseRoutes(s.pathTemplate)
		if err != nil {
			return nil, exitUsage, fmt.Errorf("--path-template: %w", err)
		}
		routes = r
	}
	fleet, err := loadgen.IssueFleet(pkiDir, loadgen.FleetOptions{N: max(s.certs, 1), Key: pki.KeyAlgorithm(s.keyType), Keys: s.keys, CA: ca})
	if err != nil {
		return nil, exitUsage, fmt.Errorf("%w (needs the CA key: pass --serve, or --pki of a 'certgate dev' directory)", err)
	}
	mix, err := loadgen.NewScenarioMix(loadgen.Scenario{Certs: fleet, Routes: routes})
	if err != nil {
		return nil, exitUsage, err
	}
	return mix, exitOK, nil
}
