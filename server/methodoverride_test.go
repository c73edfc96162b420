package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
)

// TestAMethodOverrideTheProxyCannotRemoveIsRefused: over HTTP (NGINX,
// ingress-nginx), where certgate cannot have the proxy remove a header, an
// allowed request whose method override header names another method than
// the one decided is a 400 method_override, never an allow an upstream
// could run as that method; one that repeats the method passes. Over gRPC
// the headers are removed and the allow stands.
func TestAMethodOverrideTheProxyCannotRemoveIsRefused(t *testing.T) {
	var logs strings.Builder
	checker, ca := loggingChecker(t, headersPolicy, &logs)
	authz := serveAuthz(t, checker)
	srv := httptest.NewServer(NewHTTPHandler(checker, loopbackTrust))
	t.Cleanup(srv.Close)
	leaf := ca.Leaf("viewer", pkitest.Orgs("viewers"))
	for _, tt := range []struct {
		name    string
		headers map[string]string
		http    int
	}{
		{"no override is allowed", nil, http.StatusOK},
		{"X-HTTP-Method-Override: DELETE is refused", map[string]string{"X-HTTP-Method-Override": "DELETE"}, http.StatusBadRequest},
		{"X-HTTP-Method: PUT is refused", map[string]string{"X-HTTP-Method": "PUT"}, http.StatusBadRequest},
		{"X-Method-Override: delete, in lower case, is refused", map[string]string{"X-Method-Override": "delete"}, http.StatusBadRequest},
		{"an empty override is refused", map[string]string{"X-HTTP-Method-Override": ""}, http.StatusBadRequest},
		{"X_HTTP_Method_Override: DELETE, with underscores, is refused", map[string]string{"X_HTTP_Method_Override": "DELETE"}, http.StatusBadRequest},
		{"an override that repeats the method is allowed", map[string]string{"X-HTTP-Method-Override": "get", "X-HTTP-Method": " GET "}, http.StatusOK},
	} {
		check := client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/read", Headers: tt.headers}
		t.Run(tt.name+" over HTTP", func(t *testing.T) {
			req, err := client.NGINXRequest(srv.URL, check)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.http {
				t.Errorf("HTTP check = %d, want %d", resp.StatusCode, tt.http)
			}
			if tt.http == http.StatusBadRequest && (resp.Header.Get(HeaderUser) != "" || resp.Header.Get(HeaderPermission) != "") {
				t.Error("the refusal carries identity headers")
			}
		})
		t.Run(tt.name+" over gRPC, which removes the headers", func(t *testing.T) {
			resp, err := authz.Check(context.Background(), client.EnvoyRequest(check))
			if err != nil {
				t.Fatal(err)
			}
			ok := resp.GetOkResponse()
			if ok == nil {
				t.Fatalf("Check denied %v, want allowed", resp.GetDeniedResponse().GetStatus())
			}
			for _, h := range methodOverrideHeaders {
				if !slices.Contains(ok.GetHeadersToRemove(), h) {
					t.Errorf("%s is not removed", h)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), `"cause":"method_override"`) {
		t.Error("no decision line with cause method_override")
	}
}

// TestAMethodQueryParameterIsRefusedOverEveryAdapter: Laravel and Symfony
// run a POST carrying ?_method=DELETE as a DELETE, and no proxy can remove
// a query parameter, so an allowed request whose _method (as PHP reads the
// name) names another method is a 400 method_override over HTTP and gRPC.
func TestAMethodQueryParameterIsRefusedOverEveryAdapter(t *testing.T) {
	checker, ca := policyChecker(t, headersPolicy)
	authz := serveAuthz(t, checker)
	srv := httptest.NewServer(NewHTTPHandler(checker, loopbackTrust))
	t.Cleanup(srv.Close)
	leaf := ca.Leaf("viewer", pkitest.Orgs("viewers"))
	for _, tt := range []struct {
		target  string
		refused bool
	}{
		{"/read?x=1", false},
		{"/read?_method=get&x=1", false},
		{"/read?_method=DELETE", true},
		{"/read?x=1&_METHOD=put", true},
		{"/read?_m%65thod=PUT", true},
		{"/read?.method=DELETE", true},
		{"/read?+method=DELETE", true},
		{"/read?[method=DELETE", true},
		{"/read?_method=", true},
	} {
		check := client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: tt.target}
		t.Run(tt.target, func(t *testing.T) {
			req, err := client.NGINXRequest(srv.URL, check)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			want := http.StatusOK
			if tt.refused {
				want = http.StatusBadRequest
			}
			if resp.StatusCode != want {
				t.Errorf("HTTP check = %d, want %d", resp.StatusCode, want)
			}
			got, err := authz.Check(context.Background(), client.EnvoyRequest(check))
			if err != nil {
				t.Fatal(err)
			}
			if allowed := got.GetOkResponse() != nil; allowed == tt.refused {
				t.Errorf("gRPC check allowed %v, want %v (%v)", allowed, !tt.refused, got.GetDeniedResponse().GetStatus())
			}
		})
	}
}
