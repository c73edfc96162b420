package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certgate/certgate/pki"
)

// pkiCommands are the subcommands of `certgate pki`.
func pkiCommands() []command {
	return []command{
		{name: "init", summary: "create a root CA, or an intermediate below --ca, in a PKI directory", run: runPKIInit},
		{name: "issue", summary: "issue a client (default) or --server certificate", run: runPKIIssue},
		{name: "sign", summary: "sign a CSR made where its key stays, with the rules of issue", run: runPKISign},
		{name: "revoke", summary: "revoke a certificate by file or --serial, with an RFC 5280 reason", run: runPKIRevoke},
		{name: "crl", summary: "sign the next CRL (crl.pem, crl.der), or --check how long one stays valid", run: runPKICRL},
		{name: "export", summary: "bundle a certificate, its key and chain as PKCS #12 for browsers and keychains", run: runPKIExport},
		{name: "inspect", summary: "show a certificate, chain or CRL the way certgate sees it", run: runPKIInspect},
	}
}

// pkiLong is the help of `certgate pki`.
const pkiLong = `Run your own small CA for mTLS clients and servers: one command per step
instead of openssl recipes. Everything lives in one directory (--dir, default ./ca).`

// defaultPKIDir is where `certgate pki` keeps its CA unless --dir says otherwise.
const defaultPKIDir = "ca"

// pkiFail prints err for a pki subcommand and returns code.
func pkiFail(stderr io.Writer, sub string, code int, err error) int {
	fmt.Fprintf(stderr, "certgate pki %s: %v\n", sub, err)
	return code
}

// days turns a --days value into a duration.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// keyFlagHelp documents --key for every subcommand that generates keys.
const keyFlagHelp = "key `type`: ecdsa (P-256), p384, rsa2048, rsa3072, rsa4096 or ed25519"

// openAuthority opens the PKI directory for a subcommand.
func openAuthority(dir string) (*pki.Authority, error) {
	return pki.Open(dir, time.Now)
}

// joinOr returns the strings joined, or "-" for none.
func joinOr(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ", ")
}
