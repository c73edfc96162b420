package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/server"
	"github.com/certgate/certgate/trust"
)

const pkiInspectExamples = `  # What certgate reads from a certificate (replaces: openssl x509 -noout -text -in jenkins.pem)
  certgate pki inspect ca/certs/jenkins.pem

  # A CRL, PEM or DER (replaces: openssl crl -noout -text -in crl.pem)
  certgate pki inspect pki/crl.der

  # Would the running configuration accept it, and what may it do?
  certgate pki inspect --config /etc/certgate/config.yaml --json ca/certs/jenkins.pem
`

// inspectReport is what `certgate pki inspect` prints.
type inspectReport struct {
	File         string        `json:"file"`
	Certificates []certReport  `json:"certificates,omitempty"`
	CRLs         []crlReport   `json:"crls,omitempty"`
	Verification *verifyReport `json:"verification,omitempty"`
}

type certReport struct {
	// Subject and Issuer are the names as openssl prints them, RDN by RDN
	// in encoded order; Identity holds them as the policy sees them.
	Subject  string            `json:"subject"`
	Issuer   string            `json:"issuer"`
	Identity identity.Identity `json:"identity"`
	// IdentityError says why certgate would refuse the identity (an
	// ambiguous subject); Identity then names no user.
	IdentityError      string   `json:"identity_error,omitempty"`
	IsCA               bool     `json:"is_ca"`
	Key                string   `json:"key"`
	KeyUsage           []string `json:"key_usage"`
	ExtKeyUsage        []string `json:"ext_key_usage"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
}

type crlReport struct {
	Issuer             string           `json:"issuer"`
	Number             string           `json:"number"`
	ThisUpdate         time.Time        `json:"this_update"`
	NextUpdate         time.Time        `json:"next_update"`
	SHA256             string           `json:"fingerprint_sha256"`
	SignatureAlgorithm string           `json:"signature_algorithm"`
	Entries            []crlEntryReport `json:"entries"`
}

type crlEntryReport struct {
	Serial    string    `json:"serial"`
	RevokedAt time.Time `json:"revoked_at"`
	Reason    string    `json:"reason"`
}

type verifyReport struct {
	Config   string `json:"config"`
	Verified bool   `json:"verified"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Permissions are those the policy grants the identity; nil when the
	// chain does not verify.
	Permissions []string `json:"permissions"`
}

// runPKIInspect describes a certificate, chain or CRL. Exit 0 shown (and,
// with --config, verified), 1 unreadable or not verified, 2 usage.
func runPKIInspect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pki inspect", "pki inspect [--config FILE] [--json] FILE", pkiInspectExamples, stderr)
	cfgFile := fs.String("config", "", "certgate config `file`: also verify against its CAs and CRLs and list the permissions its policy grants")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	at := fs.String("at", "", "verify at this `time` (RFC 3339) instead of now")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "certgate pki inspect: name exactly one file")
		fs.Usage()
		return exitUsage
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return pkiFail(stderr, "inspect", exitUsage, fmt.Errorf("--at: %w", err))
		}
		now = t
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return pkiFail(stderr, "inspect", exitUsage, err)
	}
	contents, err := pki.ReadContents(data)
	if err != nil {
		return pkiFail(stderr, "inspect", exitFail, fmt.Errorf("%s: %w", path, err))
	}
	rep := inspectReport{File: path}
	for _, c := range contents.Certs {
		rep.Certificates = append(rep.Certificates, describeCert(c))
	}
	for _, c := range contents.CRLs {
		rep.CRLs = append(rep.CRLs, describeCRL(c))
	}
	code := exitOK
	if *cfgFile != "" && len(contents.Certs) > 0 {
		v, err := verifyWithConfig(ctx, *cfgFile, contents.Certs, now)
		if err != nil {
			return pkiFail(stderr, "inspect", exitUsage, err)
		}
		rep.Verification = v
		if !v.Verified {
			code = exitFail
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return pkiFail(stderr, "inspect", exitFail, err)
		}
		return code
	}
	printReport(stdout, &rep, now)
	return code
}

func describeCert(c *x509.Certificate) certReport {
	id, err := identity.New(c, "")
	rep := certReport{
		Subject:            pki.SubjectString(c),
		Issuer:             pki.IssuerString(c),
		Identity:           id,
		IsCA:               c.IsCA,
		Key:                pki.DescribeKey(c.PublicKey),
		KeyUsage:           pki.KeyUsageNames(c.KeyUsage),
		ExtKeyUsage:        pki.ExtKeyUsageNames(c),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
	}
	if err != nil {
		rep.IdentityError = err.Error()
	}
	return rep
}

func describeCRL(c *x509.RevocationList) crlReport {
	sum := sha256.Sum256(c.Raw)
	r := crlReport{
		Issuer:             pki.FormatName(c.RawIssuer),
		Number:             serialText(c.Number),
		ThisUpdate:         c.ThisUpdate,
		NextUpdate:         c.NextUpdate,
		SHA256:             hex.EncodeToString(sum[:]),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		Entries:            []crlEntryReport{},
	}
	for _, e := range c.RevokedCertificateEntries {
		r.Entries = append(r.Entries, crlEntryReport{Serial: pki.FormatSerial(e.SerialNumber), RevokedAt: e.RevocationTime, Reason: pki.Reason(e.ReasonCode).String()})
	}
	return r
}

// verifyWithConfig verifies chain the way the service configured by file
// (and CERTGATE_* variables) would, and lists what its policy grants the leaf's identity.
func verifyWithConfig(ctx context.Context, file string, chain []*x509.Certificate, now time.Time) (*verifyReport, error) {
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	if err := config.ApplyEnv(&cfg, os.LookupEnv); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	tc, err := server.FetchedTrustConfig(ctx, cfg, newLogger(io.Discard, cfg.Log))
	if err != nil {
		return nil, err
	}
	store, err := trust.Load(tc)
	if err != nil {
		return nil, fmt.Errorf("load trust store: %w", err)
	}
	rep := &verifyReport{Config: file}
	if _, err := store.Verify(chain, trust.VerifyOptions{Now: now, Purpose: trust.PurposeClient}); err != nil {
		rep.Detail = err.Error()
		var te *trust.Error
		if errors.As(err, &te) {
			rep.Reason = string(te.Reason)
		}
		return rep, nil
	}
	id, err := identity.New(chain[0], identity.SourceCertFile)
	if err != nil {
		// A valid chain whose identity the service refuses all the same.
		rep.Reason, rep.Detail = string(server.CauseOfCertificate(err)), err.Error()
		return rep, nil
	}
	rep.Verified = true
	dir, err := offlinePolicyDir(cfg)
	if err != nil {
		return nil, err
	}
	engine, err := policy.Load(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	if rep.Permissions, err = engine.Granted(ctx, &policy.Input{Identity: &id}); err != nil {
		return nil, err
	}
	return rep, nil
}
