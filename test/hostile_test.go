package test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/server"
)

// The hostile-input table of hostile_cases_test.go against each way in.
// Every decision certgate makes must be logged exactly once with its
// status; a request the transport refuses is logged by nobody.

// adapterCertgates are the certgates the adapters' cases run against: the
// table's (every family believed from 127.0.0.1) and `certgate dev`'s.
type adapterCertgates struct{ all, dev *running }

func startAdapterCertgates(t *testing.T, h *hostileWorld) adapterCertgates {
	return adapterCertgates{all: startCertgate(t, h.world, trustAll), dev: startCertgate(t, h.world, trustDev)}
}

func (a adapterCertgates) of(tc hostileCase) *running {
	if tc.dev {
		return a.dev
	}
	return a.all
}

// localAddr is where tc's request comes from: nil for 127.0.0.1, the
// trusted proxy.
func (tc hostileCase) localAddr() *net.TCPAddr {
	if tc.otherPeer {
		return otherPeer
	}
	return nil
}

func TestHostileInputsOverGRPC(t *testing.T) {
	h := newHostileWorld(t)
	certgates := startAdapterCertgates(t, h)
	clients := map[[2]bool]authv3.AuthorizationClient{}
	for _, dev := range []bool{false, true} {
		r := certgates.of(hostileCase{dev: dev})
		clients[[2]bool{dev, false}] = r.authzClient(t)
		clients[[2]bool{dev, true}] = r.authzClient(t, otherPeer)
	}
	for _, tc := range hostileCases {
		if tc.nginxOnly {
			continue
		}
		r, authz := certgates.of(tc), clients[[2]bool{tc.dev, tc.otherPeer}]
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.logs.Records(t, "decision"))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := authz.Check(ctx, h.envoyRequest(tc))
			if tc.grpcRefused != codes.OK {
				if status.Code(err) != tc.grpcRefused {
					t.Fatalf("Check error %v, want code %v", err, tc.grpcRefused)
				}
				r.expectDecision(t, before, 0, "grpc")
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			want := tc.status
			if tc.grpcStatus != 0 {
				want = tc.grpcStatus
			}
			got := outcome(t, resp)
			if got.HTTPStatus != want || got.Code != grpcCodeFor(want) {
				t.Fatalf("status %d code %v, want %d %v", got.HTTPStatus, got.Code, want, grpcCodeFor(want))
			}
			if want == http.StatusOK {
				checkAllowOverGRPC(t, tc, resp.GetOkResponse())
			}
			r.expectDecision(t, before, want, "grpc")
			if want == http.StatusBadRequest {
				r.expectRule(t, before, tc.rule)
			}
		})
	}
}

func TestHostileInputsOverHTTP(t *testing.T) {
	h := newHostileWorld(t)
	certgates := startAdapterCertgates(t, h)
	for _, tc := range hostileCases {
		if tc.nginxOnly {
			continue
		}
		r := certgates.of(tc)
		for _, ask := range h.checkRequests(tc) {
			t.Run(tc.name+ask.form, func(t *testing.T) {
				r.hostileHTTP(t, tc, ask)
			})
		}
	}
}

// checkRequest is one way the HTTP adapter is asked about a hostile case.
type checkRequest struct {
	// form is "" for the case as written, else a suffix naming the form.
	form           string
	method, target string
	headers        [][2]string
}

// checkRequests are the ways the HTTP adapter is asked about tc: NGINX's
// subrequest (X-Original-URI, or tc.originalURL in X-Original-URL) or
// tc.checkTarget as written and, for an everyForm case, also with the
// target in an ingress-nginx X-Original-URL and below /v1/check as Envoy's
// HTTP mode sends it.
func (h *hostileWorld) checkRequests(tc hostileCase) []checkRequest {
	subrequest := func(name, value string) [][2]string {
		return append([][2]string{{"X-Original-Method", tc.method}, {name, value}}, h.checkHeaders(tc)...)
	}
	asWritten := checkRequest{method: "GET", target: tc.checkTarget, headers: subrequest("X-Original-URI", tc.target)}
	if asWritten.target == "" {
		asWritten.target = server.CheckPath
	}
	if tc.originalURL != "" {
		asWritten.headers = subrequest("X-Original-URL", tc.originalURL)
	}
	if !tc.everyForm {
		return []checkRequest{asWritten}
	}
	return []checkRequest{asWritten,
		{form: ", in X-Original-URL", method: "GET", target: server.CheckPath, headers: subrequest("X-Original-URL", "https://anka.example"+tc.target)},
		{form: ", in Envoy's HTTP mode", method: tc.method, target: server.CheckPath + tc.target, headers: h.checkHeaders(tc)},
	}
}

// hostileHTTP sends ask to the HTTP adapter and checks tc's answer.
func (r *running) hostileHTTP(t *testing.T, tc hostileCase, ask checkRequest) {
	t.Helper()
	before := len(r.logs.Records(t, "decision"))
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from := tc.localAddr(); from != nil {
		d.LocalAddr = from
	}
	conn, err := d.Dial("tcp", r.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	resp := rawRequest(t, conn, ask.method, ask.target, ask.headers)
	if tc.httpRefused != 0 {
		if resp.StatusCode != tc.httpRefused {
			t.Fatalf("status %d, want %d from net/http", resp.StatusCode, tc.httpRefused)
		}
		r.expectDecision(t, before, 0, "http")
		return
	}
	want := tc.status
	if tc.httpStatus != 0 {
		want = tc.httpStatus
	}
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
	if want == http.StatusOK {
		checkAllowOverHTTP(t, tc, resp.Header)
	}
	r.expectDecision(t, before, want, "http")
	if want == http.StatusBadRequest {
		r.expectRule(t, before, tc.rule)
	}
}

func TestHostileInputsThroughNGINX(t *testing.T) {
	h := newHostileWorld(t)
	r := startCertgate(t, h.world, trustAll)
	n := startNGINX(t, h.world, r.httpAddr, h.keys, h.root, h.clientCA)
	ran := 0
	for _, tc := range hostileCases {
		if tc.nginx == 0 {
			continue
		}
		ran++
		t.Run(tc.name, func(t *testing.T) {
			cfg := n.tlsConfig(t, tc.nginxClient)
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", n.addr, cfg)
			if err != nil {
				t.Fatalf("TLS to NGINX as %q: %v", tc.nginxClient, err)
			}
			var headers [][2]string
			for _, kv := range tc.extra {
				headers = append(headers, [2]string{kv[0], h.value(kv[1])})
			}
			before := len(r.logs.Records(t, "decision"))
			reached, _ := n.upstream.seen()
			resp := rawRequest(t, conn, tc.method, tc.target, headers)
			if resp.StatusCode != tc.nginx {
				t.Fatalf("%s %.80s as %q: status %d, want %d", tc.method, tc.target, tc.nginxClient, resp.StatusCode, tc.nginx)
			}
			// Only an allowed request reaches the app, once and as sent
			// (proxy_pass without a URI forwards the request target).
			got, last := n.upstream.seen()
			switch {
			case tc.nginx != http.StatusOK && got != reached:
				t.Errorf("%d request(s) reached the upstream on a %d, the last %.80q", got-reached, tc.nginx, last)
			case tc.nginx == http.StatusOK && (got != reached+1 || last != tc.method+" "+tc.target):
				t.Errorf("%d request(s) reached the upstream, the last %.80q; want exactly %q", got-reached, last, tc.method+" "+tc.target)
			}
			if resp.StatusCode == http.StatusOK {
				var saw upstreamSaw
				if err := json.Unmarshal(resp.Body, &saw); err != nil {
					t.Fatalf("upstream body %.200q: %v", resp.Body, err)
				}
				checkUpstreamThroughNGINX(t, tc, headers, saw)
			}
			// When certgate decided, it saw the certificate NGINX received
			// (or none), never one the client sent as a header.
			lines := r.logs.Records(t, "decision")
			if len(lines) > before {
				wantSource := "none"
				if tc.nginxClient != "" {
					wantSource = "header"
				}
				if got := lines[len(lines)-1]["source"]; got != wantSource {
					t.Errorf("certgate saw source %v, want %s", got, wantSource)
				}
				noQuerySecret(t, lines[len(lines)-1])
			}
		})
	}
	if ran < 30 {
		t.Errorf("only %d cases ran through NGINX, want at least 30", ran)
	}
}

// envoyRequest is what Envoy would send for tc: the certificate as the peer
// certificate, or in a header; headers in the plain map, or in header_map
// with raw values when names repeat (case-insensitively), as Envoy does.
func (h *hostileWorld) envoyRequest(tc hostileCase) *authv3.CheckRequest {
	var headers [][2]string
	peer := ""
	if tc.cert != "" {
		if tc.header == "" {
			peer = h.values[tc.cert]
		} else {
			headers = append(headers, [2]string{tc.header, h.values[tc.cert]})
			if v := tc.verifyValue(); v != "-" {
				headers = append(headers, [2]string{"ssl-client-verify", v})
			}
		}
	}
	for _, kv := range tc.extra {
		headers = append(headers, [2]string{kv[0], h.value(kv[1])})
	}
	httpReq := &authv3.AttributeContext_HttpRequest{Method: tc.method, Path: tc.target, Host: "anka.example", Scheme: "https", Protocol: "HTTP/1.1"}
	seen := map[string]bool{}
	repeated := false
	for _, kv := range headers {
		repeated = repeated || seen[strings.ToLower(kv[0])]
		seen[strings.ToLower(kv[0])] = true
	}
	if repeated || tc.headerMap {
		httpReq.HeaderMap = &corev3.HeaderMap{}
		for _, kv := range headers {
			httpReq.HeaderMap.Headers = append(httpReq.HeaderMap.Headers, &corev3.HeaderValue{Key: strings.ToLower(kv[0]), RawValue: []byte(kv[1])})
		}
	} else {
		httpReq.Headers = map[string]string{":method": tc.method, ":path": tc.target}
		for _, kv := range headers {
			httpReq.Headers[kv[0]] = kv[1]
		}
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:  &authv3.AttributeContext_Peer{Certificate: peer},
		Request: &authv3.AttributeContext_Request{Http: httpReq},
	}}
}

// verifyValue is the Ssl-Client-Verify tc sends.
func (tc hostileCase) verifyValue() string {
	switch {
	case tc.verify != "":
		return tc.verify
	case tc.cert != "":
		return "SUCCESS"
	}
	return "NONE"
}

// checkHeaders are the certificate and extra headers of the proxy's
// check request for tc.
func (h *hostileWorld) checkHeaders(tc hostileCase) [][2]string {
	var headers [][2]string
	if tc.cert != "" {
		name := tc.header
		if name == "" {
			name = "Ssl-Client-Cert"
		}
		headers = append(headers, [2]string{name, h.values[tc.cert]})
	}
	if v := tc.verifyValue(); v != "-" {
		headers = append(headers, [2]string{"Ssl-Client-Verify", v})
	}
	for _, kv := range tc.extra {
		headers = append(headers, [2]string{kv[0], h.value(kv[1])})
	}
	return headers
}

// rawResponse is the part of a response the tests look at; the body has
// been read and closed.
type rawResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// rawRequest writes an HTTP/1.1 request byte for byte (no client library
// would send most of these) and reads the response.
func rawRequest(t *testing.T, conn net.Conn, method, target string, headers [][2]string) rawResponse {
	t.Helper()
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\n", method, target)
	for _, kv := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], kv[1])
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("write request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	_ = resp.Body.Close()
	return rawResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
}

// expectDecision checks that exactly one decision with status was logged
// since before (none when status is 0), by the named adapter.
func (r *running) expectDecision(t *testing.T, before, status int, adapter string) {
	t.Helper()
	lines := r.logs.Records(t, "decision")
	if status == 0 {
		if len(lines) != before {
			t.Errorf("%d decision log lines for a request certgate never saw", len(lines)-before)
		}
		return
	}
	if len(lines) != before+1 {
		t.Fatalf("%d decision log lines, want 1", len(lines)-before)
	}
	line := lines[before]
	noQuerySecret(t, line)
	if got, _ := line["status"].(float64); int(got) != status || line["adapter"] != adapter {
		t.Errorf("decision log line %v, want status %d from adapter %s", line, status, adapter)
	}
	if line["allow"] != (status == http.StatusOK) || line["decision_id"] == "" {
		t.Errorf("decision log line %v: allow or decision_id wrong", line)
	}
}

// expectRule checks that the decision logged since before refused a path
// for rule: cause ambiguous_path and a reason naming the rule. An empty
// rule checks nothing.
func (r *running) expectRule(t *testing.T, before int, rule string) {
	t.Helper()
	if rule == "" {
		return
	}
	lines := r.logs.Records(t, "decision")
	if len(lines) <= before {
		t.Fatal("no decision logged")
	}
	line := lines[before]
	if reason, _ := line["reason"].(string); line["cause"] != "ambiguous_path" || !strings.Contains(reason, rule) {
		t.Errorf("logged cause %v reason %q, want ambiguous_path naming %q", line["cause"], reason, rule)
	}
}

// querySecret is the query value hostile cases send where a token would
// be: the decision log keeps query keys, never their values.
const querySecret = "s3cr3t-token-value"

func noQuerySecret(t *testing.T, line map[string]any) {
	t.Helper()
	for k, v := range line {
		if s, _ := v.(string); strings.Contains(s, querySecret) {
			t.Errorf("a query value reached the decision log: %s %q", k, s)
		}
	}
}
