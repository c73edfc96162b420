package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/certgate/certgate/pki"
)

const pkiSignExamples = `  # On the client's host: a key that never leaves it, and a CSR
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout jenkins-key.pem -subj "/O=ci/CN=jenkins" -out jenkins.csr

  # On the CA's host: sign it, user and groups from the CSR
  # (replaces: openssl x509 -req -in jenkins.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial
  #   -days 365 -extfile <(echo "extendedKeyUsage=clientAuth") -out jenkins.pem)
  certgate pki sign --dir ca jenkins.csr

  # Whatever the CSR says, sign it for user jenkins in group ci only
  certgate pki sign --dir ca --cn jenkins --o ci jenkins.csr

  # A server certificate for a host's own key (SANs from the CSR unless --dns/--ip are given)
  certgate pki sign --dir ca --server --days 90 controller.csr
`

// runPKISign signs a CSR. Exit 0 signed, 1 failed or refused, 2 usage.
func runPKISign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki sign", "pki sign [--dir DIR] [--cn NAME] [--o GROUP]... [--server] [flags] CSR", pkiSignExamples, stderr)
	var lf leafFlags
	lf.register(fs, "common `name`: the certgate user (default: the CSR's CN)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "certgate pki sign: need one CSR file")
		fs.Usage()
		return exitUsage
	}
	req, err := lf.request()
	if err != nil {
		return pkiFail(stderr, "sign", exitUsage, err)
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return pkiFail(stderr, "sign", exitUsage, err)
	}
	csr, err := pki.ParseCSR(data)
	if err != nil {
		return pkiFail(stderr, "sign", exitFail, fmt.Errorf("%s: %w", fs.Arg(0), err))
	}
	a, err := openAuthority(*lf.dir)
	if err != nil {
		return pkiFail(stderr, "sign", exitFail, err)
	}
	iss, err := a.Sign(ctx, csr, req)
	if err != nil {
		if errors.Is(err, pki.ErrNoSAN) {
			return pkiFail(stderr, "sign", exitUsage, err)
		}
		return pkiFail(stderr, "sign", exitFail, err)
	}
	printIssued(stdout, iss)
	return exitOK
}
