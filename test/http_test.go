package test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/client"
)

// httpOutcome is what NGINX observes from the auth subrequest.
type httpOutcome struct {
	Status  int
	Body    map[string]string
	Headers map[string]string
}

func doHTTPCheck(t *testing.T, req *http.Request) httpOutcome {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("HTTP check: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	o := httpOutcome{Status: resp.StatusCode, Headers: map[string]string{}}
	for _, name := range []string{"X-Certgate-User", "X-Certgate-Groups", "X-Certgate-Permission"} {
		if v := resp.Header.Get(name); v != "" {
			o.Headers[name] = v
		}
	}
	if resp.StatusCode != http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("deny content-type %q, want application/json", ct)
		}
		if err := json.Unmarshal(raw, &o.Body); err != nil {
			t.Fatalf("deny body %q is not JSON: %v", raw, err)
		}
	}
	return o
}

func wantHTTPOutcome(tc decisionCase) httpOutcome {
	g := wantOutcome(tc, tc.client, clientGroups[tc.client])
	o := httpOutcome{Status: tc.status, Body: g.Body, Headers: map[string]string{}}
	if tc.status == http.StatusOK {
		o.Headers = map[string]string{"X-Certgate-User": tc.client, "X-Certgate-Groups": clientGroups[tc.client], "X-Certgate-Permission": tc.permission}
	}
	return o
}

func TestNGINXStyleHTTPCheckDecidesLikeGRPC(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustDev)
	for _, tc := range decisionCases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := client.NGINXRequest("http://"+r.httpAddr, client.Check{CertPEM: w.clients[tc.client], Method: tc.method, Target: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantHTTPOutcome(tc), doHTTPCheck(t, req)); diff != "" {
				t.Errorf("%s %s as %s (-want +got):\n%s", tc.method, tc.target, tc.client, diff)
			}
		})
	}
}

func TestHTTPCheckBelievesOnlyASuccessfulProxyVerdict(t *testing.T) {
	w := newWorld(t)
	r := startCertgate(t, w, trustDev)
	for _, verdict := range []string{"NONE", "FAILED:certificate has expired", "", "success", "SUCCESS,SUCCESS"} {
		t.Run("Ssl-Client-Verify "+verdict, func(t *testing.T) {
			req, err := client.NGINXRequest("http://"+r.httpAddr, client.Check{CertPEM: w.clients["admin"], Method: "GET", Target: "/api/v1/vm"})
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Ssl-Client-Verify", verdict)
			if got := doHTTPCheck(t, req); got.Status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", got.Status)
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	r := startCertgate(t, newWorld(t), trustDev)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + r.httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d, want 200", path, resp.StatusCode)
		}
	}
}
