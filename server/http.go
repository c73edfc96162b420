package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/certgate/certgate/identity"
)

// CheckPath is the HTTP check endpoint for NGINX auth_request and
// ingress-nginx auth-url; CheckPath + "/<path>" serves Envoy's HTTP
// ext_authz mode (path_prefix).
const CheckPath = "/v1/check"

// NewHTTPHandler returns the HTTP listener's handler: the check endpoint,
// believing forwarded certificate headers as trust says (NGINX sets
// ssl_client_cert), /healthz (the process is up) and /readyz (a snapshot
// is loaded).
func NewHTTPHandler(checker *Checker, trust ListenerTrust) http.Handler {
	return newHTTPMux(checker, trust, nil, nil, nil)
}

// newHTTPMux is the check listener's handler; draining, when set and true,
// makes /readyz answer 503 so load balancers stop sending. Metrics are
// served on their own listener (newMetricsMux), not here. Checks run on
// workers when it is not nil. A check from a peer outside peers (nil: any)
// is denied with 403 peer_not_allowed; the probes answer every peer.
func newHTTPMux(checker *Checker, trust ListenerTrust, peers AllowedPeers, draining func() bool, workers *warmPool) http.Handler {
	mux := http.NewServeMux()
	handleProbes(mux, checker, draining)
	check := &httpCheck{checker: checker, trust: trust, peers: peers, workers: workers}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The check endpoint is dispatched before ServeMux, which answers a
		// path with "//", "." or ".." segments with a redirect: below
		// /v1/check such a path is Envoy's HTTP-mode request to decide,
		// and a redirect would be neither a decision nor logged.
		if p := r.URL.Path; p == CheckPath || strings.HasPrefix(p, CheckPath+"/") {
			check.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// decisionIDKey is HeaderDecisionID in net/http's canonical form, computed once.
var decisionIDKey = http.CanonicalHeaderKey(HeaderDecisionID)

// canonicalKeys are the canonical forms of the headers every allow sets,
// computed once instead of per response.
var canonicalKeys = func() map[string]string {
	keys := make(map[string]string, len(identityHeaders))
	for _, name := range identityHeaders {
		keys[name] = http.CanonicalHeaderKey(name)
	}
	return keys
}()

// The values of a deny's fixed headers. net/http only reads a response's
// header values, so every response can share them.
var (
	jsonContentTypeValue = []string{"application/json"}
	noStoreValue         = []string{"no-store"}
)

// setHeaders sets the decision ID (when there is one) and hs on a
// response, as Header.Set would, with the values' slices allocated at
// once.
func setHeaders(hdr http.Header, decisionID string, hs []Header) {
	values := make([]string, 0, len(hs)+1)
	if decisionID != "" {
		values = append(values, decisionID)
		hdr[decisionIDKey] = values[0:1:1]
	}
	for _, h := range hs {
		key, ok := canonicalKeys[h.Name]
		if !ok {
			key = http.CanonicalHeaderKey(h.Name)
		}
		values = append(values, h.Value)
		n := len(values)
		hdr[key] = values[n-1 : n : n]
	}
}

type httpCheck struct {
	checker *Checker
	trust   ListenerTrust
	peers   AllowedPeers
	// workers run the checks; net/http starts a goroutine per connection.
	workers *warmPool
}

func (h *httpCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var res Result
	if !h.peers.Allows(r.RemoteAddr) {
		h.write(w, h.checker.rejectPeer(r.Context(), &Request{Method: r.Method, Target: r.RequestURI, Adapter: "http"}, r.RemoteAddr))
		return
	}
	req, err := h.request(r)
	if err != nil {
		res = h.checker.Reject(r.Context(), &Request{Method: r.Method, Target: r.RequestURI, Adapter: "http"}, http.StatusBadRequest, CauseBadRequest, err.Error())
	} else {
		req.Trust = h.trust.For(r.RemoteAddr)
		res = h.check(r, req)
	}
	h.write(w, res)
}

// write answers with res: 200 and the upstream headers, or the deny.
func (h *httpCheck) write(w http.ResponseWriter, res Result) {
	hdr := w.Header()
	if res.Allow {
		setHeaders(hdr, res.DecisionID, res.UpstreamHeaders)
		w.WriteHeader(http.StatusOK)
		return
	}
	setHeaders(hdr, res.DecisionID, res.ResponseHeaders)
	hdr["Content-Type"] = jsonContentTypeValue
	hdr["Cache-Control"] = noStoreValue
	w.WriteHeader(res.Status)
	_, _ = io.WriteString(w, denyBodyText(&res))
}

// request reads the original request the proxy asks about: from
// X-Original-Method and X-Original-URI (NGINX) or X-Original-URL
// (ingress-nginx) on /v1/check, or from the method and the path below
// /v1/check (Envoy's HTTP mode).
func (h *httpCheck) request(r *http.Request) (*Request, error) {
	headers := lowerHeaders(r.Header)
	req := &Request{Headers: headers, Adapter: "http", Host: headers["x-forwarded-host"], Scheme: headers["x-forwarded-proto"], Protocol: r.Proto}
	raw := r.RequestURI
	if !strings.HasPrefix(raw, "/") { // absolute-form request target
		if _, target, err := splitAbsoluteURL(raw); err == nil {
			raw = target
		}
	}
	if rest, ok := strings.CutPrefix(raw, CheckPath+"/"); ok {
		req.Method = r.Method
		req.Target = "/" + rest
		req.Host = r.Host
		return req, nil
	}
	if raw != CheckPath && !strings.HasPrefix(raw, CheckPath+"?") {
		return nil, fmt.Errorf("unexpected check target %q", truncate(loggedTarget(raw, false), 64))
	}
	// The subrequest's own method is the proxy's (auth_request always
	// sends GET), not the client's: decided as a GET, a client's DELETE
	// would pass wherever a GET may.
	req.Method = headers["x-original-method"]
	if req.Method == "" {
		return nil, fmt.Errorf("missing X-Original-Method header")
	}
	switch {
	case headers["x-original-uri"] != "":
		req.Target = headers["x-original-uri"]
	case headers["x-original-url"] != "":
		host, target, err := splitAbsoluteURL(headers["x-original-url"])
		if err != nil {
			return nil, err
		}
		req.Target = target
		if req.Host == "" {
			req.Host = host
		}
	default:
		return nil, fmt.Errorf("missing X-Original-URI or X-Original-URL header")
	}
	if req.Host == "" {
		req.Host = r.Host
	}
	return req, nil
}

// splitAbsoluteURL splits "https://host/path?q" into host and the raw
// origin-form target, without decoding anything. The authority ends at the
// first '/', '?' or '#', as a URL parser ends it: a '#' there (NGINX
// accepts one in Host, and ingress-nginx builds X-Original-URL from Host)
// starts the target, which NormalizePath then refuses.
func splitAbsoluteURL(u string) (host, target string, err error) {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "", "", fmt.Errorf("X-Original-URL %q is not an absolute URL", truncate(loggedTarget(u, false), 64))
	}
	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		return rest, "/", nil
	}
	target = rest[slash:]
	if target[0] != '/' {
		target = "/" + target
	}
	return rest[:slash], target, nil
}

// lowerHeaders flattens net/http headers into lower-case names, joining
// repeated headers with "," like Envoy does, so duplicates stay visible.
func lowerHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h)+1)
	for name, values := range h {
		lower, ok := lowerNames[name]
		if !ok {
			lower = strings.ToLower(name)
		}
		out[lower] = strings.Join(values, ",")
	}
	return out
}

// lowerNames maps the canonical names of the headers NGINX's subrequest
// carries (certgate.conf) and of common request headers to their
// lower-case forms, so that lowerHeaders need not allocate each of them.
var lowerNames = func() map[string]string {
	names := append([]string{
		"x-original-method", "x-original-uri", "x-original-url", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-for",
		"x-real-ip", "x-request-id", "connection", "host", "user-agent", "accept", "accept-encoding", "accept-language",
		"content-type", "content-length", "authorization", "cookie", "traceparent", "tracestate",
	}, identity.ForwardedCertHeaders...)
	names = append(names, identityHeaders...)
	out := make(map[string]string, len(names))
	for _, name := range names {
		out[http.CanonicalHeaderKey(name)] = name
	}
	return out
}()
