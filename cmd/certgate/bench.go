package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/certgate/certgate/loadgen"
	"github.com/certgate/certgate/pki"
)

const benchExamples = `  certgate bench --baseline --serve                  # no other process needed
  certgate bench --grpc 127.0.0.1:9191 --duration 20s  # against 'certgate dev'
  certgate bench --http 127.0.0.1:9192 --requests 50000
  certgate bench --serve --distinct-certs 9996 --json   # 10,000 certificates fill the verdict cache; reports RSS
  certgate bench --baseline --serve --rounds 4 --path-template '/registry/pull/{id}'
  certgate bench --baseline --serve --rounds 4 --certs 12000 --key-type rsa-2048 --mix 'GET /api/v1/vm *1, GET /registry/pull/{id} *1'
  certgate bench --baseline --serve --rounds 4 --mode nginx --path-template '/registry/pull/{id}'
`

// benchFlags are the flags of `certgate bench`.
type benchFlags struct {
	grpcAddr, httpAddr, pkiDir, mode   string
	serve, baseline, asJSON            bool
	duration, timeout, maxDur, warmup  time.Duration
	requests, concurrency, connections int
	crlEntries, distinct               int
	cpuProfile, policyDir              string
	pid, rounds                        int
	scenario                           scenarioFlags
	targets                            benchTargets
	dataTLS                            dataTLSFlags
}

// scenarioFlags choose the traffic of a fleet scenario instead of the
// default mix of demo clients.
type scenarioFlags struct {
	certs, keys       int
	keyType, caKey    string
	pathTemplate, mix string
	nginxBin          string
}

// on says whether any scenario flag was given (or --mode nginx, which
// needs a fleet's private keys).
func (s scenarioFlags) on(mode string) bool {
	return s.certs > 0 || s.pathTemplate != "" || s.mix != "" || mode == modeNGINX
}

// The endpoints bench can load.
const (
	modeGRPC  = "grpc"
	modeHTTP  = "http"
	modeNGINX = "nginx"
)

func (f *benchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.grpcAddr, "grpc", "127.0.0.1:9191", "ext_authz gRPC `address` to load (ignored with --serve)")
	fs.StringVar(&f.httpAddr, "http", "", "HTTP check `address` to load instead, asked as NGINX asks (implies --mode http; with --serve the address is ignored)")
	fs.StringVar(&f.mode, "mode", modeGRPC, "grpc, http or nginx: which endpoint of --serve (and of the baseline) to load; nginx puts a real NGINX with the shipped snippets in front of certgate's HTTP endpoint and another in front of the no-op's")
	fs.StringVar(&f.pkiDir, "pki", "", "demo PKI `dir`ectory (ca.pem, clients/<name>.pem); default .certgate-dev, or a fresh one with --serve")
	fs.BoolVar(&f.serve, "serve", false, "start certgate in this process (shipped policy, demo PKI, padded CRL) and load it")
	fs.BoolVar(&f.baseline, "baseline", false, "also load a no-op ext_authz server in this process, in rounds alternating with certgate, and print the ratios")
	fs.BoolVar(&f.asJSON, "json", false, "print the results as JSON")
	durationVar(fs, &f.duration, "duration", 10*time.Second, "length of the measured load of each side (shared out among --rounds)")
	fs.IntVar(&f.requests, "requests", 0, "requests per side instead of --duration")
	fs.IntVar(&f.concurrency, "concurrency", loadgen.DefaultConcurrency, "requests in flight (gRPC streams)")
	fs.IntVar(&f.connections, "connections", 2, "gRPC connections the streams share (HTTP: keep-alive pool size is --concurrency)")
	durationVar(fs, &f.timeout, "timeout", loadgen.DefaultTimeout, "timeout of each request")
	durationVar(fs, &f.maxDur, "max-duration", loadgen.DefaultMaxDuration, "cap on each measured run")
	durationVar(fs, &f.warmup, "warmup", time.Second, "unmeasured load sent to each side once before the rounds (connections, caches)")
	fs.StringVar(&f.policyDir, "policy-dir", "", "policy `dir`ectory for --serve (default: the shipped policy)")
	fs.IntVar(&f.rounds, "rounds", 1, "with --baseline, alternate `N` pairs of shorter runs (each 1/N of --duration or --requests); the ratios are the median of the rounds' ratios")
	fs.IntVar(&f.pid, "pid", 0, "report the RSS and CPU time of process `pid` (a certgate serving elsewhere)")
	fs.IntVar(&f.pid, "rss-pid", 0, "the same as --pid")
	fs.IntVar(&f.crlEntries, "crl-entries", 10000, "extra revoked serials in the CRL of --serve")
	fs.IntVar(&f.distinct, "distinct-certs", 0, "add `N` client certificates from the PKI's CA (needs ca-key.pem) to the default mix and present them all")
	fs.IntVar(&f.scenario.certs, "certs", 0, "fleet scenario: `N` distinct client certificates (group ci) made from the PKI's CA, presented round-robin")
	fs.StringVar(&f.scenario.keyType, "key-type", string(pki.ECDSAP256), "key type of the --certs fleet: ecdsa-p256, rsa-2048, rsa-4096, …")
	fs.StringVar(&f.scenario.caKey, "ca-key-type", "", "with --serve and --certs: issue the fleet from an intermediate CA with this key type (e.g. rsa-4096, as the vendor guides' CAs), which certgate is given, instead of the demo's ECDSA CA")
	fs.IntVar(&f.scenario.keys, "cert-keys", 0, "distinct key pairs the --certs fleet shares (default min(N, 8)); the CA's signature is what certgate verifies")
	fs.StringVar(&f.scenario.pathTemplate, "path-template", "", "fleet scenario: GET this `path`, {id} replaced by a fresh id per request (e.g. /registry/pull/{id})")
	fs.StringVar(&f.scenario.mix, "mix", "", "fleet scenario: route `mix`, comma-separated '[METHOD] /path [STATUS] [*WEIGHT]', {id} fresh per request")
	fs.StringVar(&f.scenario.nginxBin, "nginx", "", "nginx `binary` for --mode nginx (default: from PATH or /usr/sbin)")
	f.targets.register(fs)
	f.dataTLS.register(fs)
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the first certgate round to `file` (with --serve it covers the server)")
}

// check validates flag combinations; a message for stderr when wrong.
func (f *benchFlags) check() string {
	if f.httpAddr != "" && f.mode == modeGRPC {
		f.mode = modeHTTP
	}
	switch {
	case f.mode != modeGRPC && f.mode != modeHTTP && f.mode != modeNGINX:
		return fmt.Sprintf("--mode %s: want grpc, http or nginx", quote(f.mode))
	case f.concurrency <= 0 || f.connections <= 0 || f.rounds <= 0 || f.requests < 0 || f.crlEntries < 0 || f.distinct < 0 || f.scenario.certs < 0 || f.scenario.keys < 0:
		return "--concurrency, --connections and --rounds must be positive; counts must not be negative"
	case f.mode == modeNGINX && !f.serve:
		return "--mode nginx starts NGINX in front of certgate: it needs --serve"
	case f.distinct > 0 && f.scenario.on(f.mode):
		return "--distinct-certs adds to the default mix; a fleet scenario (--certs, --path-template, --mix, --mode nginx) makes its own certificates"
	case f.scenario.pathTemplate != "" && f.scenario.mix != "":
		return "--path-template is a mix of one route: give it or --mix"
	case f.scenario.caKey != "" && !f.serve:
		return "--ca-key-type makes a CA that certgate must trust: it needs --serve"
	case f.dataTLS.enabled() && f.serve:
		return "--tls-cert, --tls-key and --tls-ca ask a certgate elsewhere over listen.tls: --serve serves without it"
	}
	if f.scenario.on(f.mode) {
		alg, err := pki.ParseKeyName(f.scenario.keyType)
		if err != nil {
			return "--key-type: " + err.Error()
		}
		f.scenario.keyType = string(alg)
		if f.scenario.caKey != "" {
			ca, err := pki.ParseKeyName(f.scenario.caKey)
			if err != nil {
				return "--ca-key-type: " + err.Error()
			}
			f.scenario.caKey = string(ca)
		}
	}
	return ""
}

// runBench loads certgate (or a no-op baseline and certgate in alternating
// rounds) with the request mix and reports throughput, latency, CPU per
// request, the decision mix and any answer that differs from what its
// class expects. Exit 1 on mismatches, errors or a missed target of
// --baseline.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "bench [--serve] [--baseline] [--grpc ADDR | --http ADDR | --mode nginx] [scenario flags] [flags]", benchExamples, stderr)
	var f benchFlags
	f.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if msg := f.check(); msg != "" {
		fmt.Fprintf(stderr, "certgate bench: %s\n", msg)
		return exitUsage
	}
	code, err := bench(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "certgate bench: %v\n", err)
	}
	return code
}

func bench(ctx context.Context, f benchFlags, stdout, _ io.Writer) (int, error) {
	setupStart := time.Now()
	t, err := startBenchTarget(ctx, f)
	if err != nil {
		return exitFail, err
	}
	defer t.close()
	mix, code, err := benchMix(t, f)
	if err != nil {
		return code, err
	}
	cfg, err := benchConfig(f, t, mix)
	if err != nil {
		return exitFail, err
	}
	report := newBenchReport(f, time.Since(setupStart))
	if !f.asJSON {
		writeBenchHeader(stdout, f, cfg.Options, report)
	}
	res, err := loadgen.RunBench(ctx, cfg)
	if err != nil {
		return exitFail, err
	}
	report.fill(f, res)
	if err := measureRSS(&report, f.pid, t.cg); err != nil {
		return exitFail, err
	}
	if err := writeBenchReport(stdout, f, report, res); err != nil {
		return exitFail, err
	}
	cg := res.Subject.Result
	if cg.Mismatches > 0 || cg.Errors > 0 || (res.Baseline != nil && res.Baseline.Result.Errors > 0) || len(report.TargetsMissed) > 0 {
		return exitFail, nil
	}
	return exitOK, nil
}

// benchConfig is the comparison the flags ask for.
func benchConfig(f benchFlags, t *benchTarget, mix *loadgen.Mix) (loadgen.BenchConfig, error) {
	opts := loadgen.Options{Concurrency: f.concurrency, Duration: f.duration, Requests: f.requests,
		Warmup: f.warmup, Timeout: f.timeout, MaxDuration: f.maxDur}
	if f.requests > 0 {
		opts.Duration = 0
	}
	cfg := loadgen.BenchConfig{Mix: mix, Options: opts, CPUProfile: f.cpuProfile, Rounds: 1}
	tc, err := f.dataTLS.config()
	if err != nil {
		return cfg, err
	}
	if cfg.Subject, err = t.endpoint(f, t.grpcAddr, t.httpAddr, tc, t.nginx, f.pid); err != nil {
		return cfg, err
	}
	cfg.Subject.Check = true
	if f.baseline {
		cfg.Rounds = f.rounds
		if t.noop == nil {
			return cfg, fmt.Errorf("no baseline was started")
		}
		b, err := t.endpoint(f, t.noop.GRPCAddr, t.noop.HTTPAddr, nil, t.noopNGINX, 0)
		if err != nil {
			return cfg, err
		}
		cfg.Baseline = &b
	}
	return cfg, nil
}
