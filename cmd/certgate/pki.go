package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certgate/certgate/pki"
)

// pkiCommands are the subcommands of `certgate pki`.
func pkiCommands() []command {
	return []command{
		{"init", "create a root CA, or an intermediate below --ca, in a PKI directory", runPKIInit},
		{"issue", "issue a client (default) or --server certificate", runPKIIssue},
		{"sign", "sign a CSR made where its key stays, with the rules of issue", runPKISign},
		{"revoke", "revoke a certificate by file or --serial, with an RFC 5280 reason", runPKIRevoke},
		{"crl", "sign the next CRL (crl.pem, crl.der), or --check how long one stays valid", runPKICRL},
		{"export", "bundle a certificate, its key and chain as PKCS #12 for browsers and keychains", runPKIExport},
		{"inspect", "show a certificate, chain or CRL the way certgate sees it", runPKIInspect},
	}
}

// runPKI dispatches `certgate pki <sub>`.
func runPKI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		pkiUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range pkiCommands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "certgate pki: unknown command %q\n\n", args[0])
	pkiUsage(stderr)
	return exitUsage
}

func pkiUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: certgate pki <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run your own small CA for mTLS clients and servers: one command per step")
	fmt.Fprintln(w, "instead of openssl recipes. Everything lives in one directory (--dir, default ./ca).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range pkiCommands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'certgate pki <command> -h' for a command's flags and examples.")
}

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
