package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
)

const checkExamples = `  certgate check --cert .certgate-dev/clients/viewer.pem --method GET --path /api/v1/vm
  certgate check --http 127.0.0.1:9192 --cert .certgate-dev/clients/admin.pem --method DELETE --path /api/v1/node
`

// runCheck asks a running certgate about one request, as Envoy (gRPC) or
// NGINX (HTTP) would, and prints the answer. Exit 0 allow, 1 deny.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [--grpc ADDR | --http ADDR] [--cert FILE] --method M --path P", checkExamples, stderr)
	grpcAddr := fs.String("grpc", "127.0.0.1:9191", "ext_authz gRPC `address`")
	httpAddr := fs.String("http", "", "HTTP check `address`; when set, ask the NGINX-style endpoint instead of gRPC")
	certFile := fs.String("cert", "", "client certificate PEM `file` (omit to send none)")
	method := fs.String("method", "GET", "original request `method`")
	path := fs.String("path", "/", "original request `target` (path and query)")
	var headers listFlag
	fs.Var(&headers, "header", "extra request header `name=value` (repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c := client.Check{Method: *method, Target: *path, Host: "localhost", Headers: map[string]string{}}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, "=")
		if !ok {
			fmt.Fprintf(stderr, "certgate check: --header %s: want name=value\n", quote(h))
			return exitUsage
		}
		c.Headers[name] = value
	}
	if *certFile != "" {
		pem, err := os.ReadFile(*certFile)
		if err != nil {
			fmt.Fprintf(stderr, "certgate check: %v\n", err)
			return exitUsage
		}
		c.CertPEM = pem
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if *httpAddr != "" {
		return checkHTTP(ctx, *httpAddr, c, stdout, stderr)
	}
	return checkGRPC(ctx, *grpcAddr, c, stdout, stderr)
}

func checkGRPC(ctx context.Context, addr string, c client.Check, stdout, stderr io.Writer) int {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitFail
	}
	defer func() { _ = conn.Close() }()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, client.EnvoyRequest(c))
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitFail
	}
	if ok := resp.GetOkResponse(); ok != nil {
		fmt.Fprintln(stdout, "ALLOW 200")
		for _, h := range ok.GetHeaders() {
			fmt.Fprintf(stdout, "  %s: %s\n", h.GetHeader().GetKey(), h.GetHeader().GetValue())
		}
		return exitOK
	}
	denied := resp.GetDeniedResponse()
	fmt.Fprintf(stdout, "DENY %d (gRPC code %d)\n  %s\n", denied.GetStatus().GetCode(), resp.GetStatus().GetCode(), denied.GetBody())
	return exitFail
}

func checkHTTP(ctx context.Context, addr string, c client.Check, stdout, stderr io.Writer) int {
	req, err := client.NGINXRequest("http://"+addr, c)
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		fmt.Fprintf(stderr, "certgate check: %v\n", err)
		return exitFail
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		fmt.Fprintln(stdout, "ALLOW 200")
		var names []string
		for name := range resp.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-certgate-") {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(stdout, "  %s: %s\n", strings.ToLower(name), resp.Header.Get(name))
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "DENY %d\n  %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
	return exitFail
}
