package main

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/certgate/certgate/crlfetch"
	"github.com/certgate/certgate/pki"
)

const pkiInitExamples = `  # A root CA (replaces: openssl genrsa -out ca.key 4096 &&
  #   openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=My CA" -out ca.pem)
  certgate pki init --dir ca --cn "Build Cloud CA" --o "Example Corp"

  # An RSA root for old clients that cannot do ECDSA
  certgate pki init --dir ca --cn "Build Cloud CA" --key rsa4096

  # An intermediate signed by an existing (for example offline) root
  certgate pki init --dir pki-issuing --cn "Build Cloud Issuing CA" --ca ca/ca.pem --ca-key ca/ca-key.pem

  # A CA whose certificates say where its CRL is published (trust.crl_urls,
  # trust.crl_distribution_points); publish ca/crl.der there after each pki crl
  certgate pki init --dir ca --cn "Build Cloud CA" --crl-url http://crl.example.com/ca.crl
`

// runPKIInit creates a CA in a PKI directory. Exit 0 created, 1 failed, 2 usage.
func runPKIInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki init", "pki init [--dir DIR] --cn NAME [--o ORG]... [--key TYPE] [--days N] [--ca FILE --ca-key FILE] [--crl-url URL]...", pkiInitExamples, stderr)
	dir := fs.String("dir", defaultPKIDir, "PKI `dir`ectory to create the CA in")
	cn := fs.String("cn", "certgate CA", "common `name` of the CA")
	var orgs, ous listFlag
	fs.Var(&orgs, "o", "organization `name` of the CA (repeatable)")
	fs.Var(&ous, "ou", "organizational unit `name` of the CA (repeatable)")
	key := fs.String("key", "ecdsa", keyFlagHelp)
	nDays := fs.Int("days", 3650, "validity in `days`")
	parent := fs.String("ca", "", "parent CA certificate `file`: create an intermediate signed by it")
	parentKey := fs.String("ca-key", "", "parent CA private key `file` (with --ca)")
	pathLen := fs.Int("path-len", -1, "how many CA levels may follow below this CA (-1: no limit)")
	var crlURLs listFlag
	fs.Var(&crlURLs, "crl-url", "http(s) `URL` where this CA's CRL will be published, named as the CRL distribution point of every certificate it issues (repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certgate pki init: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	alg, err := pki.ParseKeyName(*key)
	if err != nil {
		return pkiFail(stderr, "init", exitUsage, err)
	}
	if *nDays <= 0 {
		return pkiFail(stderr, "init", exitUsage, fmt.Errorf("--days %d: want a positive number", *nDays))
	}
	if (*parent == "") != (*parentKey == "") {
		return pkiFail(stderr, "init", exitUsage, fmt.Errorf("--ca and --ca-key go together"))
	}
	for _, u := range crlURLs {
		if err := crlfetch.CheckURL(u); err != nil {
			return pkiFail(stderr, "init", exitUsage, fmt.Errorf("--crl-url: %w", err))
		}
	}
	opts := pki.InitOptions{
		CRLURLs:        crlURLs,
		Subject:        pkix.Name{CommonName: *cn, Organization: orgs, OrganizationalUnit: ous},
		KeyAlgorithm:   alg,
		Validity:       days(*nDays),
		MaxPathLen:     *pathLen,
		MaxPathLenZero: *pathLen == 0,
		Now:            time.Now,
	}
	if *parent != "" {
		if opts.Parent, opts.ParentChain, err = pki.LoadCA(*parent, *parentKey); err != nil {
			return pkiFail(stderr, "init", exitFail, err)
		}
		// A parent kept by certgate pki names its CRL in what it issues.
		if st, err := pki.ReadState(filepath.Dir(*parent)); err == nil && st.CA.Serial == pki.FormatSerial(opts.Parent.Cert.SerialNumber) {
			opts.ParentCRLURLs = st.CRLURLs
		}
	}
	a, err := pki.Init(ctx, *dir, opts)
	if err != nil {
		return pkiFail(stderr, "init", exitFail, err)
	}
	kind := "root CA"
	if opts.Parent != nil {
		kind = "intermediate CA below " + quote(pki.SubjectString(opts.Parent.Cert))
	}
	fmt.Fprintf(stdout, "created %s %q in %s\n", kind, pki.SubjectString(a.CA.Cert), *dir)
	fmt.Fprintf(stdout, "  certificate  %s (give this to certgate: trust.ca_files)\n", filepath.Join(*dir, pki.CACertFile))
	fmt.Fprintf(stdout, "  private key  %s (mode 0600; keep it off the servers)\n", filepath.Join(*dir, pki.CAKeyFile))
	if opts.Parent != nil {
		fmt.Fprintf(stdout, "  chain        %s (this CA and its parents below the root)\n", filepath.Join(*dir, pki.ChainFile))
	}
	fmt.Fprintf(stdout, "  state        %s\n", filepath.Join(*dir, pki.StateFile))
	fmt.Fprintf(stdout, "  valid until  %s\n", a.CA.Cert.NotAfter.Format(time.RFC3339))
	for _, u := range crlURLs {
		fmt.Fprintf(stdout, "  CRL URL      %s (named in every certificate it issues; publish crl.der there after each pki crl)\n", u)
	}
	return exitOK
}
