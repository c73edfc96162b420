package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/certgate/certgate/loadgen"
)

const benchExamples = `  certgate bench --baseline --serve                  # no other process needed
  certgate bench --grpc 127.0.0.1:9191 --duration 20s  # against 'certgate dev'
  certgate bench --http 127.0.0.1:9192 --requests 50000
  certgate bench --serve --distinct-certs 9996 --json   # 10,000 certificates fill the verdict cache; reports RSS
`

// benchFlags are the flags of `certgate bench`.
type benchFlags struct {
	grpcAddr, httpAddr, pkiDir, mode   string
	serve, baseline, asJSON            bool
	duration, timeout, maxDur, warmup  time.Duration
	requests, concurrency, connections int
	crlEntries, distinct               int
	cpuProfile, policyDir              string
	rssPID, rounds                     int
	targets                            benchTargets
}

func (f *benchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.grpcAddr, "grpc", "127.0.0.1:9191", "ext_authz gRPC `address` to load (ignored with --serve)")
	fs.StringVar(&f.httpAddr, "http", "", "HTTP check `address` to load instead, asked as NGINX asks (implies --mode http; with --serve the address is ignored)")
	fs.StringVar(&f.mode, "mode", "grpc", "grpc or http: which endpoint of --serve (and of the baseline) to load")
	fs.StringVar(&f.pkiDir, "pki", "", "demo PKI `dir`ectory (ca.pem, clients/<name>.pem); default .certgate-dev, or a fresh one with --serve")
	fs.BoolVar(&f.serve, "serve", false, "start certgate in this process (shipped policy, demo PKI, padded CRL) and load it")
	fs.BoolVar(&f.baseline, "baseline", false, "first load a no-op ext_authz server in this process, then certgate, and print the ratios")
	fs.BoolVar(&f.asJSON, "json", false, "print the results as JSON")
	durationVar(fs, &f.duration, "duration", 10*time.Second, "length of each measured run")
	fs.IntVar(&f.requests, "requests", 0, "requests per run instead of --duration")
	fs.IntVar(&f.concurrency, "concurrency", loadgen.DefaultConcurrency, "requests in flight (gRPC streams)")
	fs.IntVar(&f.connections, "connections", 2, "gRPC connections the streams share (HTTP: keep-alive pool size is --concurrency)")
	durationVar(fs, &f.timeout, "timeout", loadgen.DefaultTimeout, "timeout of each request")
	durationVar(fs, &f.maxDur, "max-duration", loadgen.DefaultMaxDuration, "cap on each measured run")
	durationVar(fs, &f.warmup, "warmup", time.Second, "unmeasured load before each run (connections, caches)")
	fs.StringVar(&f.policyDir, "policy-dir", "", "policy `dir`ectory for --serve (default: the shipped policy)")
	fs.IntVar(&f.rounds, "rounds", 1, "with --baseline, alternate `N` pairs of shorter runs (each 1/N of --duration or --requests), so load from elsewhere on the machine weighs on both alike")
	fs.IntVar(&f.rssPID, "rss-pid", 0, "report the RSS of process `pid` (a certgate serving elsewhere) after the run")
	fs.IntVar(&f.crlEntries, "crl-entries", 10000, "extra revoked serials in the CRL of --serve")
	fs.IntVar(&f.distinct, "distinct-certs", 0, "issue `N` extra client certificates from the PKI's CA (needs ca-key.pem) and present them all")
	f.targets.register(fs)
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the certgate run to `file` (with --serve it covers the server)")
}

// benchReport is the JSON output of `certgate bench`.
type benchReport struct {
	Concurrency         int                 `json:"concurrency"`
	Connections         int                 `json:"connections"`
	CRLEntries          int                 `json:"crl_entries,omitempty"`
	DistinctCerts       int                 `json:"distinct_certs,omitempty"`
	Rounds              int                 `json:"rounds"`
	Baseline            *loadgen.Summary    `json:"baseline,omitempty"`
	Certgate            loadgen.Summary     `json:"certgate"`
	Ratio               *loadgen.Comparison `json:"ratio,omitempty"`
	Targets             *benchTargets       `json:"targets,omitempty"`
	TargetsMissed       []string            `json:"targets_missed,omitempty"`
	RSSBytes            int64               `json:"rss_bytes,omitempty"`
	CachedVerdicts      int                 `json:"cached_verdicts,omitempty"`
	RSSIncludesLoadTool bool                `json:"rss_includes_load_tool,omitempty"`
}

// runBench loads certgate (or a no-op baseline and then certgate) with the
// request mix and reports throughput, latency, the decision mix and any
// answer that differs from what its class expects. Exit 1 on mismatches,
// errors or a missed target of --baseline.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "bench [--serve] [--baseline] [--grpc ADDR | --http ADDR] [flags]", benchExamples, stderr)
	var f benchFlags
	f.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if f.httpAddr != "" {
		f.mode = "http"
	}
	if f.mode != "grpc" && f.mode != "http" {
		fmt.Fprintf(stderr, "certgate bench: --mode %s: want grpc or http\n", quote(f.mode))
		return exitUsage
	}
	if f.concurrency <= 0 || f.connections <= 0 || f.rounds <= 0 || f.requests < 0 || f.crlEntries < 0 || f.distinct < 0 {
		fmt.Fprintln(stderr, "certgate bench: --concurrency, --connections and --rounds must be positive; counts must not be negative")
		return exitUsage
	}
	code, err := bench(ctx, f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "certgate bench: %v\n", err)
	}
	return code
}

func bench(ctx context.Context, f benchFlags, stdout, stderr io.Writer) (int, error) {
	t, err := startBenchTarget(ctx, f)
	if err != nil {
		return exitFail, err
	}
	defer t.close()
	mix, code, err := benchMix(t.pkiDir, f.distinct)
	if err != nil {
		return code, err
	}
	opts := loadgen.Options{Concurrency: f.concurrency, Duration: f.duration, Requests: f.requests,
		Warmup: f.warmup, Timeout: f.timeout, MaxDuration: f.maxDur}
	if f.requests > 0 {
		opts.Duration = 0
	}
	report := benchReport{Concurrency: f.concurrency, Connections: f.connections, DistinctCerts: f.distinct, Rounds: f.rounds}
	if f.serve {
		report.CRLEntries = f.crlEntries
	}
	if !f.asJSON {
		fmt.Fprintf(stdout, "certgate bench: %d in flight over %d %s connection(s), %s per run%s, mix allowed/denied/revoked/unknown_route = %d/%d/%d/%d\n\n",
			f.concurrency, connsFor(f), f.mode, runLength(opts), roundsNote(f), loadgen.DefaultWeights[loadgen.ClassAllowed], loadgen.DefaultWeights[loadgen.ClassDenied],
			loadgen.DefaultWeights[loadgen.ClassRevoked], loadgen.DefaultWeights[loadgen.ClassUnknownRoute])
	}
	base, res, err := runBenchRounds(ctx, f, t, mix, opts)
	if err != nil {
		return exitFail, err
	}
	if base != nil {
		s := base.Summary()
		report.Baseline = &s
		if !f.asJSON {
			base.WriteText(stdout, "no-op baseline")
			fmt.Fprintln(stdout)
		}
	}
	report.Certgate = res.Summary()
	if base != nil {
		r := loadgen.Compare(res, base)
		report.Ratio, report.Targets = &r, &f.targets
		report.TargetsMissed = f.targets.missed(r)
	}
	if err := measureRSS(&report, f.rssPID, t.cg); err != nil {
		return exitFail, err
	}
	if err := writeBenchReport(stdout, f, report, res); err != nil {
		return exitFail, err
	}
	if res.Mismatches > 0 || res.Errors > 0 || (base != nil && base.Errors > 0) || len(report.TargetsMissed) > 0 {
		return exitFail, nil
	}
	return exitOK, nil
}

// benchTarget is the certgate that bench loads: one it started in this
// process (--serve), or the one at the addresses given.
type benchTarget struct {
	grpcAddr, httpAddr, pkiDir string
	cg                         *loadgen.Certgate // with --serve
	cleanup                    []func()
}

// close stops what startBenchTarget started, last first.
func (t *benchTarget) close() {
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		t.cleanup[i]()
	}
}

// startBenchTarget starts certgate in this process, in a fresh demo PKI
// unless --pki names one, with --serve; without it, it takes the addresses
// and PKI directory of the flags.
func startBenchTarget(ctx context.Context, f benchFlags) (*benchTarget, error) {
	t := &benchTarget{grpcAddr: f.grpcAddr, httpAddr: f.httpAddr, pkiDir: f.pkiDir}
	if !f.serve {
		if t.pkiDir == "" {
			t.pkiDir = ".certgate-dev"
		}
		return t, nil
	}
	if t.pkiDir == "" {
		tmp, err := os.MkdirTemp("", "certgate-bench-")
		if err != nil {
			return nil, fmt.Errorf("demo PKI: %w", err)
		}
		t.cleanup = append(t.cleanup, func() { _ = os.RemoveAll(tmp) })
		t.pkiDir = tmp
	}
	cg, err := loadgen.StartCertgate(ctx, loadgen.ServeConfig{Dir: t.pkiDir, CRLEntries: f.crlEntries, PolicyDir: f.policyDir})
	if err != nil {
		t.close()
		return nil, err
	}
	t.cleanup = append(t.cleanup, func() { _ = cg.Close() })
	t.cg, t.grpcAddr, t.httpAddr = cg, cg.GRPCAddr, cg.HTTPAddr
	return t, nil
}

// benchMix is the request mix over the demo clients of pkiDir and
// distinct extra ones, with the exit code of a failure.
func benchMix(pkiDir string, distinctCerts int) (*loadgen.Mix, int, error) {
	clients, err := loadgen.LoadClients(pkiDir)
	if err != nil {
		return nil, exitUsage, fmt.Errorf("%w (run 'certgate dev' first, or pass --pki or --serve)", err)
	}
	distinct, err := loadgen.DistinctClients(pkiDir, distinctCerts)
	if err != nil {
		return nil, exitUsage, err
	}
	mix, err := loadgen.NewMix(clients, distinct, nil)
	if err != nil {
		return nil, exitFail, err
	}
	return mix, exitOK, nil
}

// runBenchRounds loads t, and with --baseline a no-op server first (which
// t.close stops), in --rounds alternating rounds that share opts' length;
// base is nil without --baseline.
func runBenchRounds(ctx context.Context, f benchFlags, t *benchTarget, mix *loadgen.Mix, opts loadgen.Options) (base, res *loadgen.Result, err error) {
	rounds := 1
	if f.baseline {
		rounds = f.rounds
		if f.requests > 0 {
			rounds = min(rounds, f.requests) // never 0 requests per round
		}
	}
	opts.Duration /= time.Duration(rounds)
	opts.Requests /= rounds
	var noop *loadgen.Noop
	if f.baseline {
		if noop, err = loadgen.StartNoop(); err != nil {
			return nil, nil, err
		}
		t.cleanup = append(t.cleanup, func() { _ = noop.Close() })
	}
	for round := range rounds {
		if noop != nil {
			r, err := runOnce(ctx, f, noop.GRPCAddr, noop.HTTPAddr, mix, opts)
			if err != nil {
				return nil, nil, err
			}
			base = merge(base, r)
		}
		r, err := runProfiled(ctx, f, t, mix, opts, round == 0)
		if err != nil {
			return nil, nil, err
		}
		res = merge(res, r)
		opts.Warmup = 0 // the connections are new each time, but the caches are warm
	}
	return base, res, nil
}

// runProfiled is one run against t, checking each answer against its
// class, under --cpuprofile when profile is set: only the first round is
// profiled, since a profile cannot be resumed.
func runProfiled(ctx context.Context, f benchFlags, t *benchTarget, mix *loadgen.Mix, opts loadgen.Options, profile bool) (*loadgen.Result, error) {
	stopProfile := func() {}
	if profile {
		var err error
		if stopProfile, err = startCPUProfile(f.cpuProfile); err != nil {
			return nil, err
		}
	}
	opts.CheckExpect = true
	r, err := runOnce(ctx, f, t.grpcAddr, t.httpAddr, mix, opts)
	stopProfile()
	return r, err
}

// measureRSS puts the RSS into the report: of --rss-pid when given, else
// of this process when it serves certgate itself.
func measureRSS(report *benchReport, rssPID int, cg *loadgen.Certgate) error {
	switch {
	case rssPID > 0:
		rss, err := loadgen.RSSOf(rssPID)
		if err != nil {
			return err
		}
		report.RSSBytes = rss
	case cg != nil:
		report.CachedVerdicts = cg.Checker.CachedVerdicts()
		if rss, err := loadgen.RSS(); err == nil {
			report.RSSBytes, report.RSSIncludesLoadTool = rss, true
		}
	}
	return nil
}

// writeBenchReport prints the report as JSON with --json, else certgate's
// results as text and the footer.
func writeBenchReport(w io.Writer, f benchFlags, report benchReport, res *loadgen.Result) error {
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	label := "certgate"
	if f.serve {
		label = "certgate (in-process)"
	}
	res.WriteText(w, label)
	writeBenchFooter(w, report)
	return nil
}

func merge(into, r *loadgen.Result) *loadgen.Result {
	if into == nil {
		return r
	}
	into.Merge(r)
	return into
}

func runOnce(ctx context.Context, f benchFlags, grpcAddr, httpAddr string, mix *loadgen.Mix, opts loadgen.Options) (*loadgen.Result, error) {
	var target loadgen.Target
	if f.mode == "http" {
		target = loadgen.NewHTTPTarget(httpAddr, f.concurrency)
	} else {
		t, err := loadgen.NewGRPCTarget(grpcAddr, f.connections)
		if err != nil {
			return nil, err
		}
		target = t
	}
	defer func() { _ = target.Close() }()
	return loadgen.Run(ctx, target, mix, opts)
}

func startCPUProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	out, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = out.Close() }, nil
}

func writeBenchFooter(w io.Writer, r benchReport) {
	if r.Ratio != nil {
		fmt.Fprintf(w, "\n%s\n", r.Targets.footer(*r.Ratio))
		for _, m := range r.TargetsMissed {
			fmt.Fprintf(w, "MISSED: %s (exit 1)\n", m)
		}
	}
	switch {
	case r.RSSIncludesLoadTool:
		fmt.Fprintf(w, "rss: %.1f MiB with %d cached verdicts (VmRSS of this process: server and load tool)\n",
			float64(r.RSSBytes)/(1<<20), r.CachedVerdicts)
	case r.RSSBytes > 0:
		fmt.Fprintf(w, "rss: %.1f MiB (VmRSS of the process given by --rss-pid)\n", float64(r.RSSBytes)/(1<<20))
	}
}

func roundsNote(f benchFlags) string {
	if !f.baseline || f.rounds <= 1 {
		return ""
	}
	return fmt.Sprintf(" in %d alternating rounds", f.rounds)
}

func connsFor(f benchFlags) int {
	if f.mode == "http" {
		return f.concurrency
	}
	return f.connections
}

func runLength(o loadgen.Options) string {
	if o.Requests > 0 {
		return fmt.Sprintf("%d requests", o.Requests)
	}
	return o.Duration.String()
}
