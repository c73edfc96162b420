package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

const verifyExamples = `  certgate verify --ca ca.pem --crl crl.pem client.pem
  certgate verify --profile strict --max-chain-depth 1 --ca root.pem --intermediate inter.pem client.pem
  certgate verify --ca root.pem --intermediate inter.pem --crl root.crl --crl inter.crl --at 2027-01-01T00:00:00Z chain.pem
`

// runVerify checks one certificate (file: leaf first, then any
// intermediates) like the service does. Exit 0 and the identity as JSON when
// valid, 1 and the reason when not, 2 on usage errors.
func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "verify --ca FILE [--ca FILE] [--intermediate FILE] [--crl FILE]... [--at RFC3339] [--profile compatible|strict] [--max-chain-depth N] CERT", verifyExamples, stderr)
	var cas, intermediates, crls listFlag
	fs.Var(&cas, "ca", "CA certificate `file` (repeatable, required)")
	fs.Var(&intermediates, "intermediate", "intermediate CA certificate `file` (repeatable)")
	fs.Var(&crls, "crl", "CRL `file`, PEM or DER (repeatable)")
	crlMode := fs.String("crl-mode", "", "full_chain, leaf or off (default: full_chain with --crl, off without)")
	at := fs.String("at", "", "verify at this `time` (RFC 3339) instead of now")
	purpose := fs.String("purpose", "client", "extended key usage the chain must allow: client, server or any")
	profile := fs.String("profile", "compatible", "path validation profile: compatible or strict (docs/validation.md)")
	maxDepth := fs.Int("max-chain-depth", -1, "most intermediate CAs between the certificate and a CA, like openssl verify -verify_depth (-1: no limit)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 || len(cas) == 0 {
		fmt.Fprintln(stderr, "certgate verify: need --ca and exactly one certificate file")
		fs.Usage()
		return exitUsage
	}
	opts := trust.VerifyOptions{Now: time.Now()}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "certgate verify: --at: %v\n", err)
			return exitUsage
		}
		opts.Now = t
	}
	switch *purpose {
	case "client":
		opts.Purpose = trust.PurposeClient
	case "server":
		opts.Purpose = trust.PurposeServer
	case "any":
		opts.Purpose = trust.PurposeAny
	default:
		fmt.Fprintf(stderr, "certgate verify: --purpose %s: want client, server or any\n", quote(*purpose))
		return exitUsage
	}
	cfg := trust.Config{CAFiles: cas, IntermediateFiles: intermediates, CRLFiles: crls, CRLMode: trust.CRLMode(*crlMode), Profile: trust.Profile(*profile)}
	if err := cfg.Profile.Validate(); err != nil {
		fmt.Fprintf(stderr, "certgate verify: --profile: %v\n", err)
		return exitUsage
	}
	if *maxDepth >= 0 {
		cfg.MaxChainDepth = maxDepth
	}
	store, err := trust.Load(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "certgate verify: %v\n", err)
		return exitUsage
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "certgate verify: %v\n", err)
		return exitUsage
	}
	chain, err := pki.ParseCertsPEM(data)
	if err != nil {
		if rule := trust.CertificateRule(data); rule != "" {
			err = fmt.Errorf("%s: %w", rule, err)
		}
		fmt.Fprintf(stderr, "certgate verify: %s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	if _, err := store.Verify(chain, opts); err != nil {
		fmt.Fprintf(stdout, "INVALID %v\n", err)
		return exitFail
	}
	id, err := identity.New(chain[0], "")
	if err != nil {
		fmt.Fprintf(stdout, "INVALID %v\n", err)
		return exitFail
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(id); err != nil {
		fmt.Fprintf(stderr, "certgate verify: %v\n", err)
		return exitFail
	}
	return exitOK
}
