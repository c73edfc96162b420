package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"time"

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
	dir := fs.String("dir", defaultPKIDir, "PKI `dir`ectory of the issuing CA")
	out := fs.String("out", "", "`dir`ectory for the certificate and key (default DIR/certs)")
	name := fs.String("name", "", "file name `stem`: OUT/STEM.pem and OUT/STEM-key.pem (default: the CN)")
	cn := fs.String("cn", "", "common `name`: the certgate user (required)")
	var orgs, ous, dnsNames, ips, uris, emails listFlag
	fs.Var(&orgs, "o", "organization `name`: a certgate group (repeatable)")
	fs.Var(&ous, "ou", "organizational `unit` (repeatable)")
	fs.Var(&dnsNames, "dns", "DNS `name` SAN (repeatable)")
	fs.Var(&ips, "ip", "IP `address` SAN (repeatable)")
	fs.Var(&uris, "uri", "URI SAN, such as a SPIFFE ID (repeatable)")
	fs.Var(&emails, "email", "e-mail `address` SAN (repeatable)")
	server := fs.Bool("server", false, "issue a TLS server certificate (EKU serverAuth) instead of a client one")
	nDays := fs.Int("days", 365, "validity in `days`")
	key := fs.String("key", "ecdsa", keyFlagHelp)
	force := fs.Bool("force", false, "overwrite existing certificate and key files")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || *cn == "" {
		fmt.Fprintln(stderr, "certgate pki issue: need --cn and no arguments")
		fs.Usage()
		return exitUsage
	}
	alg, err := pki.ParseKeyName(*key)
	if err != nil {
		return pkiFail(stderr, "issue", exitUsage, err)
	}
	if *nDays <= 0 {
		return pkiFail(stderr, "issue", exitUsage, fmt.Errorf("--days %d: want a positive number", *nDays))
	}
	req := pki.IssueRequest{
		Name: *name, OutDir: *out,
		CommonName: *cn, Organizations: orgs, OrgUnits: ous,
		DNSNames: dnsNames, Emails: emails,
		Server: *server, Validity: days(*nDays), KeyAlgorithm: alg, Force: *force,
	}
	if req.OutDir == "" {
		req.OutDir = filepath.Join(*dir, "certs")
	}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return pkiFail(stderr, "issue", exitUsage, fmt.Errorf("--ip %s: not an IP address", quote(s)))
		}
		req.IPAddresses = append(req.IPAddresses, ip)
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return pkiFail(stderr, "issue", exitUsage, fmt.Errorf("--uri %s: want an absolute URI such as spiffe://example.com/ns/prod/sa/app", quote(s)))
		}
		req.URIs = append(req.URIs, u)
	}
	a, err := openAuthority(*dir)
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
	c := iss.Cert
	fmt.Fprintf(stdout, "issued %s certificate %q, serial %s, valid until %s\n", iss.Entry.Kind, c.Subject.String(), iss.Entry.Serial, c.NotAfter.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  certificate  %s\n", iss.CertPath)
	fmt.Fprintf(stdout, "  private key  %s (mode 0600)\n", iss.KeyPath)
	if sans := pki.SANs(c); *server || len(sans) > 0 {
		fmt.Fprintf(stdout, "  SANs         %s\n", joinOr(sans))
	}
	if !*server {
		fmt.Fprintf(stdout, "  certgate sees user=%s groups=[%s]\n", c.Subject.CommonName, joinOr(c.Subject.Organization))
	}
	return exitOK
}
