package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
	c := NewChecker(nil, Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
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
