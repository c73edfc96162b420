package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
)

func overwrite(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: name, Value: value}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
}

func TestCheckResponse(t *testing.T) {
	tests := []struct {
		name string
		res  Result
		want *authv3.CheckResponse
	}{
		{
			"an allow sets the upstream headers and removes the client's copies",
			Result{Status: http.StatusOK, Allow: true, UpstreamHeaders: []Header{{HeaderUser, "jenkins"}, {"x-team", "ci"}}, RemoveHeaders: []string{"x-certgate-extra"}},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.OK)}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{overwrite(HeaderUser, "jenkins"), overwrite("x-team", "ci")}, HeadersToRemove: []string{"x-certgate-extra"},
			}}},
		},
		{
			"a 403 carries the policy's response headers and, by default, no permission",
			Result{Status: http.StatusForbidden, Permission: "start_vm", ResponseHeaders: []Header{{"www-authenticate", "mTLS"}}},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "Forbidden"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json"), overwrite("www-authenticate", "mTLS")},
				Body:    `{"status":"FAIL","message":"Forbidden"}`,
			}}},
		},
		{
			"a 403 names the permission when the Checker is told to",
			Result{Status: http.StatusForbidden, Permission: "start_vm", namePermission: true},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "Forbidden"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json")},
				Body:    `{"status":"FAIL","message":"Forbidden","permission":"start_vm"}`,
			}}},
		},
		{
			"a 401",
			Result{Status: http.StatusUnauthorized},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.Unauthenticated), Message: "Unauthorized"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Unauthorized},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json")},
				Body:    `{"status":"FAIL","message":"Authentication Required"}`,
			}}},
		},
		{
			"a policy's 503 is a deny with that status, its code and its own body",
			Result{Status: http.StatusServiceUnavailable},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.Unavailable), Message: "Service Unavailable"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json")},
				Body:    `{"status":"FAIL","message":"Service Unavailable"}`,
			}}},
		},
		{
			"a policy's 429 keeps its response headers",
			Result{Status: http.StatusTooManyRequests, ResponseHeaders: []Header{{"retry-after", "30"}}},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.ResourceExhausted), Message: "Too Many Requests"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_TooManyRequests},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json"), overwrite("retry-after", "30")},
				Body:    `{"status":"FAIL","message":"Too Many Requests"}`,
			}}},
		},
		{
			"a 4xx without a name is a client error",
			Result{Status: 460},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.FailedPrecondition), Message: "Client Error"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: 460},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json")},
				Body:    `{"status":"FAIL","message":"Client Error"}`,
			}}},
		},
		{
			"a status no deny has is answered as a 500",
			Result{Status: 302},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.Internal), Message: "Internal Server Error"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_InternalServerError},
				Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json")},
				Body:    `{"status":"FAIL","message":"Internal Server Error"}`,
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the shared parts must come out unchanged the second time
				if got := checkResponse(&tt.res); !proto.Equal(got, tt.want) {
					t.Fatalf("checkResponse =\n%v\nwant\n%v", got, tt.want)
				}
			}
		})
	}
}

// headersPolicy allows GET with a permission named by the path ("" on
// /open), and sets upstream headers that copy identity data, are empty, or
// name headers certgate keeps for itself; it denies everything else with
// response headers.
const headersPolicy = `package certgate.authz

decision := {"allow": false, "status": 403, "reason": "no_route", "permission": "",
	"headers": {}, "response_headers": {"x-denied-user": input.identity.user, "x-empty": ""}} if {
	input.request.method != "GET"
}

decision := {
	"allow": true, "status": 200, "reason": "granted", "permission": permission,
	"headers": {
		"x-copied-user": input.identity.user,
		"x-copied-groups": concat("|", input.identity.groups),
		"x-empty": "",
		"x-certgate-role": "builder",
		"x-certgate-team": "",
		"X-HTTP-Method-Override": "DELETE",
		"x-certgate-user": "admin",
	},
	"response_headers": {},
} if {
	input.request.method == "GET"
	permission := object.get({"/read": "read"}, input.request.path, "")
}
`

// serveAuthz serves checker's ext_authz service on a real loopback gRPC
// listener until the test ends.
func serveAuthz(t *testing.T, checker *Checker) authv3.AuthorizationClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	authv3.RegisterAuthorizationServer(srv, NewAuthorizationServer(checker, ListenerTrust{}))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}

func fingerprint(c *pki.Certificate) string {
	sum := sha256.Sum256(c.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// The upstream request must carry exactly what certgate means: an identity
// header is set with a valid, encoded value or removed, and so is every
// other x-certgate-* header and the method override headers, whatever the
// client sent and in whichever case.
func TestCheckResponseOverGRPCSetsOrRemovesEveryIdentityHeader(t *testing.T) {
	checker, ca := policyChecker(t, headersPolicy)
	authz := serveAuthz(t, checker)
	noGroups := ca.Leaf("nogroups")
	noCN := ca.Leaf("", pkitest.Orgs("viewers"))
	hostile := ca.Leaf("viewer\r\nx-injected: 1", pkitest.Orgs("ops\x00", "José, Ltd", " admins", "50%"))
	overrides := []string{"x-http-method-override", "x-http-method", "x-method-override"}
	removed := func(names ...string) []string { return append(slices.Clone(overrides), names...) }
	tests := []struct {
		name   string
		cert   *pki.Certificate
		target string
		// sent are client headers, in the map as a non-Envoy client could
		// send them (any case).
		sent map[string]string
		want *authv3.OkHttpResponse
	}{
		{
			"a certificate without O removes x-certgate-groups, the client's copy too",
			noGroups, "/read", map[string]string{"X-Certgate-Groups": "admins", "x-certgate-user": "admin"},
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderUser, "nogroups"), overwrite(HeaderPermission, "read"), overwrite(HeaderFingerprint, fingerprint(noGroups)),
					overwrite("x-certgate-role", "builder"), overwrite("x-copied-user", "nogroups"),
				},
				HeadersToRemove: removed(HeaderGroups, "x-certgate-team", "x-copied-groups", "x-empty"),
			},
		},
		{
			"a certificate without O removes x-certgate-groups when the client sent none",
			noGroups, "/read", nil,
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderUser, "nogroups"), overwrite(HeaderPermission, "read"), overwrite(HeaderFingerprint, fingerprint(noGroups)),
					overwrite("x-certgate-role", "builder"), overwrite("x-copied-user", "nogroups"),
				},
				HeadersToRemove: removed(HeaderGroups, "x-certgate-team", "x-copied-groups", "x-empty"),
			},
		},
		{
			"a certificate without CN removes x-certgate-user, and an allow without a permission x-certgate-permission",
			noCN, "/open", map[string]string{"X-CERTGATE-USER": "admin", "X-Certgate-Permission": "admin"},
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderGroups, "viewers"), overwrite(HeaderFingerprint, fingerprint(noCN)),
					overwrite("x-certgate-role", "builder"), overwrite("x-copied-groups", "viewers"),
				},
				HeadersToRemove: removed(HeaderUser, HeaderPermission, "x-certgate-team", "x-copied-user", "x-empty"),
			},
		},
		{
			"CR, LF, NUL, UTF-8, '%' and edge spaces of the subject are percent-encoded everywhere",
			hostile, "/read", nil,
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderUser, "viewer%0D%0Ax-injected: 1"),
					overwrite(HeaderGroups, "ops%00,Jos%C3%A9%2C Ltd,%20admins,50%25"),
					overwrite(HeaderPermission, "read"), overwrite(HeaderFingerprint, fingerprint(hostile)),
					overwrite("x-certgate-role", "builder"),
					overwrite("x-copied-groups", "ops%00|Jos%C3%A9, Ltd| admins|50%25"),
					overwrite("x-copied-user", "viewer%0D%0Ax-injected: 1"),
				},
				HeadersToRemove: removed("x-certgate-team", "x-empty"),
			},
		},
		{
			"client-sent x-certgate-* and override headers in any case are removed",
			noGroups, "/read", map[string]string{"X-Certgate-Anything": "1", "x-CERTGATE-role": "admin", "X-Certgate-Zz": "1", "X-HTTP-Method-Override": "DELETE", "X-Method-Override": "PUT"},
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderUser, "nogroups"), overwrite(HeaderPermission, "read"), overwrite(HeaderFingerprint, fingerprint(noGroups)),
					overwrite("x-certgate-role", "builder"), overwrite("x-copied-user", "nogroups"),
				},
				HeadersToRemove: removed(HeaderGroups, "x-certgate-anything", "x-certgate-team", "x-certgate-zz", "x-copied-groups", "x-empty"),
			},
		},
		{
			// Envoy passes names with underscores by default, and CGI,
			// PHP-FPM and Rack servers read X_Certgate_User as
			// x-certgate-user (HTTP_X_CERTGATE_USER).
			"client-sent underscore spellings of x-certgate-* and override headers are removed",
			noGroups, "/read", map[string]string{"X_Certgate_User": "admin", "x_certgate-groups": "admins", "X_HTTP_Method_Override": "DELETE", "x_method_override": "PUT", "x_other": "1"},
			&authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					overwrite(HeaderUser, "nogroups"), overwrite(HeaderPermission, "read"), overwrite(HeaderFingerprint, fingerprint(noGroups)),
					overwrite("x-certgate-role", "builder"), overwrite("x-copied-user", "nogroups"),
				},
				HeadersToRemove: removed(HeaderGroups, "x-certgate-team", "x-copied-groups", "x-empty", "x_certgate-groups", "x_certgate_user", "x_http_method_override", "x_method_override"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := client.EnvoyRequest(client.Check{CertPEM: tt.cert.CertPEM(), Method: "GET", Target: tt.target, Host: "app"})
			for k, v := range tt.sent {
				req.GetAttributes().GetRequest().GetHttp().GetHeaders()[k] = v
			}
			resp, err := authz.Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := &authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.OK)}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: tt.want}}
			resp.DynamicMetadata = nil // varies: TestDynamicMetadataOverGRPCNamesTheDecisionLogLine checks it
			if !proto.Equal(resp, want) {
				t.Fatalf("CheckResponse =\n%v\nwant\n%v", resp, want)
			}
		})
	}
}

func TestDeniedResponseOverGRPCEncodesThePolicysHeaders(t *testing.T) {
	checker, ca := policyChecker(t, headersPolicy)
	authz := serveAuthz(t, checker)
	hostile := ca.Leaf("viewer\r\nx-injected: 1\x00", pkitest.Orgs("viewers"))
	resp, err := authz.Check(context.Background(), client.EnvoyRequest(client.Check{CertPEM: hostile.CertPEM(), Method: "POST", Target: "/read", Host: "app"}))
	if err != nil {
		t.Fatal(err)
	}
	want := &authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "Forbidden"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		Headers: []*corev3.HeaderValueOption{overwrite("content-type", "application/json"), overwrite("x-denied-user", "viewer%0D%0Ax-injected: 1%00")},
		Body:    `{"status":"FAIL","message":"Forbidden"}`,
	}}}
	resp.DynamicMetadata = nil // varies: TestDynamicMetadataOverGRPCNamesTheDecisionLogLine checks it
	if !proto.Equal(resp, want) {
		t.Fatalf("CheckResponse =\n%v\nwant\n%v", resp, want)
	}
}

// loggingChecker is policyChecker with the decision log written to w as JSON.
func loggingChecker(t *testing.T, rego string, w io.Writer) (*Checker, *pkitest.CA) {
	t.Helper()
	engine, err := policy.LoadFS(context.Background(), fstest.MapFS{"authz.rego": {Data: []byte(rego)}})
	if err != nil {
		t.Fatal(err)
	}
	return checkerWith(t, engine, Options{Logger: slog.New(slog.NewJSONHandler(w, nil))})
}

// loggedDecision is the part of a decision log line a proxy's log joins on.
type loggedDecision struct {
	DecisionID string `json:"decision_id"`
	Revision   uint64 `json:"revision"`
	Cause      string `json:"cause"`
}

// onlyLoggedDecision decodes the one decision line of logs.
func onlyLoggedDecision(t *testing.T, logs string) loggedDecision {
	t.Helper()
	var found []loggedDecision
	for _, raw := range strings.Split(strings.TrimSpace(logs), "\n") {
		var line struct {
			Msg string `json:"msg"`
			loggedDecision
		}
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if line.Msg == "decision" {
			found = append(found, line.loggedDecision)
		}
	}
	if len(found) != 1 || found[0].DecisionID == "" {
		t.Fatalf("decision lines %+v in %q, want one with a decision_id", found, logs)
	}
	return found[0]
}

// Envoy files a CheckResponse's dynamic metadata under the ext_authz
// namespace, where its access log can print it: on allows and denies it
// names the decision log line, its revision and its cause.
func TestDynamicMetadataOverGRPCNamesTheDecisionLogLine(t *testing.T) {
	var logs strings.Builder
	checker, ca := loggingChecker(t, headersPolicy, &logs)
	authz := serveAuthz(t, checker)
	leaf := ca.Leaf("jenkins", pkitest.Orgs("ci"))
	for _, tc := range []struct {
		name  string
		check client.Check
		code  codes.Code
	}{
		{"an allow", client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/read", Host: "app"}, codes.OK},
		{"a policy's deny", client.Check{CertPEM: leaf.CertPEM(), Method: "POST", Target: "/read", Host: "app"}, codes.PermissionDenied},
		{"a request without a certificate", client.Check{Method: "GET", Target: "/read", Host: "app"}, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			resp, err := authz.Check(context.Background(), client.EnvoyRequest(tc.check))
			if err != nil {
				t.Fatal(err)
			}
			if got := codes.Code(resp.GetStatus().GetCode()); got != tc.code {
				t.Fatalf("status %v, want %v", got, tc.code)
			}
			line := onlyLoggedDecision(t, logs.String())
			want, err := structpb.NewStruct(map[string]any{"decision_id": line.DecisionID, "revision": float64(line.Revision), "cause": line.Cause})
			if err != nil {
				t.Fatal(err)
			}
			if line.Revision != 1 || !proto.Equal(resp.GetDynamicMetadata(), want) {
				t.Errorf("dynamic_metadata %v, want %v from the decision line %+v (revision 1)", resp.GetDynamicMetadata(), want, line)
			}
		})
	}
}
