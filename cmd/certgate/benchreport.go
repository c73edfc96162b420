package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certgate/certgate/loadgen"
)

// benchReport is the JSON output of `certgate bench`.
type benchReport struct {
	Mode          string            `json:"mode"`
	Concurrency   int               `json:"concurrency"`
	Connections   int               `json:"connections"`
	CRLEntries    int               `json:"crl_entries,omitempty"`
	DistinctCerts int               `json:"distinct_certs,omitempty"`
	Scenario      *scenarioReport   `json:"scenario,omitempty"`
	Rounds        int               `json:"rounds"`
	SetupSeconds  float64           `json:"setup_seconds"`
	LoadAverage   map[string]string `json:"load_average,omitempty"`
	Baseline      *loadgen.Summary  `json:"baseline,omitempty"`
	BaselineCPU   []loadgen.CPUCost `json:"baseline_cpu,omitempty"`
	Certgate      loadgen.Summary   `json:"certgate"`
	CertgateCPU   []loadgen.CPUCost `json:"certgate_cpu,omitempty"`
	// Ratio is the median of RoundRatios, figure by figure.
	Ratio               *loadgen.Comparison  `json:"ratio,omitempty"`
	RoundRatios         []loadgen.Comparison `json:"round_ratios,omitempty"`
	Targets             *benchTargets        `json:"targets,omitempty"`
	TargetsMissed       []string             `json:"targets_missed,omitempty"`
	RSSBytes            int64                `json:"rss_bytes,omitempty"`
	CachedVerdicts      int                  `json:"cached_verdicts,omitempty"`
	RSSIncludesLoadTool bool                 `json:"rss_includes_load_tool,omitempty"`
}

// scenarioReport describes a fleet scenario's traffic.
type scenarioReport struct {
	Certs   int             `json:"certs"`
	KeyType string          `json:"key_type"`
	CAKey   string          `json:"ca_key_type,omitempty"`
	Routes  []loadgen.Route `json:"routes"`
}

func newBenchReport(f benchFlags, setup time.Duration) benchReport {
	r := benchReport{Mode: f.mode, Concurrency: f.concurrency, Connections: f.connections, DistinctCerts: f.distinct,
		SetupSeconds: setup.Seconds(), LoadAverage: map[string]string{"start": loadgen.LoadAverage()}}
	if f.serve {
		r.CRLEntries = f.crlEntries
	}
	if f.scenario.on(f.mode) {
		r.Scenario = &scenarioReport{Certs: max(f.scenario.certs, 1), KeyType: f.scenario.keyType, CAKey: f.scenario.caKey}
	}
	return r
}

// fill puts the results into the report.
func (r *benchReport) fill(f benchFlags, res *loadgen.BenchResult) {
	r.LoadAverage["end"] = loadgen.LoadAverage()
	r.Rounds = max(len(res.Rounds), 1)
	r.Certgate, r.CertgateCPU = res.Subject.Result.Summary(), res.Subject.CPU
	if res.Baseline != nil {
		s := res.Baseline.Result.Summary()
		r.Baseline, r.BaselineCPU = &s, res.Baseline.CPU
		r.Ratio, r.RoundRatios, r.Targets = res.Ratio, res.Rounds, &f.targets
		r.TargetsMissed = f.targets.missed(*res.Ratio)
	}
	if r.Scenario != nil {
		for _, c := range res.Subject.Result.Classes {
			r.Scenario.Routes = append(r.Scenario.Routes, routeOf(c))
		}
	}
}

// routeOf is the route a scenario's class stands for (its share is in
// the class's request count).
func routeOf(c loadgen.ClassResult) loadgen.Route {
	method, path, _ := strings.Cut(string(c.Class), " ")
	return loadgen.Route{Method: method, Path: path, Expect: c.Expect}
}

// measureRSS puts the server's memory into the report: of --pid when
// given, else of this process when it serves certgate itself.
func measureRSS(report *benchReport, pid int, cg *loadgen.Certgate) error {
	m, err := loadgen.MeasureServerMemory(pid, cg)
	if err != nil {
		return err
	}
	report.RSSBytes, report.CachedVerdicts, report.RSSIncludesLoadTool = m.RSSBytes, m.CachedVerdicts, m.IncludesLoadTool
	return nil
}

func writeBenchHeader(w io.Writer, f benchFlags, o loadgen.Options, r benchReport) {
	traffic := fmt.Sprintf("mix allowed/denied/revoked/unknown_route = %d/%d/%d/%d", loadgen.DefaultWeights[loadgen.ClassAllowed],
		loadgen.DefaultWeights[loadgen.ClassDenied], loadgen.DefaultWeights[loadgen.ClassRevoked], loadgen.DefaultWeights[loadgen.ClassUnknownRoute])
	if r.Scenario != nil {
		issuer := "the demo's ECDSA CA"
		if r.Scenario.CAKey != "" {
			issuer = "a " + r.Scenario.CAKey + " intermediate CA"
		}
		traffic = fmt.Sprintf("%d %s certificate(s) from %s, round-robin", r.Scenario.Certs, r.Scenario.KeyType, issuer)
	}
	fmt.Fprintf(w, "certgate bench: %d in flight over %d %s connection(s), %s per side%s, %s\n",
		f.concurrency, connsFor(f), f.mode, runLength(o), roundsNote(f), traffic)
	fmt.Fprintf(w, "setup (PKI, certificates, servers; not measured): %.1fs; load average %s\n\n", r.SetupSeconds, r.LoadAverage["start"])
}

// writeBenchReport prints the report as JSON with --json, else as text.
func writeBenchReport(w io.Writer, f benchFlags, report benchReport, res *loadgen.BenchResult) error {
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	if res.Baseline != nil {
		res.Baseline.Result.WriteText(w, "no-op baseline")
		writeCPU(w, res.Baseline.CPU)
		fmt.Fprintln(w)
	}
	label := "certgate"
	if f.serve {
		label = "certgate (in-process)"
	}
	res.Subject.Result.WriteText(w, label)
	writeCPU(w, res.Subject.CPU)
	writeBenchFooter(w, report)
	return nil
}

func writeCPU(w io.Writer, cpu []loadgen.CPUCost) {
	for _, c := range cpu {
		fmt.Fprintf(w, "  cpu         %.1fµs per request, %.2fs in all: %s\n", c.PerRequestMicros, c.Seconds, c.Source)
	}
}

func writeBenchFooter(w io.Writer, r benchReport) {
	if r.Ratio != nil {
		fmt.Fprintf(w, "\n%s\n", r.Targets.footer(*r.Ratio, len(r.RoundRatios)))
		for i, c := range r.CertgateCPU {
			// Only like with like: the CPU of another process (--pid) is
			// not the baseline's in-process figure.
			if i < len(r.BaselineCPU) && r.BaselineCPU[i].Source == c.Source && r.BaselineCPU[i].PerRequestMicros > 0 {
				fmt.Fprintf(w, "cpu per request %.2f× the no-op's (%s)\n", c.PerRequestMicros/r.BaselineCPU[i].PerRequestMicros, c.Source)
			}
		}
		for _, m := range r.TargetsMissed {
			fmt.Fprintf(w, "MISSED: %s (exit 1)\n", m)
		}
	}
	switch {
	case r.RSSIncludesLoadTool:
		fmt.Fprintf(w, "rss: %.1f MiB with %d cached verdicts (VmRSS of this process: server and load tool)\n",
			float64(r.RSSBytes)/(1<<20), r.CachedVerdicts)
	case r.RSSBytes > 0:
		fmt.Fprintf(w, "rss: %.1f MiB (VmRSS of the process given by --pid)\n", float64(r.RSSBytes)/(1<<20))
	}
	fmt.Fprintf(w, "load average: %s at the start, %s at the end\n", r.LoadAverage["start"], r.LoadAverage["end"])
}

func roundsNote(f benchFlags) string {
	if !f.baseline || f.rounds <= 1 {
		return ""
	}
	return fmt.Sprintf(" in %d alternating rounds", f.rounds)
}

func connsFor(f benchFlags) int {
	if f.mode == modeGRPC {
		return f.connections
	}
	return f.concurrency
}

func runLength(o loadgen.Options) string {
	if o.Requests > 0 {
		return fmt.Sprintf("%d requests", o.Requests)
	}
	return o.Duration.String()
}
