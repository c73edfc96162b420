package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/loadgen"
)

// junkSource makes the junk of one flood worker: certificate header values
// that are all different (a tag numbers them) and random past the tag, so
// nothing on the way can share or compress them.
type junkSource struct {
	kind byte // 'w' warm-up, 'f' flood, 'p' probe: keeps the runs apart
	rng  *rand.ChaCha8
	raw  []byte
}

func newJunkSource(kind byte, worker int) *junkSource {
	var seed [32]byte
	seed[0], seed[1] = kind, byte(worker)
	return &junkSource{kind: kind, rng: rand.NewChaCha8(seed)}
}

// junkAlphabet is base64's, so that the junk is a valid header value and
// looks like the body of a PEM certificate.
const junkAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// fill returns n bytes of junk, starting with the tag of request i.
func (j *junkSource) fill(i, n int) string {
	tag := fmt.Sprintf("%c%07d", j.kind, i)
	if n <= len(tag) {
		return tag[:max(n, 0)]
	}
	if cap(j.raw) < n {
		j.raw = make([]byte, n)
	}
	b := j.raw[:n]
	_, _ = j.rng.Read(b[len(tag):])
	copy(b, tag)
	for k := len(tag); k < n; k++ {
		b[k] = junkAlphabet[b[k]&63]
	}
	return string(b)
}

// value is n bytes of junk for header name, framed the way certgate's
// reader of that header expects, so it gets past the first check: an
// escaped PEM block for ssl-client-cert, a quoted Cert for XFCC, a
// byte sequence for RFC 9440's client-cert.
func (j *junkSource) value(name string, i, n int) string {
	var before, after string
	switch name {
	case "ssl-client-cert":
		before, after = "-----BEGIN%20CERTIFICATE-----%0A", "%0A-----END%20CERTIFICATE-----%0A"
	case "x-forwarded-client-cert":
		before, after = `By=spiffe://junk;Cert="`, `"`
	case "client-cert", "client-cert-chain":
		before, after = ":", ":"
	}
	return before + j.fill(i, n-len(before)-len(after)) + after
}

// headers are the certificate headers of junk request i over gRPC or
// straight to the HTTP check endpoint: one floodValueBytes value in one of
// identity.ForwardedCertHeaders, by turns, and ssl-client-verify SUCCESS,
// as a proxy says when it verified the certificate it forwards. When the
// big value is in a header certgate does not read first, a junk
// ssl-client-cert of floodReadBytes comes with it, so that every request
// is a presentation of its own even to a cache keyed by what is read.
func (j *junkSource) headers(i int) map[string]string {
	name := identity.ForwardedCertHeaders[i%len(identity.ForwardedCertHeaders)]
	h := map[string]string{name: j.value(name, i, floodValueBytes)}
	switch name {
	case "ssl-client-cert", "x-forwarded-client-cert", "client-cert":
	default:
		h["ssl-client-cert"] = j.value("ssl-client-cert", i, floodReadBytes)
	}
	if name != "ssl-client-verify" {
		h["ssl-client-verify"] = "SUCCESS"
	}
	return h
}

// header is one request header, in the order it is set.
type header struct{ name, value string }

// nginxShape is the biggest junk NGINX lets through: count header lines of
// line bytes each (name, ": ", value and CRLF).
type nginxShape struct{ count, line int }

func (s nginxShape) String() string {
	return fmt.Sprintf("%d headers of %d bytes a line", s.count, s.line)
}

// nginxHeaders are the headers of junk request i sent through NGINX:
// shape.count of names, by turns, each line shape.line bytes long.
func (j *junkSource) nginxHeaders(names []string, shape nginxShape, i int) []header {
	out := make([]header, shape.count)
	for k := range out {
		name := names[(i*shape.count+k)%len(names)]
		out[k] = header{name, j.value(name, i, shape.line-len(name)-len(": \r\n"))}
	}
	return out
}

// headersNGINXPasses are the names of identity.ForwardedCertHeaders that
// the shipped snippet does not set itself (with proxy_set_header, which
// overwrites or, empty, removes a client's copy): a client's values of
// these reach certgate. When the snippet sets them all, the flood uses
// them all anyway, and NGINX drops it.
func headersNGINXPasses(t *testing.T) []string {
	t.Helper()
	snippet, err := os.ReadFile(filepath.Join("..", "nginx", "certgate.conf"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, line := range strings.Split(string(snippet), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "proxy_set_header" {
			set[strings.ToLower(f[1])] = true
		}
	}
	var out []string
	for _, name := range identity.ForwardedCertHeaders {
		if !set[name] {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		t.Logf("the snippet sets every forwarded certificate header: the junk is dropped by NGINX")
		return identity.ForwardedCertHeaders
	}
	return out
}

// biggestNGINXHeaders finds, by sending probes, the most junk one request
// can carry through NGINX with its default header limits
// (large_client_header_buffers 4 8k): the longest lines for up to four
// headers (a header line must fit in one buffer). statusOf sends the
// headers without a client certificate and returns the status; certgate's
// 401 means they passed, NGINX's 400 that they were too large.
func biggestNGINXHeaders(t *testing.T, names []string, statusOf func([]header) int) nginxShape {
	t.Helper()
	junk := newJunkSource('p', 0)
	probe := 0
	passes := func(s nginxShape) bool {
		probe++
		switch code := statusOf(junk.nginxHeaders(names, s, probe)); code {
		case http.StatusUnauthorized:
			return true
		case http.StatusBadRequest, http.StatusRequestHeaderFieldsTooLarge:
			return false
		default:
			t.Fatalf("probe %v through NGINX: status %d, want 401 (passed) or 400 (too large)", s, code)
			return false
		}
	}
	const shortest, longest = 256, 64 << 10
	for count := min(4, len(names)); count >= 1; count-- {
		if !passes(nginxShape{count, shortest}) {
			continue
		}
		lo, hi := shortest, longest+1 // lo passes, hi does not
		if passes(nginxShape{count, longest}) {
			return nginxShape{count, longest}
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if passes(nginxShape{count, mid}) {
				lo = mid
			} else {
				hi = mid
			}
		}
		return nginxShape{count, lo}
	}
	t.Fatalf("NGINX lets no request with a %d-byte certificate header through", shortest)
	return nginxShape{}
}

// flood sends junk requests 0 to n-1 from floodWorkers workers through
// the load generator until all are answered or limit passes, and reports
// every answer as runLoad does; the contract's answer to junk is 401.
func flood(ctx context.Context, send func(context.Context, *junkSource, int) (bool, int, error), kind byte, n int, limit time.Duration) loadReport {
	target := &floodTarget{send: send, junk: make([]*junkSource, floodWorkers)}
	for w := range target.junk {
		target.junk[w] = newJunkSource(kind, w)
	}
	mix := &loadgen.Mix{Classes: []loadgen.Class{"junk"}, Schedule: []int{0},
		Requests: []loadgen.Request{{Class: "junk", Expect: http.StatusUnauthorized}}}
	return runLoadgen(ctx, target, mix, loadgen.Options{Concurrency: floodWorkers, Requests: n, Duration: limit})
}

// floodTarget is a load generator target whose every request is the next
// junk request of its worker's source: request i carries tag i.
type floodTarget struct {
	send func(context.Context, *junkSource, int) (bool, int, error)
	junk []*junkSource
	next atomic.Int64
}

func (f *floodTarget) Name() string                    { return "junk flood" }
func (f *floodTarget) Prepare([]loadgen.Request) error { return nil }
func (f *floodTarget) Close() error                    { return nil }

func (f *floodTarget) Do(ctx context.Context, w, _ int) (int, error) {
	allowed, code, err := f.send(ctx, f.junk[w], int(f.next.Add(1))-1)
	if allowed {
		return http.StatusOK, err
	}
	return code, err
}

// settledRSS reads p's VmRSS every 250 ms until four readings in a row lie
// within 1 MiB (or 6 s pass) and returns the least of them. The Go runtime
// returns freed memory to the system lazily, and certgate has no way to
// force a collection from outside: what stays after it settled is what
// certgate keeps.
func settledRSS(t *testing.T, p *certgateProc) int64 {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	var readings []int64
	for {
		time.Sleep(250 * time.Millisecond)
		readings = append(readings, p.rssBytes())
		if len(readings) < 4 {
			continue
		}
		last := readings[len(readings)-4:]
		if slices.Max(last)-slices.Min(last) < 1<<20 || time.Now().After(deadline) {
			return slices.Min(last)
		}
	}
}
