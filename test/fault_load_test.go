package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/client"
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
// host:port) and/or HTTP (check endpoint base URL): requests alternate
// between them. Or set NGINX (host:port) and Client to go through a real
// NGINX with TLS client certificates.
type loadTarget struct {
	GRPC  string
	HTTP  string
	NGINX string
	// PEMs are the client certificates for GRPC and HTTP.
	PEMs map[string][]byte
	// Client returns a TLS client presenting a client's certificate (NGINX).
	Client  func(name string) *http.Client
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
	WrongAllows       int
	WrongAllowSamples []string
	// Unexpected are answers (not allows) other than the class's Want
	// and the target's Outage.
	Unexpected int
	// Outage are answers with the target's Outage status.
	Outage int
	// Errors counts transport failures by kind.
	Errors          map[string]int
	P50, P99, Max   time.Duration
	Elapsed         time.Duration
	latencySamples  []time.Duration
	unexpectedNotes map[string]int
}

// maxRequestsPerWorker bounds each worker's loop whatever the duration.
const maxRequestsPerWorker = 1_000_000

// runLoad sends the target's classes round-robin from several workers
// until ctx ends or d passes, and reports every answer. It is the only
// seam between the fault tests and the way load is made.
func runLoad(ctx context.Context, target loadTarget, d time.Duration) loadReport {
	// The run ends after d, but a request in flight then still gets its
	// answer: only the caller's ctx cuts requests short.
	run, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	workers := target.Workers
	if workers <= 0 {
		workers = 4
	}
	send, closeAll := newSenders(target)
	defer closeAll()
	start := time.Now()
	reports := make([]loadReport, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := newLoadReport()
			for i := 0; i < maxRequestsPerWorker && run.Err() == nil; i++ {
				class := target.Classes[(w+i)%len(target.Classes)]
				began := time.Now()
				allowed, code, err := send[(w+i)%len(send)](ctx, class)
				if err != nil && ctx.Err() != nil {
					break // the caller ended the run under this request
				}
				r.observe(class, target.Outage, allowed, code, err, time.Since(began))
			}
			reports[w] = r
		})
	}
	wg.Wait()
	total := newLoadReport()
	for _, r := range reports {
		total.merge(r)
	}
	total.Elapsed = time.Since(start)
	total.summarize()
	return total
}

// sender sends one request of class and returns whether it was allowed,
// the status, or a transport error.
type sender func(ctx context.Context, class loadClass) (allowed bool, status int, err error)

// newSenders returns one sender per configured adapter and a function
// that closes their connections.
func newSenders(target loadTarget) ([]sender, func()) {
	var senders []sender
	var closers []func()
	if target.GRPC != "" {
		conn, err := grpc.NewClient(target.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err == nil {
			closers = append(closers, func() { _ = conn.Close() })
			senders = append(senders, grpcSender(authv3.NewAuthorizationClient(conn), target.PEMs))
		}
	}
	if target.HTTP != "" {
		tr := &http.Transport{MaxIdleConnsPerHost: 16}
		closers = append(closers, tr.CloseIdleConnections)
		senders = append(senders, httpSender(&http.Client{Transport: tr, Timeout: 5 * time.Second}, target.HTTP, target.PEMs))
	}
	if target.NGINX != "" {
		clients := map[string]*http.Client{}
		for _, c := range target.Classes {
			if clients[c.Client] == nil {
				clients[c.Client] = target.Client(c.Client)
			}
		}
		senders = append(senders, nginxSender(clients, target.NGINX))
	}
	if len(senders) == 0 {
		senders = append(senders, func(context.Context, loadClass) (bool, int, error) {
			return false, 0, errors.New("no load target")
		})
	}
	return senders, func() {
		for _, c := range closers {
			c()
		}
	}
}

// grpcSender asks as Envoy does, over ext_authz v3 gRPC.
func grpcSender(authz authv3.AuthorizationClient, pems map[string][]byte) sender {
	return func(ctx context.Context, class loadClass) (bool, int, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req := client.EnvoyRequest(client.Check{CertPEM: pems[class.Client], Method: class.Method, Target: class.Target, Host: "anka.example"})
		resp, err := authz.Check(ctx, req)
		if err != nil {
			return false, 0, fmt.Errorf("grpc %s", status.Code(err))
		}
		// Envoy lets a request through on status OK, whatever else the
		// response says.
		if resp.GetStatus().GetCode() == 0 {
			return true, http.StatusOK, nil
		}
		return false, int(resp.GetDeniedResponse().GetStatus().GetCode()), nil
	}
}

// httpSender asks as NGINX's auth_request does, on the HTTP check endpoint.
func httpSender(c *http.Client, base string, pems map[string][]byte) sender {
	return func(ctx context.Context, class loadClass) (bool, int, error) {
		req, err := client.NGINXRequest(base, client.Check{CertPEM: pems[class.Client], Method: class.Method, Target: class.Target, Host: "anka.example"})
		if err != nil {
			return false, 0, err
		}
		return doHTTP(c, req.WithContext(ctx), "http")
	}
}

// nginxSender sends the request itself through NGINX, over mTLS.
func nginxSender(clients map[string]*http.Client, addr string) sender {
	return func(ctx context.Context, class loadClass) (bool, int, error) {
		req, err := http.NewRequestWithContext(ctx, class.Method, "https://"+addr+class.Target, nil)
		if err != nil {
			return false, 0, err
		}
		return doHTTP(clients[class.Client], req, "nginx")
	}
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

// observe counts one answer (or transport error) of class.
func (r *loadReport) observe(class loadClass, outage int, allowed bool, code int, err error, took time.Duration) {
	r.Requests++
	if len(r.latencySamples) < 200_000 {
		r.latencySamples = append(r.latencySamples, took)
	}
	if err != nil {
		r.Errors[err.Error()]++
		return
	}
	if r.Status[class.Name] == nil {
		r.Status[class.Name] = map[int]int{}
	}
	r.Status[class.Name][code]++
	switch {
	case allowed && class.Want != http.StatusOK:
		r.WrongAllows++
		if len(r.WrongAllowSamples) < 5 {
			r.WrongAllowSamples = append(r.WrongAllowSamples, fmt.Sprintf("%s: %s %s as %s allowed", class.Name, class.Method, class.Target, class.Client))
		}
	case code == class.Want:
	case outage != 0 && code == outage:
		r.Outage++
	default:
		r.Unexpected++
		r.unexpectedNotes[fmt.Sprintf("%s:%d", class.Name, code)]++
	}
}

// merge adds o's counts to r.
func (r *loadReport) merge(o loadReport) {
	r.Requests += o.Requests
	r.WrongAllows += o.WrongAllows
	r.WrongAllowSamples = append(r.WrongAllowSamples, o.WrongAllowSamples...)
	r.Unexpected += o.Unexpected
	r.Outage += o.Outage
	r.latencySamples = append(r.latencySamples, o.latencySamples...)
	for class, byStatus := range o.Status {
		if r.Status[class] == nil {
			r.Status[class] = map[int]int{}
		}
		for code, n := range byStatus {
			r.Status[class][code] += n
		}
	}
	for k, n := range o.Errors {
		r.Errors[k] += n
	}
	for k, n := range o.unexpectedNotes {
		r.unexpectedNotes[k] += n
	}
}

// summarize turns the latency samples into percentiles.
func (r *loadReport) summarize() {
	if len(r.latencySamples) == 0 {
		return
	}
	slices.Sort(r.latencySamples)
	at := func(q float64) time.Duration { return r.latencySamples[int(q*float64(len(r.latencySamples)-1))] }
	r.P50, r.P99, r.Max = at(0.5), at(0.99), r.latencySamples[len(r.latencySamples)-1]
	r.latencySamples = nil
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
func formatNotes(m map[string]int) string {
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
