package server

import (
	"net/http"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
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
			"an unusual status is still a deny",
			Result{Status: http.StatusServiceUnavailable},
			&authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.Internal), Message: "Service Unavailable"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status:  &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable},
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
