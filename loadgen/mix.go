package loadgen

import (
	"crypto"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/certgate/certgate/client"
)

// Class is a kind of request whose answer is known in advance.
type Class string

// The request classes of the default mix.
const (
	// ClassAllowed is a permitted request of a valid client: 200.
	ClassAllowed Class = "allowed"
	// ClassDenied is a valid client asking for a permission it lacks: 403.
	ClassDenied Class = "denied"
	// ClassRevoked is a client listed in the CRL: 401.
	ClassRevoked Class = "revoked"
	// ClassUnknownRoute is a valid client on a path no route covers: 403.
	ClassUnknownRoute Class = "unknown_route"
)

// Request is one request of a mix with the status it must get.
type Request struct {
	Class  Class
	Expect int
	Check  client.Check
	// Key is the client's private key, for targets that present the
	// certificate in a TLS handshake (NGINX); nil in the default mix.
	Key crypto.Signer
}

// Mix is the traffic to send: Requests, and Schedule, the order in which
// their indices are sent (each worker walks it from its own offset).
type Mix struct {
	Requests []Request
	Schedule []int
	// Classes lists the classes in the order reports show them.
	Classes []Class
}

// Weights are the shares of each class in a mix, in percent or any unit.
type Weights map[Class]int

// DefaultWeights is mostly allowed traffic with some of every deny.
var DefaultWeights = Weights{ClassAllowed: 70, ClassDenied: 15, ClassRevoked: 5, ClassUnknownRoute: 10}

// The demo clients a mix needs (see pki.DemoClients).
var mixClients = []string{"admin", "jenkins", "viewer", "revoked"}

// Clients holds the PEM certificates of the demo clients by name.
type Clients map[string][]byte

// LoadClients reads clients/<name>.pem of a demo PKI directory for every
// client the default mix uses.
func LoadClients(dir string) (Clients, error) {
	out := Clients{}
	for _, name := range mixClients {
		p := filepath.Join(dir, "clients", name+".pem")
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("load client %s: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

// route is one request line of the mix with its expected status.
type route struct {
	class          Class
	client         string
	method, target string
	expect         int
}

// routes are requests against the shipped policy (rego/data.json).
var routes = []route{
	{ClassAllowed, "viewer", "GET", "/api/v1/vm", http.StatusOK},
	{ClassAllowed, "jenkins", "POST", "/api/v1/vm", http.StatusOK},
	{ClassAllowed, "jenkins", "POST", "/api/v1/registry/vm/distribute", http.StatusOK},
	{ClassAllowed, "jenkins", "GET", "/registry/pull/macos-14?tag=base", http.StatusOK},
	{ClassAllowed, "admin", "DELETE", "/api/v1/node", http.StatusOK},
	{ClassAllowed, "admin", "GET", "/api/v1/logs/controller/today", http.StatusOK},
	{ClassDenied, "viewer", "POST", "/api/v1/vm", http.StatusForbidden},
	{ClassDenied, "jenkins", "DELETE", "/api/v1/node", http.StatusForbidden},
	{ClassDenied, "viewer", "PUT", "/api/v1/config", http.StatusForbidden},
	{ClassRevoked, "revoked", "GET", "/api/v1/vm", http.StatusUnauthorized},
	{ClassRevoked, "revoked", "POST", "/api/v1/vm", http.StatusUnauthorized},
	{ClassUnknownRoute, "admin", "GET", "/api/v2/unknown", http.StatusForbidden},
	{ClassUnknownRoute, "viewer", "PATCH", "/api/v1/vm/12", http.StatusForbidden},
}

// NewMix builds the default mix from the demo clients, plus one allowed
// request (GET /api/v1/vm, granted to group ci) for each certificate in
// distinct, so that a run presents that many different certificates.
func NewMix(clients Clients, distinct [][]byte, weights Weights) (*Mix, error) {
	if weights == nil {
		weights = DefaultWeights
	}
	m := &Mix{Classes: []Class{ClassAllowed, ClassDenied, ClassRevoked, ClassUnknownRoute}}
	byClass := map[Class][]int{}
	for i, r := range routes {
		pem, ok := clients[r.client]
		if !ok {
			return nil, fmt.Errorf("mix: no certificate for client %q", r.client)
		}
		m.Requests = append(m.Requests, Request{Class: r.class, Expect: r.expect, Check: envoyLike(pem, r.method, r.target, i)})
		byClass[r.class] = append(byClass[r.class], len(m.Requests)-1)
	}
	for i, pem := range distinct {
		m.Requests = append(m.Requests, Request{Class: ClassAllowed, Expect: http.StatusOK, Check: envoyLike(pem, "GET", "/api/v1/vm", len(routes)+i)})
		byClass[ClassAllowed] = append(byClass[ClassAllowed], len(m.Requests)-1)
	}
	schedule, err := buildSchedule(m.Classes, byClass, weights)
	if err != nil {
		return nil, err
	}
	m.Schedule = schedule
	return m, nil
}

// buildSchedule interleaves the classes' requests in proportion to their
// weights, long enough that every request appears at least once, and
// shuffles them with a fixed seed so every run sends the same sequence.
func buildSchedule(classes []Class, byClass map[Class][]int, weights Weights) ([]int, error) {
	total := 0
	for _, c := range classes {
		if weights[c] < 0 {
			return nil, fmt.Errorf("mix: negative weight for %s", c)
		}
		total += weights[c]
	}
	if total == 0 {
		return nil, errors.New("mix: every class has weight 0")
	}
	length := 1000
	for _, c := range classes {
		if w := weights[c]; w > 0 {
			length = max(length, (len(byClass[c])*total+w-1)/w)
		}
	}
	var schedule []int
	for _, c := range classes {
		reqs := byClass[c]
		n := length * weights[c] / total
		for i := range n {
			schedule = append(schedule, reqs[i%len(reqs)])
		}
	}
	rng := rand.New(rand.NewPCG(6, 1))
	rng.Shuffle(len(schedule), func(i, j int) { schedule[i], schedule[j] = schedule[j], schedule[i] })
	return schedule, nil
}

// sessionToken stands for an opaque session cookie, as browsers send one to
// a controller UI behind the proxy.
const sessionToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbmthLXVpIiwiaWF0IjoxNzY0MDAwMDAwLCJleHAiOjE3NjQwMDM2MDAsInNjb3BlIjpbInZtcyIsIm5vZGVzIiwicmVnaXN0cnkiXSwic2lkIjoiNGJmOTJmMzU3N2IzNGRhNmEzY2U5MjlkMGUwZTQ3MzYifQ.c2lnbmF0dXJlLW9mLXRoZS1zZXNzaW9uLXRva2VuLWZvci1sb2Fk-"

// envoyLike is a request with the headers a browser or CLI request carries
// through Envoy; with the URL-encoded certificate a CheckRequest is ~2 KB.
func envoyLike(pem []byte, method, target string, n int) client.Check {
	id := strconv.Itoa(n)
	return client.Check{
		CertPEM: pem,
		Method:  method,
		Target:  target,
		Host:    "anka.example.com",
		Headers: map[string]string{
			"user-agent":                     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
			"accept":                         "application/json, text/plain, */*",
			"accept-encoding":                "gzip, deflate, br",
			"accept-language":                "en-US,en;q=0.9",
			"content-type":                   "application/json",
			"x-request-id":                   "5f0c7a3e-2b1d-4c8e-9a6f-0000000" + fmt.Sprintf("%05d", n%100000),
			"x-forwarded-for":                "10.20.30." + strconv.Itoa(n%250+1),
			"x-forwarded-proto":              "https",
			"x-envoy-expected-rq-timeout-ms": "15000",
			"traceparent":                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"cookie":                         "anka_session=" + sessionToken + id + "; theme=dark; tz=Europe%2FBerlin",
			"referer":                        "https://anka.example.com/ui/vms?page=2&sort=name",
			"x-anka-client":                  "controller-ui/" + id,
		},
	}
}
