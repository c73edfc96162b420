package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
)

// statusPolicy denies with the status the path names (/status/429), with
// a Retry-After and a reason that must never reach the client.
const statusPolicy = `package certgate.authz

statuses := {"/status/404": 404, "/status/429": 429, "/status/451": 451, "/status/503": 503, "/status/599": 599, "/status/302": 302}

decision := {"allow": false, "status": object.get(statuses, input.request.path, 403), "reason": "secret_internal_reason",
	"permission": "", "headers": {}, "response_headers": {"retry-after": "30"}}
`

// TestAPolicysDenyStatusReachesTheClientWithItsOwnBody: a policy that
// denies with a 4xx or 5xx of its choosing gets that status over gRPC (in
// the DeniedHttpResponse, with the matching code) and over HTTP, with a
// fixed body that names the status and nothing of the decision.
func TestAPolicysDenyStatusReachesTheClientWithItsOwnBody(t *testing.T) {
	checker, ca := policyChecker(t, statusPolicy)
	authz := serveAuthz(t, checker)
	srv := httptest.NewServer(NewHTTPHandler(checker, loopbackTrust))
	t.Cleanup(srv.Close)
	leaf := ca.Leaf("viewer", pkitest.Orgs("viewers"))
	for _, tt := range []struct {
		status int
		code   codes.Code
		body   string
	}{
		{404, codes.NotFound, `{"status":"FAIL","message":"Not Found"}`},
		{429, codes.ResourceExhausted, `{"status":"FAIL","message":"Too Many Requests"}`},
		{451, codes.FailedPrecondition, `{"status":"FAIL","message":"Unavailable For Legal Reasons"}`},
		{503, codes.Unavailable, `{"status":"FAIL","message":"Service Unavailable"}`},
		{599, codes.Internal, `{"status":"FAIL","message":"Server Error"}`},
		// Outside 400–599 a deny is read as 403.
		{302, codes.PermissionDenied, `{"status":"FAIL","message":"Forbidden"}`},
	} {
		want := tt.status
		if want < 400 {
			want = http.StatusForbidden
		}
		check := client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/status/" + strconv.Itoa(tt.status)}
		t.Run(strconv.Itoa(tt.status)+" over gRPC", func(t *testing.T) {
			resp, err := authz.Check(context.Background(), client.EnvoyRequest(check))
			if err != nil {
				t.Fatal(err)
			}
			d := resp.GetDeniedResponse()
			if resp.GetOkResponse() != nil || d == nil || int(d.GetStatus().GetCode()) != want || codes.Code(resp.GetStatus().GetCode()) != tt.code {
				t.Fatalf("CheckResponse %v, want denied %d with code %v", resp, want, tt.code)
			}
			if d.GetBody() != tt.body {
				t.Errorf("body %s, want %s", d.GetBody(), tt.body)
			}
			var retry string
			for _, h := range d.GetHeaders() {
				if h.GetHeader().GetKey() == "retry-after" {
					retry = h.GetHeader().GetValue()
				}
			}
			if retry != "30" {
				t.Errorf("retry-after %q, want the policy's 30", retry)
			}
		})
		t.Run(strconv.Itoa(tt.status)+" over HTTP", func(t *testing.T) {
			req, err := client.NGINXRequest(srv.URL, check)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != want || string(body) != tt.body || resp.Header.Get("Retry-After") != "30" {
				t.Errorf("HTTP %d %s (Retry-After %q), want %d %s (30)", resp.StatusCode, body, resp.Header.Get("Retry-After"), want, tt.body)
			}
		})
	}
}
