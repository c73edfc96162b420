package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/certgate/certgate/client"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

const checkExamples = `  certgate check --cert .certgate-dev/clients/viewer.pem --method GET --path /api/v1/vm
  certgate check --http 127.0.0.1:9192 --cert .certgate-dev/clients/admin.pem --method DELETE --path /api/v1/node
  certgate check --cert client.pem --path /api/v1/vm --admin unix:/run/certgate/admin.sock --json
  certgate check --grpc certgate.internal:9191 --tls-cert proxy.pem --tls-key proxy-key.pem --tls-ca certgate-ca.pem --cert client.pem --path /api/v1/vm
`

// checkAnswer is what check learned about one request: the answer the
// proxy got and, from the admin API, why.
type checkAnswer struct {
	Allow  bool `json:"allow"`
	Status int  `json:"status"`
	// GRPCCode is the gRPC status code of a CheckResponse (gRPC only).
	GRPCCode *int32 `json:"grpc_code,omitempty"`
	// Body is the deny body the client would see.
	Body string `json:"body,omitempty"`
	// Headers are the headers set upstream on an allow.
	Headers map[string]string `json:"headers,omitempty"`
	// Reason and Permission come from the admin API's Explain: the data
	// plane tells clients neither.
	Reason     string `json:"reason,omitempty"`
	Permission string `json:"permission,omitempty"`
	// ReasonUnknown says why there is no Reason.
	ReasonUnknown string `json:"reason_unknown,omitempty"`
}

// runCheck asks a running certgate about one request, as Envoy (gRPC) or
// NGINX (HTTP) would, prints the answer and asks the admin API why. Exit 0
// allow, 1 deny.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newAdminCommand("check", "check [--grpc ADDR | --http ADDR] [--tls-cert FILE --tls-key FILE --tls-ca FILE] [--cert FILE] [--method M] --path P [--json] [--admin ADDR]", checkExamples, stdout, stderr)
	grpcAddr := c.fs.String("grpc", "127.0.0.1:9191", "ext_authz gRPC `address`")
	httpAddr := c.fs.String("http", "", "HTTP check `address`; when set, ask the NGINX-style endpoint instead of gRPC")
	certFile := c.fs.String("cert", "", "client certificate PEM `file`, leaf first (omit to send none)")
	method := c.fs.String("method", "GET", "original request `method`")
	path := c.fs.String("path", "", "original request `target` (path and query); required")
	var headers listFlag
	c.fs.Var(&headers, "header", "extra request header `name=value` (repeatable)")
	var dataTLS dataTLSFlags
	dataTLS.register(c.fs)
	if code, ok := parseFlags(c.fs, args); !ok {
		return code
	}
	req, err := checkRequest(*certFile, *method, *path, headers)
	if err == nil && c.fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %s", quote(c.fs.Arg(0)))
	}
	var tc *tls.Config
	if err == nil {
		tc, err = dataTLS.config()
	}
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, c.flags.timeout)
	defer cancel()
	var ans *checkAnswer
	if *httpAddr != "" {
		ans, err = checkHTTP(ctx, *httpAddr, tc, req)
	} else {
		ans, err = checkGRPC(ctx, *grpcAddr, tc, req)
	}
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitFail
	}
	c.explainAnswer(ctx, req, ans)
	c.printAnswer(ans)
	if !ans.Allow {
		return exitFail
	}
	return exitOK
}

// checkRequest builds the request check sends from its flags.
func checkRequest(certFile, method, path string, headers []string) (client.Check, error) {
	c := client.Check{Method: method, Target: path, Host: "localhost", Headers: map[string]string{}}
	if path == "" {
		return c, errors.New("--path is required: the request target the proxy would send, such as /api/v1/vm")
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, "=")
		if !ok {
			return c, fmt.Errorf("--header %s: want name=value", quote(h))
		}
		c.Headers[name] = value
	}
	if certFile != "" {
		pem, err := readClientCert(certFile)
		if err != nil {
			return c, err
		}
		c.CertPEM = pem
	}
	return c, nil
}

// explainAnswer fills in the reason, which the data plane keeps from
// clients, from the admin API's Explain of the same request.
func (c *adminCommand) explainAnswer(ctx context.Context, req client.Check, ans *checkAnswer) {
	if req.CertPEM == nil {
		if !ans.Allow {
			ans.Reason = "no client certificate was sent (--cert)"
		}
		return
	}
	ex := &adminv1.ExplainRequest{CertificatePem: string(req.CertPEM), Method: req.Method, Path: req.Target, Headers: map[string]string{"host": req.Host}}
	for k, v := range req.Headers {
		ex.Headers[strings.ToLower(k)] = v
	}
	target, err := c.flags.target()
	if err == nil {
		var resp proto.Message
		resp, err = c.explain(ctx, ex)
		if err == nil {
			d := resp.(*adminv1.ExplainResponse).GetDecision()
			if int(d.GetStatus()) != ans.Status {
				ans.ReasonUnknown = fmt.Sprintf("the admin API at %s decided %d, not %d: is it another certgate, or did it reload in between?", target, d.GetStatus(), ans.Status)
				return
			}
			ans.Reason, ans.Permission = d.GetReason(), d.GetPermission()
			return
		}
		err = errors.New(describeAdminError(target, err))
	}
	ans.ReasonUnknown = "certgate tells clients no reason, and asking its admin API failed: " + err.Error()
}

// explain calls Explain without printing a failure.
func (c *adminCommand) explain(ctx context.Context, req *adminv1.ExplainRequest) (proto.Message, error) {
	client, closeConn, err := c.flags.dial()
	if err != nil {
		return nil, err
	}
	defer closeConn()
	return client.Explain(ctx, req)
}

func (c *adminCommand) printAnswer(ans *checkAnswer) {
	if c.flags.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(ans)
		return
	}
	w := c.stdout
	if ans.Allow {
		fmt.Fprint(w, "ALLOW 200")
	} else {
		fmt.Fprintf(w, "DENY %d", ans.Status)
		if ans.GRPCCode != nil {
			fmt.Fprintf(w, " (gRPC code %d)", *ans.GRPCCode)
		}
	}
	if ans.Permission != "" {
		fmt.Fprintf(w, ", permission %s", ans.Permission)
	}
	switch {
	case ans.Reason != "":
		fmt.Fprintf(w, ": %s\n", ans.Reason)
	case !ans.Allow && ans.ReasonUnknown != "":
		fmt.Fprintf(w, "\n  reason unknown: %s\n", ans.ReasonUnknown)
	default:
		fmt.Fprintln(w)
	}
	if ans.Body != "" {
		fmt.Fprintf(w, "  body: %s\n", ans.Body)
	}
	names := make([]string, 0, len(ans.Headers))
	for name := range ans.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %s: %s\n", name, ans.Headers[name])
	}
}

// checkGRPC asks the ext_authz listener at addr, over TLS with tc unless
// it is nil.
func checkGRPC(ctx context.Context, addr string, tc *tls.Config, c client.Check) (*checkAnswer, error) {
	creds := insecure.NewCredentials()
	if tc != nil {
		creds = credentials.NewTLS(tc)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, client.EnvoyRequest(c))
	if err != nil {
		return nil, err
	}
	code := resp.GetStatus().GetCode()
	if ok := resp.GetOkResponse(); ok != nil {
		ans := &checkAnswer{Allow: true, Status: http.StatusOK, GRPCCode: &code, Headers: map[string]string{}}
		for _, h := range ok.GetHeaders() {
			ans.Headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		return ans, nil
	}
	denied := resp.GetDeniedResponse()
	return &checkAnswer{Status: int(denied.GetStatus().GetCode()), GRPCCode: &code, Body: denied.GetBody()}, nil
}

// checkHTTP asks the HTTP check endpoint at addr, over HTTPS with tc
// unless it is nil.
func checkHTTP(ctx context.Context, addr string, tc *tls.Config, c client.Check) (*checkAnswer, error) {
	base, hc := "http://"+addr, http.DefaultClient
	if tc != nil {
		base, hc = "https://"+addr, &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
		defer hc.CloseIdleConnections()
	}
	req, err := client.NGINXRequest(base, c)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return &checkAnswer{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}, nil
	}
	ans := &checkAnswer{Allow: true, Status: http.StatusOK, Headers: map[string]string{}}
	for name := range resp.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-certgate-") {
			ans.Headers[strings.ToLower(name)] = resp.Header.Get(name)
		}
	}
	return ans, nil
}
