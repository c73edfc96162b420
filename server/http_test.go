package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestHTTPCheckReadsTheOriginalRequest(t *testing.T) {
	h := &httpCheck{}
	tests := []struct {
		name, uri            string
		headers              map[string]string
		method, target, host string
	}{
		{"NGINX sends X-Original-Method and X-Original-URI", "/v1/check",
			map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/api/v1/vm?x=1"}, "POST", "/api/v1/vm?x=1", "certgate"},
		{"ingress-nginx sends a full X-Original-URL", "/v1/check",
			map[string]string{"X-Original-Method": "DELETE", "X-Original-URL": "https://anka.example/api/v1/node?id=2"}, "DELETE", "/api/v1/node?id=2", "anka.example"},
		{"an X-Original-URL with only a query gets a root path", "/v1/check",
			map[string]string{"X-Original-Method": "GET", "X-Original-URL": "https://anka.example?x=1"}, "GET", "/?x=1", "anka.example"},
		// NormalizePath then refuses the target for its '#'.
		{"a '#' ends the authority of an X-Original-URL and starts the target", "/v1/check",
			map[string]string{"X-Original-Method": "GET", "X-Original-URL": "https://anka.example#/api/v1/logs/x"}, "GET", "/#/api/v1/logs/x", "anka.example"},
		{"Envoy's HTTP mode puts the path below /v1/check", "/v1/check/api/v1/vm/%2e%2e/node?x=1",
			map[string]string{}, "PUT", "/api/v1/vm/%2e%2e/node?x=1", "certgate"},
		{"Envoy's HTTP mode keeps the request's own method", "/v1/check/api/v1/vm",
			map[string]string{"X-Original-Method": "GET"}, "PUT", "/api/v1/vm", "certgate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.method == "PUT" {
				method = http.MethodPut
			}
			r := httptest.NewRequest(method, "http://certgate"+tt.uri, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			req, err := h.request(r)
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != tt.method || req.Target != tt.target || req.Host != tt.host {
				t.Errorf("got method %q target %q host %q, want %q %q %q", req.Method, req.Target, req.Host, tt.method, tt.target, tt.host)
			}
		})
	}
}

func TestHTTPCheckRefusesARequestWithoutTheOriginalRequest(t *testing.T) {
	h := &httpCheck{}
	for name, tc := range map[string]struct {
		headers map[string]string
		err     string
	}{
		"no original URI at all": {map[string]string{"X-Original-Method": "GET"}, "missing X-Original-URI or X-Original-URL"},
		"an X-Original-URL without ://": {map[string]string{"X-Original-Method": "GET", "X-Original-URL": "anka.example/api"},
			"not an absolute URL"},
		// The subrequest's own GET is not the client's method.
		"no original method with X-Original-URI": {map[string]string{"X-Original-URI": "/api/v1/vm"}, "missing X-Original-Method"},
		"no original method with X-Original-URL": {map[string]string{"X-Original-URL": "https://anka.example/api/v1/vm"}, "missing X-Original-Method"},
		"an empty original method":               {map[string]string{"X-Original-Method": "", "X-Original-URI": "/api/v1/vm"}, "missing X-Original-Method"},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://certgate/v1/check", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			_, err := h.request(r)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("request() error %v, want %q", err, tc.err)
			}
		})
	}
}

// A check without X-Original-Method is refused with 400 and logged, like
// every request certgate cannot read.
func TestHTTPHandlerRefusesACheckWithoutTheOriginalMethod(t *testing.T) {
	var logs strings.Builder
	c := NewChecker(nil, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/v1/check", nil)
	r.Header.Set("X-Original-URI", "/api/v1/vm")
	NewHTTPHandler(c, loopbackTrust).ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
	if got := logs.String(); !strings.Contains(got, `"cause":"bad_request"`) || !strings.Contains(got, "missing X-Original-Method") {
		t.Errorf("decision log %s, want cause bad_request naming X-Original-Method", got)
	}
}

// Found by FuzzHTTPCheck: ServeMux answered "/v1/check//x" (and ".", ".."
// segments) with a 301 redirect, so an Envoy HTTP-mode request for "//x" was
// neither decided nor logged.
func TestHTTPHandlerDecidesEnvoyModePathsServeMuxWouldRedirect(t *testing.T) {
	c := NewChecker(nil, Options{Logger: slog.New(slog.DiscardHandler)})
	h := NewHTTPHandler(c, loopbackTrust)
	for _, target := range []string{"/v1/check//api/v1/vm", "/v1/check/api/v1/vm/../node", "/v1/check/api/./v1/vm", "/v1/check/api/v1/vm/%2e%2e/node"} {
		t.Run(target, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
			// No snapshot is loaded, so a decision is a 500 deny.
			if rec.Code != http.StatusInternalServerError || rec.Header().Get("Location") != "" {
				t.Errorf("status %d Location %q, want the pipeline's 500 deny, not a redirect", rec.Code, rec.Header().Get("Location"))
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 through the mux", rec.Code)
	}
}

// What NGINX copies upstream with auth_request_set is what the HTTP
// adapter answers: an identity header with an encoded value, or none at
// all. A client-sent x-certgate-* header other than the identity headers,
// which NGINX could not be told to remove, makes the allow a 400.
func TestHTTPCheckAnswersOnlyEncodedNonEmptyHeaders(t *testing.T) {
	checker, ca := policyChecker(t, headersPolicy)
	srv := httptest.NewServer(NewHTTPHandler(checker, loopbackTrust))
	t.Cleanup(srv.Close)
	noGroups := ca.Leaf("nogroups")
	noCN := ca.Leaf("", pkitest.Orgs("viewers"))
	hostile := ca.Leaf("viewer\r\nx-injected: 1", pkitest.Orgs("ops\x00", "José, Ltd"))
	tests := []struct {
		name           string
		cert           *pki.Certificate
		method, target string
		sent           map[string]string
		status         int
		want           http.Header // every X- header of the answer
	}{
		{"a certificate without O gets no X-Certgate-Groups, even when the client sent one", noGroups, "GET", "/read",
			map[string]string{"X-Certgate-Groups": "admins"}, http.StatusOK, http.Header{
				"X-Certgate-User": {"nogroups"}, "X-Certgate-Permission": {"read"}, "X-Certgate-Fingerprint": {fingerprint(noGroups)},
				"X-Certgate-Role": {"builder"}, "X-Copied-User": {"nogroups"},
			}},
		{"a certificate without CN gets no X-Certgate-User, an allow without a permission no X-Certgate-Permission", noCN, "GET", "/open",
			map[string]string{"X-Certgate-User": "admin"}, http.StatusOK, http.Header{
				"X-Certgate-Groups": {"viewers"}, "X-Certgate-Fingerprint": {fingerprint(noCN)},
				"X-Certgate-Role": {"builder"}, "X-Copied-Groups": {"viewers"},
			}},
		{"CR, LF, NUL and UTF-8 of the subject are percent-encoded", hostile, "GET", "/read", nil, http.StatusOK, http.Header{
			"X-Certgate-User": {"viewer%0D%0Ax-injected: 1"}, "X-Certgate-Groups": {"ops%00,Jos%C3%A9%2C Ltd"},
			"X-Certgate-Permission": {"read"}, "X-Certgate-Fingerprint": {fingerprint(hostile)},
			"X-Certgate-Role": {"builder"}, "X-Copied-User": {"viewer%0D%0Ax-injected: 1"}, "X-Copied-Groups": {"ops%00|Jos%C3%A9, Ltd"},
		}},
		{"a deny's response headers are encoded too", hostile, "POST", "/read", nil, http.StatusForbidden, http.Header{
			"X-Denied-User": {"viewer%0D%0Ax-injected: 1"},
		}},
		{"a client-sent X-Certgate-Anything makes an allow a 400", noGroups, "GET", "/read",
			map[string]string{"X-Certgate-Anything": "1"}, http.StatusBadRequest, http.Header{}},
		{"a client-sent x-certgate-* the policy sets makes an allow a 400 too", noGroups, "GET", "/read",
			map[string]string{"x-CERTGATE-role": "admin"}, http.StatusBadRequest, http.Header{}},
		{"a client-sent X-Certgate-Anything does not change a deny", noGroups, "POST", "/read",
			map[string]string{"X-Certgate-Anything": "1"}, http.StatusForbidden, http.Header{"X-Denied-User": {"nogroups"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := client.NGINXRequest(srv.URL, client.Check{CertPEM: tt.cert.CertPEM(), Method: tt.method, Target: tt.target, Headers: tt.sent})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			got := http.Header{}
			for name, values := range resp.Header {
				// The decision ID varies: TestHTTPCheckAnswersTheDecisionID checks it.
				if strings.HasPrefix(name, "X-") && name != decisionIDKey {
					got[name] = values
				}
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("X- headers of the answer (-want +got):\n%s", diff)
			}
		})
	}
}

// Every answer, allow or deny, names its line in the decision log, so that
// NGINX can log the decision ID next to its own request line.
func TestHTTPCheckAnswersTheDecisionID(t *testing.T) {
	var logs strings.Builder
	checker, ca := loggingChecker(t, headersPolicy, &logs)
	srv := httptest.NewServer(NewHTTPHandler(checker, loopbackTrust))
	t.Cleanup(srv.Close)
	leaf := ca.Leaf("jenkins", pkitest.Orgs("ci"))
	for _, tc := range []struct {
		name   string
		check  client.Check
		status int
	}{
		{"an allow", client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/read"}, http.StatusOK},
		{"a policy's deny", client.Check{CertPEM: leaf.CertPEM(), Method: "POST", Target: "/read"}, http.StatusForbidden},
		{"a request without a certificate", client.Check{Method: "GET", Target: "/read"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			req, err := client.NGINXRequest(srv.URL, tc.check)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			line := onlyLoggedDecision(t, logs.String())
			if got := resp.Header.Values(HeaderDecisionID); len(got) != 1 || got[0] != line.DecisionID {
				t.Errorf("%s = %q, want the decision log's decision_id %q", HeaderDecisionID, got, line.DecisionID)
			}
		})
	}
}
