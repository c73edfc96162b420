package server

import (
	"context"
	"net/http"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

// AuthorizationServer adapts Envoy's ext_authz v3 Check to the Checker.
type AuthorizationServer struct {
	authv3.UnimplementedAuthorizationServer
	checker *Checker
}

// NewAuthorizationServer returns the ext_authz v3 service for checker.
func NewAuthorizationServer(checker *Checker) *AuthorizationServer {
	return &AuthorizationServer{checker: checker}
}

// Check answers one ext_authz request. Decisions are carried in the
// response's status, never as a gRPC error: an error would let Envoy's
// failure_mode_allow decide instead of certgate.
func (s *AuthorizationServer) Check(ctx context.Context, in *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	httpReq := in.GetAttributes().GetRequest().GetHttp()
	req := &Request{
		Method:          httpReq.GetMethod(),
		Target:          httpReq.GetPath(),
		Host:            httpReq.GetHost(),
		Scheme:          httpReq.GetScheme(),
		Protocol:        httpReq.GetProtocol(),
		Headers:         envoyHeaders(httpReq),
		PeerCertificate: in.GetAttributes().GetSource().GetCertificate(),
		Adapter:         "grpc",
	}
	res := s.checker.Check(ctx, req)
	return checkResponse(&res), nil
}

// envoyHeaders returns the request headers with lower-case names, from the
// plain map or, when Envoy sends raw headers, from header_map (repeated
// names joined with "," as Envoy does in the map form). Envoy lower-cases
// names itself; a map that does not is lower-cased here, names that then
// collide are joined in sorted order, so a duplicate stays visible and is
// never resolved by map iteration order.
func envoyHeaders(r *authv3.AttributeContext_HttpRequest) map[string]string {
	if h := r.GetHeaders(); len(h) > 0 {
		return lowerHeaderMap(h)
	}
	raw := r.GetHeaderMap().GetHeaders()
	out := make(map[string]string, len(raw))
	for _, hv := range raw {
		name := strings.ToLower(hv.GetKey())
		value := hv.GetValue()
		if value == "" {
			value = string(hv.GetRawValue())
		}
		if prev, ok := out[name]; ok {
			value = prev + "," + value
		}
		out[name] = value
	}
	return out
}

func checkResponse(res *Result) *authv3.CheckResponse {
	if res.Allow {
		ok := &authv3.OkHttpResponse{HeadersToRemove: res.RemoveHeaders}
		for _, h := range res.UpstreamHeaders {
			ok.Headers = append(ok.Headers, headerOption(h, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
		}
		return &authv3.CheckResponse{
			Status:       &rpcstatus.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
		}
	}
	denied := &authv3.DeniedHttpResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(res.Status)},
		Headers: []*corev3.HeaderValueOption{headerOption(Header{"content-type", "application/json"}, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)},
		Body:    string(DenyBody(res)),
	}
	for _, h := range res.ResponseHeaders {
		denied.Headers = append(denied.Headers, headerOption(h, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(grpcCode(res.Status)), Message: http.StatusText(res.Status)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: denied},
	}
}

func headerOption(h Header, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
		AppendAction: action,
	}
}

// grpcCode maps a decision's HTTP status to the status code Envoy reads.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusOK:
		return codes.OK
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusBadRequest:
		return codes.InvalidArgument
	default:
		return codes.Internal
	}
}

// lowerHeaderMap returns h with lower-case names; it returns h itself when
// every name already is.
func lowerHeaderMap(h map[string]string) map[string]string {
	lower := true
	for name := range h {
		if name != strings.ToLower(name) {
			lower = false
			break
		}
	}
	if lower {
		return h
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]string, len(h))
	for _, name := range names {
		key := strings.ToLower(name)
		if prev, ok := out[key]; ok {
			out[key] = prev + "," + h[name]
			continue
		}
		out[key] = h[name]
	}
	return out
}
