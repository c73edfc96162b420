package server

import (
	"context"
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
)

// constantPolicy allows everything with the shipped decision's shape: with
// it, a Check costs what certgate adds around the policy.
const constantPolicy = `package certgate.authz

decision := {"allow": true, "status": 200, "reason": "granted", "permission": "list_vms", "headers": {}, "response_headers": {}}
`

// policyChecker is newTestChecker with a chosen policy ("" for the shipped one).
func policyChecker(b testing.TB, rego string) (*Checker, *pkitest.CA) {
	b.Helper()
	if rego == "" {
		return newTestChecker(b)
	}
	engine, err := policy.LoadFS(context.Background(), fstest.MapFS{"authz.rego": {Data: []byte(rego)}})
	if err != nil {
		b.Fatal(err)
	}
	return checkerWith(b, engine, Options{})
}

// envoyShaped is the CheckRequest Envoy sends for a leaf, with a dozen
// ordinary request headers.
func envoyShaped(leaf []byte, method, target string) *Request {
	e := client.EnvoyRequest(client.Check{CertPEM: leaf, Method: method, Target: target, Host: "anka.example", Headers: map[string]string{
		"user-agent": "anka-cli/3.4.1", "accept": "application/json", "accept-encoding": "gzip", "accept-language": "en-US",
		"content-type": "application/json", "x-request-id": "5f0c7a3e-2b1d-4c8e-9a6f-000000000001", "x-forwarded-for": "10.0.0.1",
		"x-forwarded-proto": "https", "x-envoy-expected-rq-timeout-ms": "15000", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}})
	req := RequestFromCheck(e)
	req.Adapter, req.RemovesHeaders = "grpc", true
	return req
}

// BenchmarkCheckConstantPolicy is a whole Check with cached verification and
// a policy that decides at once: what certgate costs besides the policy.
func BenchmarkCheckConstantPolicy(b *testing.B) {
	c, inter := policyChecker(b, constantPolicy)
	req := envoyShaped(inter.Leaf("jenkins", pkitest.Orgs("ci")).CertPEM(), "GET", "/api/v1/vm?limit=10")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Check(ctx, req); !res.Allow {
			b.Fatalf("denied: %s", res.Reason)
		}
	}
}

// BenchmarkCheckResponse is the gRPC adapter's part of a decision: the
// CheckResponse for an allow and for a deny with its JSON body, each with
// the dynamic metadata that names its decision log line.
func BenchmarkCheckResponse(b *testing.B) {
	allow := &Result{Status: http.StatusOK, Allow: true, UpstreamHeaders: []Header{{HeaderUser, "jenkins"}, {HeaderGroups, "ci"}, {HeaderPermission, "list_vms"}, {HeaderFingerprint, "00ff"}},
		DecisionID: "5f0c7a3e2b1d-1042", Revision: 3, Cause: "granted"}
	deny := &Result{Status: http.StatusForbidden, Permission: "start_vm", DecisionID: "5f0c7a3e2b1d-1043", Revision: 3, Cause: "missing_permission"}
	for _, tc := range []struct {
		name string
		res  *Result
	}{{"allow", allow}, {"deny", deny}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if checkResponse(tc.res) == nil {
					b.Fatal("nil response")
				}
			}
		})
	}
}

// discardResponse is a ResponseWriter that keeps only its header map,
// cleared between requests as net/http gives each response a fresh one.
type discardResponse struct {
	hdr    http.Header
	status int
}

func (d *discardResponse) Header() http.Header         { return d.hdr }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(status int)      { d.status = status }

// BenchmarkHTTPCheck is the HTTP adapter's warm path in process: NGINX's
// auth subrequest (certgate.conf's headers, the certificate in
// Ssl-Client-Cert) through the handler to its response headers, with the
// verdict and decision caches hit; no network.
func BenchmarkHTTPCheck(b *testing.B) {
	c, inter := newTestChecker(b)
	h := NewHTTPHandler(c, loopbackTrust)
	leaf := inter.Leaf("jenkins", pkitest.Orgs("ci"))
	r, err := client.NGINXRequest("http://certgate", client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/api/v1/vm", Host: "anka.example",
		Headers: map[string]string{"user-agent": "anka-cli/3.4.1", "accept": "application/json"}})
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr, r.RequestURI = "127.0.0.1:40000", r.URL.RequestURI() // as a server sees it
	w := &discardResponse{hdr: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.hdr)
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
