package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/certgate/certgate/pki"
)

const pkiIssueExamples = `  # A client certificate for a CI system: user "jenkins" in group "ci"
  # (replaces: openssl req -new -subj "/O=ci/CN=jenkins" ... && openssl x509 -req -CA ...)
  certgate pki issue --dir ca --cn jenkins --o ci

  # A person in two groups, with an e-mail SAN, valid 90 days
  certgate pki issue --dir ca --cn alice --o admins --o viewers --email alice@example.com --days 90

  # A server certificate for NGINX or Envoy: the CN (a host name or an IP) is
  # also made a SAN, since TLS clients match SANs only
  certgate pki issue --dir ca --server --cn controller.example.com --ip 10.0.0.5

  # A server certificate for local tests: DNS:localhost and IP:127.0.0.1
  certgate pki issue --dir ca --server --cn localhost --ip 127.0.0.1

  # A SPIFFE workload identity
  certgate pki issue --dir ca --cn payments --uri spiffe://example.com/ns/prod/sa/payments
`

// runPKIIssue issues one certificate. Exit 0 issued, 1 failed, 2 usage.
func runPKIIssue(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki issue", "pki issue [--dir DIR] --cn NAME [--o GROUP]... [--server --dns NAME]... [flags]", pkiIssueExamples, stderr)
	var lf leafFlags
	lf.register(fs, "common `name`: the certgate user (required)")
	key := fs.String("key", "ecdsa", keyFlagHelp)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || *lf.cn == "" {
		fmt.Fprintln(stderr, "certgate pki issue: need --cn and no arguments")
		fs.Usage()
		return exitUsage
	}
	alg, err := pki.ParseKeyName(*key)
	if err != nil {
		return pkiFail(stderr, "issue", exitUsage, err)
	}
	req, err := lf.request()
	if err != nil {
		return pkiFail(stderr, "issue", exitUsage, err)
	}
	req.KeyAlgorithm = alg
	a, err := openAuthority(*lf.dir)
	if err != nil {
		return pkiFail(stderr, "issue", exitFail, err)
	}
	iss, err := a.Issue(ctx, req)
	if err != nil {
		if errors.Is(err, pki.ErrNoSAN) {
			return pkiFail(stderr, "issue", exitUsage, err)
		}
		return pkiFail(stderr, "issue", exitFail, err)
	}
	printIssued(stdout, iss)
	return exitOK
}
