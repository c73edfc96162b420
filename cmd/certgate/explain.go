package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

const explainExamples = `  certgate explain --cert .certgate-dev/clients/viewer.pem --method POST --path /api/v1/vm
  certgate explain --cert client.pem --method GET --path /api/v1/vm --header x-request-id=abc --trace
`

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newAdminCommand("explain", "explain --cert FILE --method M --path P [--header K=V]… [--trace] [--admin ADDR]", explainExamples, stdout, stderr)
	certFile := c.fs.String("cert", "", "client certificate `file` (PEM, leaf first) to explain")
	method := c.fs.String("method", "GET", "request `method`")
	path := c.fs.String("path", "/", "request `path`, query included")
	trace := c.fs.Bool("trace", false, "include the policy's evaluation trace")
	var headers listFlag
	c.fs.Var(&headers, "header", "request header `name=value` (repeatable)")
	if code, ok := parseFlags(c.fs, args); !ok {
		return code
	}
	if *certFile == "" {
		fmt.Fprintln(stderr, "certgate explain: --cert is required")
		return exitUsage
	}
	pemData, err := readClientCert(*certFile)
	if err != nil {
		fmt.Fprintf(stderr, "certgate explain: %v\n", err)
		return exitUsage
	}
	req := &adminv1.ExplainRequest{CertificatePem: string(pemData), Method: *method, Path: *path, Trace: *trace, Headers: map[string]string{}}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "certgate explain: --header %s: want name=value\n", quote(h))
			return exitUsage
		}
		req.Headers[strings.ToLower(k)] = v
	}
	resp, code := c.call(ctx, func(ctx context.Context, client adminv1.AdminServiceClient) (proto.Message, error) {
		return client.Explain(ctx, req)
	})
	if resp == nil {
		return code
	}
	ex := resp.(*adminv1.ExplainResponse)
	c.print(ex, func(w io.Writer) { printExplain(w, req, ex) })
	if !ex.GetDecision().GetAllow() {
		return exitFail
	}
	return exitOK
}
