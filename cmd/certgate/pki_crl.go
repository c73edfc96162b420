package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/certgate/certgate/duration"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

const pkiCRLExamples = `  # Sign the next CRL (replaces: openssl ca -config openssl.cnf -gencrl -out crl.pem
  #   and the crlnumber/index.txt bookkeeping)
  certgate pki crl --dir ca

  # A CRL valid for 30 days, written where NGINX reads it
  certgate pki crl --dir ca --days 30 --out /etc/nginx/certs/crl.pem --der -

  # Cron: renew daily, and alert when the published CRL has less than two days left
  0 3 * * *  certgate pki crl --dir /srv/pki --days 7
  0 * * * *  certgate pki crl --check --file /etc/nginx/certs/crl.pem --min 48h || alert "CRL expires soon"
`

// runPKICRL signs and writes the next CRL, or with --check reports how long
// an existing CRL stays valid. Exit 0 ok, 1 failed or below --min, 2 usage.
func runPKICRL(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki crl", "pki crl [--dir DIR] [--days N] [--out FILE] [--der FILE] | pki crl --check [--file FILE] [--min DURATION]", pkiCRLExamples, stderr)
	dir := fs.String("dir", defaultPKIDir, "PKI `dir`ectory of the CA")
	nDays := fs.Int("days", 7, "`days` until nextUpdate")
	out := fs.String("out", "", "PEM CRL `file` (default DIR/crl.pem; - to skip)")
	der := fs.String("der", "", "DER CRL `file` (default DIR/crl.der; - to skip)")
	check := fs.Bool("check", false, "do not sign: report how long a CRL stays valid, exit 1 when under --min")
	file := fs.String("file", "", "with --check: the CRL `file` (default DIR/crl.pem)")
	var minLeft time.Duration
	durationVar(fs, &minLeft, "min", 48*time.Hour, "with --check: the least validity that passes (`duration`: 48h, 8d, 1w2d)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certgate pki crl: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	if *check {
		path := *file
		if path == "" {
			path = filepath.Join(*dir, pki.CRLFile)
		}
		return checkCRL(path, *dir, minLeft, time.Now(), stdout, stderr)
	}
	if *nDays <= 0 {
		return pkiFail(stderr, "crl", exitUsage, fmt.Errorf("--days %d: want a positive number", *nDays))
	}
	a, err := openAuthority(*dir)
	if err != nil {
		return pkiFail(stderr, "crl", exitFail, err)
	}
	opts := pki.PublishOptions{PEMPath: *out, DERPath: *der, Validity: days(*nDays)}
	crl, err := a.PublishCRL(ctx, opts)
	if err != nil {
		return pkiFail(stderr, "crl", exitFail, err)
	}
	fmt.Fprintf(stdout, "signed CRL number %s with %d revoked certificate(s), next update %s\n",
		serialText(crl.Number), len(crl.RevokedCertificateEntries), crl.NextUpdate.Format(time.RFC3339))
	for _, p := range []struct{ path, def string }{{*out, pki.CRLFile}, {*der, pki.CRLDER}} {
		switch p.path {
		case "-":
		case "":
			fmt.Fprintf(stdout, "  %s\n", filepath.Join(*dir, p.def))
		default:
			fmt.Fprintf(stdout, "  %s\n", p.path)
		}
	}
	return exitOK
}

// checkCRL reports on each CRL in path, by the rules certgate serve
// applies; when dir holds a CA of a CRL's issuer name, the CRL must also
// carry that CA's signature.
func checkCRL(path, dir string, minLeft time.Duration, now time.Time, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return pkiFail(stderr, "crl", exitFail, err)
	}
	var cas []*x509.Certificate
	if caPEM, err := os.ReadFile(filepath.Join(dir, pki.CACertFile)); err == nil {
		if cas, err = pki.ParseCertsPEM(caPEM); err != nil {
			return pkiFail(stderr, "crl", exitFail, fmt.Errorf("CA of %s: %w", dir, err))
		}
	}
	crls, err := trust.ParseCRLs(data)
	if err != nil {
		return pkiFail(stderr, "crl", exitFail, fmt.Errorf("%s: %w", path, err))
	}
	code := exitOK
	for _, crl := range crls {
		c, err := trust.CheckCRL(crl, cas, now, minLeft)
		if err != nil {
			return pkiFail(stderr, "crl", exitFail, fmt.Errorf("%s: %w", path, err))
		}
		if !c.OK {
			code = exitFail
		}
		if c.Unusable != "" {
			fmt.Fprintf(stdout, "FAIL %s: CRL number %s cannot be used: %s\n", path, serialText(c.Number), c.Unusable)
			continue
		}
		verdict := "OK"
		if !c.OK {
			verdict = "FAIL"
		}
		left := "expired " + duration.Format(c.Remaining.Abs()) + " ago"
		if c.Remaining >= 0 {
			left = "valid for " + duration.Format(c.Remaining)
		}
		fmt.Fprintf(stdout, "%s %s: CRL number %s %s (next update %s, threshold %s)\n",
			verdict, path, serialText(c.Number), left, c.NextUpdate.Format(time.RFC3339), duration.Format(minLeft))
	}
	return code
}
