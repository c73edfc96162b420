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
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/structpb"
)

// AuthorizationServer adapts Envoy's ext_authz v3 Check to the Checker.
type AuthorizationServer struct {
	authv3.UnimplementedAuthorizationServer
	checker *Checker
	trust   ListenerTrust
	// peers may ask; a check from another is denied (listen.allowed_peers).
	peers AllowedPeers
}

// NewAuthorizationServer returns the ext_authz v3 service for checker,
// believing forwarded certificate headers as trust says. Envoy's
// source.certificate needs no trust; XFCC does, and only behind an Envoy
// with forward_client_cert_details: SANITIZE_SET.
func NewAuthorizationServer(checker *Checker, trust ListenerTrust) *AuthorizationServer {
	return &AuthorizationServer{checker: checker, trust: trust}
}

// Check answers one ext_authz request. Decisions are carried in the
// response's status, never as a gRPC error: an error would let Envoy's
// failure_mode_allow decide instead of certgate.
func (s *AuthorizationServer) Check(ctx context.Context, in *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	req := RequestFromCheck(in)
	req.Adapter, req.RemovesHeaders = "grpc", true
	var res Result
	var addr string
	if s.peers != nil || s.trust.Families != 0 { // the hot path reads no peer otherwise
		addr = peerAddr(ctx)
	}
	if !s.peers.Allows(addr) {
		res = s.checker.rejectPeer(ctx, req, addr)
	} else {
		req.Trust = s.trust.For(addr)
		res = s.checker.Check(ctx, req)
	}
	return checkResponse(&res), nil
}

// RequestFromCheck is the Request of an ext_authz CheckRequest: its HTTP
// request and Envoy's peer certificate. What depends on who asks (Trust,
// Adapter, RemovesHeaders) is left for the caller to set.
func RequestFromCheck(in *authv3.CheckRequest) *Request {
	httpReq := in.GetAttributes().GetRequest().GetHttp()
	return &Request{
		Method:          httpReq.GetMethod(),
		Target:          httpReq.GetPath(),
		Host:            httpReq.GetHost(),
		Scheme:          httpReq.GetScheme(),
		Protocol:        httpReq.GetProtocol(),
		Headers:         envoyHeaders(httpReq),
		PeerCertificate: in.GetAttributes().GetSource().GetCertificate(),
	}
}

// peerAddr is the remote address of the gRPC peer of ctx ("ip:port"), or
// "" when there is none; the listener's trust and allowed peers are
// decided on it.
func peerAddr(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	return p.Addr.String()
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

// Parts of a CheckResponse that never vary are built once and shared by
// every response: gRPC only reads a response while marshalling it, and
// nothing in certgate writes to one after checkResponse returns.
var (
	statusOK        = &rpcstatus.Status{Code: int32(codes.OK)}
	jsonContentType = headerOption(Header{"content-type", "application/json"}, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)
	denyParts       = newDenyParts()
)

// denyPart is the fixed part of a deny response with one HTTP status.
type denyPart struct {
	status *rpcstatus.Status
	http   *typev3.HttpStatus
}

// newDenyParts builds the parts of every status a deny may have (400 to
// 599: a policy may choose any), so that no deny allocates them.
func newDenyParts() map[int]denyPart {
	parts := make(map[int]denyPart, maxDenyStatus-minDenyStatus+1)
	for st := minDenyStatus; st <= maxDenyStatus; st++ {
		parts[st] = denyPart{status: denyStatus(st), http: &typev3.HttpStatus{Code: typev3.StatusCode(st)}}
	}
	return parts
}

// denyStatus is the gRPC status of a deny: the code of its HTTP status and
// the status's name, nothing of the request.
func denyStatus(status int) *rpcstatus.Status {
	msg := http.StatusText(status)
	if msg == "" {
		msg = denyMessage(status)
	}
	return &rpcstatus.Status{Code: int32(grpcCode(status)), Message: msg}
}

// allowParts and deniedParts are the messages of one response, allocated at
// once: the response, its oneof wrapper, its HTTP part and its metadata.
type allowParts struct {
	resp authv3.CheckResponse
	ok   authv3.CheckResponse_OkResponse
	http authv3.OkHttpResponse
	md   metadataParts
}

type deniedParts struct {
	resp   authv3.CheckResponse
	denied authv3.CheckResponse_DeniedResponse
	http   authv3.DeniedHttpResponse
	md     metadataParts
}

func checkResponse(res *Result) *authv3.CheckResponse {
	if res.Allow {
		p := &allowParts{}
		p.http.HeadersToRemove, p.http.Headers = res.RemoveHeaders, headerOptions(res.UpstreamHeaders, 0)
		p.ok.OkResponse = &p.http
		p.resp.Status, p.resp.HttpResponse, p.resp.DynamicMetadata = statusOK, &p.ok, p.md.fill(res)
		return &p.resp
	}
	part, ok := denyParts[res.Status]
	if !ok { // not a deny status (result never makes one): the 500's parts, as the body
		part = denyParts[http.StatusInternalServerError]
	}
	p := &deniedParts{}
	p.http.Status, p.http.Headers, p.http.Body = part.http, headerOptions(res.ResponseHeaders, 1), denyBodyText(res)
	p.http.Headers[0] = jsonContentType
	p.denied.DeniedResponse = &p.http
	p.resp.Status, p.resp.HttpResponse, p.resp.DynamicMetadata = part.status, &p.denied, p.md.fill(res)
	return &p.resp
}

// Keys of the dynamic metadata certgate returns with every decision. Envoy
// files them under the ext_authz filter's namespace, where an access log
// reads them as %DYNAMIC_METADATA(envoy.filters.http.ext_authz:decision_id)%.
const (
	MetadataDecisionID = "decision_id"
	MetadataRevision   = "revision"
	MetadataCause      = "cause"
)

// metadataParts is the dynamic metadata of one decision, allocated at once.
type metadataParts struct {
	md                  structpb.Struct
	id, revision, cause structpb.Value
	idKind, causeKind   structpb.Value_StringValue
	revisionKind        structpb.Value_NumberValue
}

// fill makes p the dynamic metadata that lets a proxy's log line join
// the decision's line in certgate's decision log: its decision_id, the
// revision it was made on and its cause, and returns it. A decision
// without an ID (never recorded) has none: nil.
func (p *metadataParts) fill(res *Result) *structpb.Struct {
	if res.DecisionID == "" {
		return nil
	}
	p.idKind.StringValue = res.DecisionID
	p.id.Kind = &p.idKind
	// A revision counts reloads: far below 2^53, exact as a JSON number.
	p.revisionKind.NumberValue = float64(res.Revision)
	p.revision.Kind = &p.revisionKind
	p.cause.Kind = &p.causeKind
	p.causeKind.StringValue = string(res.Cause)
	p.md.Fields = map[string]*structpb.Value{MetadataDecisionID: &p.id, MetadataRevision: &p.revision, MetadataCause: &p.cause}
	return &p.md
}

// headerOptions converts hs to overwriting header options after skip empty
// slots, allocating the messages of all of them at once.
func headerOptions(hs []Header, skip int) []*corev3.HeaderValueOption {
	out := make([]*corev3.HeaderValueOption, skip+len(hs))
	if len(hs) == 0 {
		return out
	}
	// An option and its value side by side: one allocation for both.
	type option struct {
		opt   corev3.HeaderValueOption
		value corev3.HeaderValue
	}
	opts := make([]option, len(hs))
	for i, h := range hs {
		o := &opts[i]
		o.value.Key, o.value.Value = h.Name, h.Value
		o.opt.Header = &o.value
		o.opt.AppendAction = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		out[skip+i] = &o.opt
	}
	return out
}

func headerOption(h Header, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
		AppendAction: action,
	}
}

// grpcCode maps a decision's HTTP status to the status code Envoy reads
// (google.rpc.Code's own HTTP mapping). Envoy denies on any code but OK
// and answers the client with the DeniedHttpResponse's status; the code
// is for its logs and for gRPC clients of the check.
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
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusRequestedRangeNotSatisfiable:
		return codes.OutOfRange
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499: // client closed request
		return codes.Canceled
	case http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	}
	if status >= 400 && status < 500 {
		return codes.FailedPrecondition
	}
	return codes.Internal
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
