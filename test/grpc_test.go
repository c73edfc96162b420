package test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/certgate/certgate/client"
)

func grpcCodeFor(status int) codes.Code {
	switch status {
	case http.StatusOK:
		return codes.OK
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusBadRequest:
		return codes.InvalidArgument
	}
	return codes.Internal
}

// checkOutcome is what a user of the gRPC API observes.
type checkOutcome struct {
	Code       codes.Code
	HTTPStatus int
	Body       map[string]string
	Headers    map[string]string
}

func outcome(t *testing.T, resp *authv3.CheckResponse) checkOutcome {
	t.Helper()
	o := checkOutcome{Code: codes.Code(resp.GetStatus().GetCode()), Headers: map[string]string{}}
	if ok := resp.GetOkResponse(); ok != nil {
		o.HTTPStatus = http.StatusOK
		for _, h := range ok.GetHeaders() {
			if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
				t.Errorf("header %s is set with %v; identity headers must overwrite client copies", h.GetHeader().GetKey(), h.GetAppendAction())
			}
			o.Headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		return o
	}
	denied := resp.GetDeniedResponse()
	if denied == nil {
		t.Fatalf("response has neither ok nor denied part: %v", resp)
	}
	o.HTTPStatus = int(denied.GetStatus().GetCode())
	for _, h := range denied.GetHeaders() {
		o.Headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	if err := json.Unmarshal([]byte(denied.GetBody()), &o.Body); err != nil {
		t.Fatalf("deny body %q is not JSON: %v", denied.GetBody(), err)
	}
	return o
}

// wantOutcome is the outcome the contract (docs/architecture.md, "Status
// codes") promises for a case.
// A 403's body does not name the missing permission (that is
// listen.name_missing_permission, off by default); the decision log does.
func wantOutcome(tc decisionCase, user, groups string) checkOutcome {
	o := checkOutcome{Code: grpcCodeFor(tc.status), HTTPStatus: tc.status, Headers: map[string]string{}}
	switch tc.status {
	case http.StatusOK:
		o.Headers = map[string]string{"x-certgate-user": user, "x-certgate-groups": groups, "x-certgate-permission": tc.permission}
	case http.StatusUnauthorized:
		o.Body = map[string]string{"status": "FAIL", "message": "Authentication Required"}
	case http.StatusForbidden:
		o.Body = map[string]string{"status": "FAIL", "message": "Forbidden"}
	case http.StatusBadRequest:
		o.Body = map[string]string{"status": "FAIL", "message": "Bad Request"}
	}
	if tc.status != http.StatusOK {
		o.Headers["content-type"] = "application/json"
	}
	return o
}

var clientGroups = map[string]string{"admin": "admins", "viewer": "viewers", "jenkins": "ci", "builder": "builders,viewers"}

func TestEnvoyCheckOverGRPCDecidesByCertificateAndPermission(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustNone)
	authz := r.authzClient(t)
	for _, tc := range decisionCases {
		t.Run(tc.name, func(t *testing.T) {
			req := client.EnvoyRequest(client.Check{CertPEM: w.clients[tc.client], Method: tc.method, Target: tc.target, Host: "anka.example"})
			resp, err := authz.Check(context.Background(), req)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			got := outcome(t, resp)
			delete(got.Headers, "x-certgate-fingerprint") // asserted in its own test
			if diff := cmp.Diff(wantOutcome(tc, tc.client, clientGroups[tc.client]), got); diff != "" {
				t.Errorf("%s %s as %s (-want +got):\n%s", tc.method, tc.target, tc.client, diff)
			}
		})
	}
	decisions := r.logs.Records(t, "decision")
	if got := len(decisions); got != len(decisionCases) {
		t.Errorf("decision log has %d lines, want one per request (%d)", got, len(decisionCases))
	}
	// The body named no permission; the decision log names the missing one.
	for _, tc := range decisionCases {
		if tc.status != http.StatusForbidden || tc.permission == "" {
			continue
		}
		found := false
		for _, d := range decisions {
			found = found || d["path"] == tc.target && d["method"] == tc.method && d["user"] == tc.client && d["permission"] == tc.permission
		}
		if !found {
			t.Errorf("no decision log line for %s %s as %s names the missing permission %s", tc.method, tc.target, tc.client, tc.permission)
		}
	}
}

func TestEnvoyCheckDeniesMissingOrGarbageCertificatesWith401(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustNone)
	authz := r.authzClient(t)
	viewerPEM := string(w.clients["viewer"])
	for name, cert := range map[string]string{
		"no certificate":                 "",
		"garbage":                        "not a certificate",
		"bad percent-encoding":           "%zz%",
		"a PEM block that is not a cert": client.EscapePEM([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")),
		"a truncated certificate":        client.EscapePEM([]byte(viewerPEM[:len(viewerPEM)/2])),
		"two certificates":               client.EscapePEM([]byte(viewerPEM + viewerPEM)),
	} {
		t.Run(name, func(t *testing.T) {
			req := client.EnvoyRequest(client.Check{Method: "GET", Target: "/api/v1/status"})
			req.Attributes.Source.Certificate = cert
			resp, err := authz.Check(context.Background(), req)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := outcome(t, resp); got.Code != codes.Unauthenticated || got.HTTPStatus != http.StatusUnauthorized {
				t.Errorf("got code %v status %d, want UNAUTHENTICATED 401", got.Code, got.HTTPStatus)
			}
		})
	}
}

func TestEnvoyCheckOverwritesAndStripsClientSentIdentityHeaders(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustNone)
	authz := r.authzClient(t)
	req := client.EnvoyRequest(client.Check{
		CertPEM: w.clients["viewer"], Method: "GET", Target: "/api/v1/vm",
		Headers: map[string]string{
			"x-certgate-user":   "admin",
			"x-certgate-groups": "admins",
			"x-certgate-extra":  "forged",
			"ssl-client-cert":   client.EscapePEM(w.clients["admin"]),
			"ssl-client-verify": "SUCCESS",
		},
	})
	resp, err := authz.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := outcome(t, resp)
	if got.Headers["x-certgate-user"] != "viewer" || got.Headers["x-certgate-groups"] != "viewers" {
		t.Errorf("identity headers = %v, want certgate's own viewer values", got.Headers)
	}
	if fp := got.Headers["x-certgate-fingerprint"]; len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("x-certgate-fingerprint = %q, want 64 lower-case hex digits", fp)
	}
	removed := resp.GetOkResponse().GetHeadersToRemove()
	for _, h := range []string{"x-certgate-extra", "ssl-client-cert", "ssl-client-verify"} {
		if !contains(removed, h) {
			t.Errorf("headers_to_remove = %v, want it to include client-sent %s", removed, h)
		}
	}
}

func TestEnvoyCheckIgnoresForwardedCertHeadersUnlessTrusted(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustNone)
	authz := r.authzClient(t)
	req := client.EnvoyRequest(client.Check{Method: "GET", Target: "/api/v1/vm", Headers: map[string]string{
		"ssl-client-cert":   client.EscapePEM(w.clients["admin"]),
		"ssl-client-verify": "SUCCESS",
	}})
	resp, err := authz.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcome(t, resp); got.HTTPStatus != http.StatusUnauthorized {
		t.Errorf("forged ssl-client-cert without trust: status %d, want 401", got.HTTPStatus)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
