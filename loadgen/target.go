package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
)

// Target sends prepared requests to one server and reads the status of each
// answer. Prepare is called once, before timing starts; Do from many
// goroutines at once.
type Target interface {
	// Name describes the target in reports, e.g. "grpc 127.0.0.1:9191".
	Name() string
	Prepare(reqs []Request) error
	// Do sends request i of the prepared list for worker w and returns the
	// HTTP status of the decision.
	Do(ctx context.Context, w, i int) (int, error)
	Close() error
}

// GRPCTarget is an ext_authz v3 server reached over Connections gRPC
// connections (plaintext, as Envoy reaches a sidecar, or TLS for a
// certgate with listen.tls).
type GRPCTarget struct {
	addr    string
	conns   []*grpc.ClientConn
	clients []authv3.AuthorizationClient
	reqs    []*authv3.CheckRequest
	// tmpls[i] is request i's target around IDPlaceholder, nil without one.
	tmpls []*template
}

// NewGRPCTarget dials addr with n connections (at least one). Worker w uses
// connection w mod n.
func NewGRPCTarget(addr string, n int) (*GRPCTarget, error) {
	return NewGRPCTargetTLS(addr, n, nil)
}

// NewGRPCTargetTLS is NewGRPCTarget over TLS with tc (the proxy's client
// certificate and certgate's CA), or plaintext when tc is nil.
func NewGRPCTargetTLS(addr string, n int, tc *tls.Config) (*GRPCTarget, error) {
	creds := insecure.NewCredentials()
	if tc != nil {
		creds = credentials.NewTLS(tc)
	}
	t := &GRPCTarget{addr: addr}
	for range max(n, 1) {
		// Each connection gets its own HTTP/2 transport: grpc-go does not
		// share one between ClientConns.
		conn, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<20)))
		if err != nil {
			_ = t.Close()
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		conn.Connect()
		t.conns = append(t.conns, conn)
		t.clients = append(t.clients, authv3.NewAuthorizationClient(conn))
	}
	return t, nil
}

// Name implements Target.
func (t *GRPCTarget) Name() string { return "grpc " + t.addr }

// Prepare builds the CheckRequests once; they are only read afterwards.
func (t *GRPCTarget) Prepare(reqs []Request) error {
	t.reqs = make([]*authv3.CheckRequest, len(reqs))
	t.tmpls = make([]*template, len(reqs))
	for i, r := range reqs {
		t.reqs[i] = client.EnvoyRequest(r.Check)
		if tp, ok := splitTemplate(r.Check.Target); ok {
			t.tmpls[i] = &tp
		}
	}
	return nil
}

// withPath returns a copy of r that asks about path instead; r's messages
// other than the HTTP request are shared, and only read.
func withPath(r *authv3.CheckRequest, path string) *authv3.CheckRequest {
	a := r.GetAttributes()
	h := a.GetRequest().GetHttp()
	headers := maps.Clone(h.GetHeaders())
	headers[":path"] = path
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: a.GetSource(), Destination: a.GetDestination(),
		ContextExtensions: a.GetContextExtensions(), MetadataContext: a.GetMetadataContext(),
		Request: &authv3.AttributeContext_Request{Time: a.GetRequest().GetTime(), Http: &authv3.AttributeContext_HttpRequest{
			Id: h.GetId(), Method: h.GetMethod(), Headers: headers, Path: path, Host: h.GetHost(), Scheme: h.GetScheme(),
			Query: h.GetQuery(), Fragment: h.GetFragment(), Size: h.GetSize(), Protocol: h.GetProtocol(), Body: h.GetBody(),
		}},
	}}
}

// Do implements Target.
func (t *GRPCTarget) Do(ctx context.Context, w, i int) (int, error) {
	req := t.reqs[i]
	if tp := t.tmpls[i]; tp != nil {
		req = withPath(req, tp.fill())
	}
	resp, err := t.clients[w%len(t.clients)].Check(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("ext_authz Check: %w", err)
	}
	// Envoy lets a request through on status OK, whatever else the
	// response says.
	if resp.GetStatus().GetCode() == int32(codes.OK) {
		return http.StatusOK, nil
	}
	if d := resp.GetDeniedResponse(); d != nil && d.GetStatus() != nil {
		return int(d.GetStatus().GetCode()), nil
	}
	return 0, fmt.Errorf("ext_authz Check: response with gRPC code %d has neither ok nor denied response", resp.GetStatus().GetCode())
}

// Close closes every connection.
func (t *GRPCTarget) Close() error {
	for _, c := range t.conns {
		_ = c.Close()
	}
	return nil
}

// HTTPTarget is an auth_request endpoint asked the way NGINX asks it.
type HTTPTarget struct {
	addr    string
	base    string
	client  *http.Client
	prepped []prepared
}

type prepared struct {
	url    string
	header http.Header
	tmpl   *template // the original target around IDPlaceholder, nil without one
}

// NewHTTPTarget returns a target for the check endpoint at addr, keeping up
// to conns idle keep-alive connections (NGINX keeps a pool too).
func NewHTTPTarget(addr string, conns int) *HTTPTarget {
	return NewHTTPTargetTLS(addr, conns, nil)
}

// NewHTTPTargetTLS is NewHTTPTarget over HTTPS with tc (the proxy's client
// certificate and certgate's CA), or plain HTTP when tc is nil. NGINX
// speaks HTTP/1.1 to it either way.
func NewHTTPTargetTLS(addr string, conns int, tc *tls.Config) *HTTPTarget {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		TLSClientConfig:     tc,
	}
	scheme := "http://"
	if tc != nil {
		scheme = "https://"
	}
	return &HTTPTarget{addr: addr, base: scheme + addr, client: &http.Client{Transport: tr}}
}

// Name implements Target.
func (t *HTTPTarget) Name() string {
	if strings.HasPrefix(t.base, "https://") {
		return "https " + t.addr
	}
	return "http " + t.addr
}

// Prepare builds each subrequest's URL and headers once; the headers are
// shared by the requests built from them and never written.
func (t *HTTPTarget) Prepare(reqs []Request) error {
	t.prepped = make([]prepared, len(reqs))
	for i, r := range reqs {
		req, err := client.NGINXRequest(t.base, r.Check)
		if err != nil {
			return err
		}
		t.prepped[i] = prepared{url: req.URL.String(), header: req.Header}
		if tp, ok := splitTemplate(r.Check.Target); ok {
			t.prepped[i].tmpl = &tp
		}
	}
	return nil
}

// Do implements Target.
func (t *HTTPTarget) Do(ctx context.Context, _, i int) (int, error) {
	p := &t.prepped[i]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return 0, fmt.Errorf("build check request: %w", err)
	}
	req.Header = p.header
	if p.tmpl != nil {
		req.Header = p.header.Clone()
		req.Header.Set("X-Original-URI", p.tmpl.fill())
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("HTTP check: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Close drops the idle connections.
func (t *HTTPTarget) Close() error {
	t.client.CloseIdleConnections()
	return nil
}
