package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/server"
)

const decideExamples = `  certgate decide --config .certgate-dev/config.yaml --cert .certgate-dev/clients/viewer.pem --method POST --path /api/v1/vm
  certgate decide --ca ca.pem --policy-dir ./policy --cert alice.pem --method GET --path '/api/v1/vm?id=1'
`

// decision is what `certgate decide` prints.
type decision struct {
	Allow      bool               `json:"allow"`
	Status     int                `json:"status"`
	Reason     string             `json:"reason"`
	Permission string             `json:"permission"`
	Identity   *identity.Identity `json:"identity,omitempty"`
	Headers    map[string]string  `json:"headers,omitempty"`
}

// runDecide runs one request through the same pipeline as the service
// (as if Envoy sent the request, and the client its certificate and
// intermediates) and prints the decision as JSON.
// Exit 0 allow, 1 deny, 2 usage.
func runDecide(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("decide", "decide --config FILE --cert FILE --method M --path P", decideExamples, stderr)
	var cf configFlags
	cf.register(fs)
	certFile := fs.String("cert", "", "client certificate PEM `file` (leaf first)")
	method := fs.String("method", "GET", "request `method`")
	path := fs.String("path", "", "request `target` (path and query)")
	at := fs.String("at", "", "decide at this `time` (RFC 3339) instead of now")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *certFile == "" || *path == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "certgate decide: need --cert and --path (and --config or --ca)")
		fs.Usage()
		return exitUsage
	}
	cfg, err := cf.load(fs, config.Default())
	if err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitUsage
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(stderr, "certgate decide: --at: %v\n", err)
			return exitUsage
		}
	}
	chain, err := readClientChain(*certFile)
	if err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitUsage
	}
	dir, err := offlinePolicyDir(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitUsage
	}
	log := newLogger(stderr, cfg.Log)
	tc, err := server.FetchedTrustConfig(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitUsage
	}
	snap, err := server.LoadSnapshot(ctx, tc, dir, 1)
	if err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitUsage
	}
	checker := server.NewChecker(snap, server.Options{Logger: log, Now: func() time.Time { return now }})
	// The request Envoy would send, with the whole chain of the file as
	// the client's, the way a TLS client presents it.
	req := server.RequestFromCheck(client.EnvoyRequest(client.Check{Method: *method, Target: *path, Host: "localhost"}))
	req.Presented = &identity.Presented{Chain: chain, Source: identity.SourceCertFile}
	req.Adapter = "cli"
	res := checker.Check(ctx, req)
	out := decision{Allow: res.Allow, Status: res.Status, Reason: res.Reason, Permission: res.Permission, Identity: res.Identity}
	if len(res.UpstreamHeaders) > 0 {
		out.Headers = map[string]string{}
		for _, h := range res.UpstreamHeaders {
			out.Headers[h.Name] = h.Value
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "certgate decide: %v\n", err)
		return exitFail
	}
	if !res.Allow {
		return exitFail
	}
	return exitOK
}
