package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/certgate/certgate/pki"
)

const pkiRevokeExamples = `  # Revoke by certificate file (replaces: openssl ca -config openssl.cnf -revoke jenkins.pem
  #   -crl_reason keyCompromise), then publish the CRL
  certgate pki revoke --dir ca --reason keyCompromise ca/certs/jenkins.pem
  certgate pki crl --dir ca

  # Revoke by serial, as printed by 'certgate pki issue' or 'openssl x509 -serial' (colons optional)
  certgate pki revoke --dir ca --serial 3F:A2:09:... --reason superseded
`

// runPKIRevoke records a revocation. Exit 0 recorded, 1 failed, 2 usage.
func runPKIRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	examples := pkiRevokeExamples + "\nReasons: " + strings.Join(pki.ReasonNames(), ", ") + "\n"
	fs := newFlagSet("pki revoke", "pki revoke [--dir DIR] [--reason NAME] (CERT | --serial HEX)", examples, stderr)
	dir := fs.String("dir", defaultPKIDir, "PKI `dir`ectory of the CA that issued the certificate")
	serial := fs.String("serial", "", "`hex` serial number, with or without colons (instead of a certificate file)")
	reasonName := fs.String("reason", "unspecified", "RFC 5280 revocation `reason`")
	allowUnknown := fs.Bool("allow-unknown", false, "with --serial: revoke a serial the state does not list (issued outside certgate pki)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if (fs.NArg() == 1) == (*serial != "") || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "certgate pki revoke: name one certificate file or one --serial")
		fs.Usage()
		return exitUsage
	}
	reason, err := pki.ParseReason(*reasonName)
	if err != nil {
		return pkiFail(stderr, "revoke", exitUsage, err)
	}
	req := pki.RevokeRequest{Reason: reason, AllowUnknown: *allowUnknown}
	if *serial != "" {
		if req.Serial, err = pki.ParseSerial(*serial); err != nil {
			return pkiFail(stderr, "revoke", exitUsage, err)
		}
	} else {
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return pkiFail(stderr, "revoke", exitUsage, err)
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			return pkiFail(stderr, "revoke", exitUsage, fmt.Errorf("%s: %w", fs.Arg(0), err))
		}
		req.Cert = certs[0]
	}
	a, err := openAuthority(*dir)
	if err != nil {
		return pkiFail(stderr, "revoke", exitFail, err)
	}
	e, err := a.Revoke(ctx, req)
	if err != nil {
		return pkiFail(stderr, "revoke", exitFail, err)
	}
	fmt.Fprintf(stdout, "revoked serial %s %s (%s)\n", e.Serial, quote(e.Subject), e.Reason)
	fmt.Fprintf(stdout, "  publish it: certgate pki crl --dir %s   (certgate reloads %s by itself)\n", *dir, filepath.Join(*dir, pki.CRLFile))
	return exitOK
}

// serialText formats a CRL number or serial for people.
func serialText(n *big.Int) string {
	if n == nil {
		return "-"
	}
	return n.String()
}
