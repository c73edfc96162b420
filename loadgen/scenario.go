package loadgen

import (
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// IDPlaceholder in a route's path is replaced by a fresh id on every
// request sent, e.g. /registry/pull/{id}: an image name, a job id.
const IDPlaceholder = "{id}"

// Route is one request line of a scenario, its expected status and its
// share of the traffic.
type Route struct {
	Method string `json:"method"`
	// Path is the request target; IDPlaceholder in it is a fresh id per
	// request.
	Path   string `json:"path"`
	Expect int    `json:"expect"`
	Weight int    `json:"weight,omitempty"`
}

// Class is the route's class in reports: "GET /registry/pull/{id}".
func (r Route) Class() Class { return Class(r.Method + " " + r.Path) }

// DefaultRoute is the route of a scenario that names none: a static path
// the fleet's group (ci) may read.
var DefaultRoute = Route{Method: http.MethodGet, Path: "/api/v1/vm", Expect: http.StatusOK, Weight: 1}

// ParseRoutes reads a route mix: comma-separated routes, each of
// whitespace-separated fields in any order: the path (starting with /,
// required), a method (upper case, default GET), the expected status
// (three digits, default 200) and a weight (*N, default 1). For example
// "GET /api/v1/vm *1, GET /registry/pull/{id} *1, /api/v2/{id} 403 *1".
func ParseRoutes(s string) ([]Route, error) {
	var out []Route
	seen := map[Class]bool{}
	for entry := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		r, err := parseRoute(entry)
		if err != nil {
			return nil, err
		}
		if seen[r.Class()] {
			return nil, fmt.Errorf("route mix: %s is listed twice", r.Class())
		}
		seen[r.Class()] = true
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("route mix: no route")
	}
	return out, nil
}

func parseRoute(entry string) (Route, error) {
	r := Route{Method: http.MethodGet, Expect: http.StatusOK, Weight: 1}
	for _, f := range strings.Fields(entry) {
		switch {
		case strings.HasPrefix(f, "/"):
			r.Path = f
		case strings.HasPrefix(f, "*"):
			w, err := strconv.Atoi(f[1:])
			if err != nil || w < 0 {
				return Route{}, fmt.Errorf("route %q: weight %q: want *N with N ≥ 0", strings.TrimSpace(entry), f)
			}
			r.Weight = w
		case len(f) == 3 && f[0] >= '1' && f[0] <= '5':
			code, err := strconv.Atoi(f)
			if err != nil {
				return Route{}, fmt.Errorf("route %q: status %q: want three digits", strings.TrimSpace(entry), f)
			}
			r.Expect = code
		case f == strings.ToUpper(f) && strings.Trim(f, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "":
			r.Method = f
		default:
			return Route{}, fmt.Errorf("route %q: %q is neither a path (/…), a method, a status nor a weight (*N)", strings.TrimSpace(entry), f)
		}
	}
	if r.Path == "" {
		return Route{}, fmt.Errorf("route %q: no path (/…)", strings.TrimSpace(entry))
	}
	return r, nil
}

// Scenario is traffic of a fleet of certificates over a weighted mix of
// routes: request k of a pass presents certificate k mod len(Certs), so
// the certificates come round-robin, and the routes are shuffled among the
// requests in proportion to their weights.
type Scenario struct {
	Certs  []FleetCert
	Routes []Route
}

// minSchedule is the shortest schedule a scenario builds, so that the
// weights of a one-certificate scenario are honoured closely.
const minSchedule = 1000

// NewScenarioMix builds the mix of s: one prepared request per schedule
// slot (a pass is max(len(Certs), 1000) requests, a multiple of
// len(Certs)), sent in order.
func NewScenarioMix(s Scenario) (*Mix, error) {
	if len(s.Certs) == 0 {
		return nil, errors.New("scenario: no client certificate")
	}
	routes := s.Routes
	if len(routes) == 0 {
		routes = []Route{DefaultRoute}
	}
	total := 0
	m := &Mix{}
	for _, r := range routes {
		total += r.Weight
		m.Classes = append(m.Classes, r.Class())
	}
	if total == 0 {
		return nil, errors.New("scenario: every route has weight 0")
	}
	n := len(s.Certs) * ((minSchedule + len(s.Certs) - 1) / len(s.Certs))
	order := weightedOrder(routes, total, n)
	m.Requests = make([]Request, n)
	m.Schedule = make([]int, n)
	for k := range n {
		r := routes[order[k]]
		c := s.Certs[k%len(s.Certs)]
		m.Requests[k] = Request{Class: r.Class(), Expect: r.Expect, Check: envoyLike(c.PEM, r.Method, r.Path, k), Key: c.Key}
		m.Schedule[k] = k
	}
	return m, nil
}

// weightedOrder returns n route indices, each route's share as close to
// its weight as n allows (the remainders go to the first routes),
// shuffled with a fixed seed.
func weightedOrder(routes []Route, total, n int) []int {
	out := make([]int, 0, n)
	for i, r := range routes {
		for range n * r.Weight / total {
			out = append(out, i)
		}
	}
	for i := 0; len(out) < n; i++ {
		if routes[i%len(routes)].Weight > 0 {
			out = append(out, i%len(routes))
		}
	}
	rng := rand.New(rand.NewPCG(14, 1))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// idPrefix makes ids differ between invocations, so that a long-running
// server never sees an id of an earlier run.
var idPrefix = func() string {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var idCounter atomic.Uint64

// nextID is an id no request of this process has carried before.
func nextID() string {
	return "i" + idPrefix + "-" + strconv.FormatUint(idCounter.Add(1), 36)
}

// template is a request target with IDPlaceholder split out.
type template struct {
	prefix, suffix string
}

// splitTemplate returns the parts of target around its first
// IDPlaceholder, and false when it has none.
func splitTemplate(target string) (template, bool) {
	before, after, ok := strings.Cut(target, IDPlaceholder)
	return template{before, after}, ok
}

// fill returns the target with a fresh id.
func (t template) fill() string { return t.prefix + nextID() + t.suffix }
