package test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/loadgen"
)

// loadClass is one kind of request the load driver sends, and the status
// the contract promises for it. An allow of a class whose Want is not 200
// is a wrong allow, whatever state the snapshot was in.
type loadClass struct {
	Name   string
	Client string // a key of world.clients
	Method string
	Target string
	Want   int
}

// steadyClasses are the request classes of every fault scenario: an
// allowed request, a 403 for a missing permission, a revoked client, a
// client of a foreign CA and a route nobody holds.
var steadyClasses = []loadClass{
	{"allowed", "viewer", "GET", "/api/v1/vm", http.StatusOK},
	{"denied", "viewer", "POST", "/api/v1/vm", http.StatusForbidden},
	{"revoked", "revoked", "GET", "/api/v1/vm", http.StatusUnauthorized},
	{"stranger", "stranger", "GET", "/api/v1/vm", http.StatusUnauthorized},
	{"unknown-route", "admin", "GET", "/api/v1/unknown", http.StatusForbidden},
}

// loadTarget says where the driver sends requests. Set GRPC (ext_authz
// host:port) and/or HTTP (check endpoint host:port): the workers share
// themselves between them. Or set NGINX (host:port), Keys and NGINXCA to
// go through a real NGINX with TLS client certificates.
type loadTarget struct {
	GRPC  string
	HTTP  string
	NGINX string
	// PEMs are the client certificates by world client name.
	PEMs map[string][]byte
	// Keys are the clients' private keys (NGINX), NGINXCA the PEM of the
	// CA NGINX's server certificate chains to.
	Keys    map[string]crypto.Signer
	NGINXCA []byte
	Classes []loadClass
	// Workers is the number of concurrent senders; 0 means 4.
	Workers int
	// Outage, when set, is the deny a proxy answers while certgate is
	// down (NGINX: 500): counted apart, not as unexpected.
	Outage int
}

// loadReport is what a load run observed.
type loadReport struct {
	Requests int
	// Status counts answers per class and status (HTTP status; an
	// allowed gRPC check counts as 200).
	Status map[string]map[int]int
	// WrongAllows are allowed requests of classes that must be denied.
	WrongAllows   int
	FirstMismatch string
	// Unexpected are answers (not allows) other than the class's Want
	// and the target's Outage.
	Unexpected int
	// Outage are answers with the target's Outage status.
	Outage int
	// Errors counts transport failures by kind.
	Errors          map[string]int
	P50, P99, Max   time.Duration
	Elapsed         time.Duration
	unexpectedNotes map[string]int
}

// faultLoadInterval paces each load worker of the fault tests (4 workers:
// at most 2,000 requests a second). They check the decisions made while
// files, signals and processes fail, not throughput (the benchmarks and
// TestFaultUnderCertgateBench measure that); flat out, the load generator
// in this race-instrumented test binary took about a core for the whole
// run of ./test (~7,000 requests a second).
const faultLoadInterval = 2 * time.Millisecond

// runLoad sends the target's classes round-robin from several workers
// until ctx ends or d passes, and reports every answer. It is the only
// seam between the fault tests and the load generator (loadgen): a
// request in flight when d passes still gets its answer; only the
// caller's ctx cuts requests short.
func runLoad(ctx context.Context, target loadTarget, d time.Duration) loadReport {
	tg, err := target.loadgenTarget()
	if err != nil {
		return failedLoad(err)
	}
	defer func() { _ = tg.Close() }()
	mix := classMix(target.PEMs, target.Keys, target.Classes)
	workers := target.Workers
	if workers <= 0 {
		workers = 4
	}
	return runLoadgen(ctx, tg, mix, loadgen.Options{Concurrency: workers, Interval: faultLoadInterval, Duration: d, Outage: target.Outage})
}

// runLoadgen runs mix against tg under opts (answers checked against
// their class, errors counted by kind) and reports it.
func runLoadgen(ctx context.Context, tg loadgen.Target, mix *loadgen.Mix, opts loadgen.Options) loadReport {
	opts.CheckExpect, opts.ErrorKind = true, transportKind
	opts.Timeout = 5 * time.Second
	opts.MaxDuration = opts.Duration + time.Minute
	if opts.Duration == 0 {
		opts.MaxDuration = 10 * time.Minute
	}
	res, err := loadgen.Run(ctx, tg, mix, opts)
	if err != nil {
		return failedLoad(err)
	}
	return reportOf(res, opts.Outage)
}

// failedLoad is the report of a run that could not be made: one error.
func failedLoad(err error) loadReport {
	r := newLoadReport()
	r.Requests = 1
	r.Errors["no load: "+err.Error()] = 1
	return r
}

// loadgenTarget is the loadgen target for t's endpoints.
func (t loadTarget) loadgenTarget() (loadgen.Target, error) {
	var targets loadgen.Spread
	if t.GRPC != "" {
		g, err := loadgen.NewGRPCTarget(t.GRPC, 1)
		if err != nil {
			return nil, err
		}
		targets = append(targets, g)
	}
	if t.HTTP != "" {
		targets = append(targets, loadgen.NewHTTPTarget(t.HTTP, 16))
	}
	if t.NGINX != "" {
		n, err := loadgen.NewNGINXTarget(t.NGINX, t.NGINXCA, 16)
		if err != nil {
			return nil, err
		}
		targets = append(targets, n)
	}
	if len(targets) == 0 {
		return nil, errors.New("no load target")
	}
	return targets, nil
}

// classMix is one request per class, sent round-robin.
func classMix(pems map[string][]byte, keys map[string]crypto.Signer, classes []loadClass) *loadgen.Mix {
	m := &loadgen.Mix{}
	for i, c := range classes {
		m.Classes = append(m.Classes, loadgen.Class(c.Name))
		m.Requests = append(m.Requests, loadgen.Request{Class: loadgen.Class(c.Name), Expect: c.Want, Key: keys[c.Client],
			Check: client.Check{CertPEM: pems[c.Client], Method: c.Method, Target: c.Target, Host: "anka.example"}})
		m.Schedule = append(m.Schedule, i)
	}
	return m
}

// reportOf is the fault tests' view of a loadgen result.
func reportOf(res *loadgen.Result, outage int) loadReport {
	r := newLoadReport()
	r.Requests = int(res.Requests + res.Errors)
	r.WrongAllows, r.Outage, r.FirstMismatch = int(res.WrongAllows), int(res.Outage), res.FirstMismatch
	r.Elapsed = res.Elapsed
	r.P50, r.P99, r.Max = res.Latency.Quantile(0.5), res.Latency.Quantile(0.99), res.Latency.Max()
	for _, c := range res.Classes {
		byStatus := map[int]int{}
		for code, n := range c.Status {
			byStatus[code] = int(n)
			if code != c.Expect && code != http.StatusOK && (outage == 0 || code != outage) {
				r.Unexpected += int(n)
				r.unexpectedNotes[fmt.Sprintf("%s:%d", c.Class, code)] += int(n)
			}
		}
		if len(byStatus) > 0 {
			r.Status[string(c.Class)] = byStatus
		}
	}
	for kind, n := range res.ErrorKinds {
		r.Errors[kind] = int(n)
	}
	return r
}

// doHTTP sends req; a 200 is an allow.
func doHTTP(c *http.Client, req *http.Request, kind string) (bool, int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return false, 0, fmt.Errorf("%s %s", kind, transportKind(err))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK, resp.StatusCode, nil
}

// transportKind names a transport error without addresses or ports, so
// that errors of one kind count together.
func transportKind(err error) string {
	if s, ok := status.FromError(errors.Unwrap(err)); ok && s.Code() != codes.Unknown {
		return "grpc " + s.Code().String()
	}
	msg := err.Error()
	for _, kind := range []string{"connection refused", "connection reset", "timeout", "EOF", "broken pipe"} {
		if strings.Contains(msg, kind) {
			return kind
		}
	}
	return "other"
}

// newLoadReport returns an empty report ready to count.
func newLoadReport() loadReport {
	return loadReport{Status: map[string]map[int]int{}, Errors: map[string]int{}, unexpectedNotes: map[string]int{}}
}

// statuses counts answers per status over every class.
func (r loadReport) statuses() map[int]int {
	out := map[int]int{}
	for _, byStatus := range r.Status {
		for code, n := range byStatus {
			out[code] += n
		}
	}
	return out
}

// TransportErrors is the number of requests that got no answer.
func (r loadReport) TransportErrors() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// String is the report on one line.
func (r loadReport) String() string {
	outage := ""
	if r.Outage > 0 {
		outage = fmt.Sprintf(", outage denies %d", r.Outage)
	}
	return fmt.Sprintf("%d requests in %.1fs (%s), wrong allows %d%s, unexpected %d%s, transport errors %d%s, latency p50 %v p99 %v max %v",
		r.Requests, r.Elapsed.Seconds(), formatCounts(r.statuses()), r.WrongAllows, outage, r.Unexpected, formatNotes(r.unexpectedNotes),
		r.TransportErrors(), formatNotes(r.Errors), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// formatCounts is "status:count" pairs in status order.
func formatCounts(m map[int]int) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d:%d", c, m[c])
	}
	return strings.Join(parts, " ")
}

// formatNotes is " {kind=count, …}" in name order, or nothing.
func formatNotes[V int | uint64](m map[string]V) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return " {" + strings.Join(parts, ", ") + "}"
}
