// Package pkitest builds certificate hierarchies for tests on top of package
// pki: every failure ends the test, so a test reads as the PKI it needs.
package pkitest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// CA is a certificate authority for tests.
type CA struct {
	*pki.CA
	tb testing.TB
}

// New creates a root CA named cn. The clock, when given, drives every
// validity period issued below this CA.
func New(tb testing.TB, cn string, now ...func() time.Time) *CA {
	tb.Helper()
	opts := pki.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"certgate tests"}}}
	if len(now) > 0 {
		opts.Now = now[0]
	}
	ca, err := pki.NewRootCA(opts)
	if err != nil {
		tb.Fatalf("pkitest: %v", err)
	}
	return &CA{CA: ca, tb: tb}
}

// ChildCA creates an intermediate CA named cn below c.
func (c *CA) ChildCA(cn string, opts ...Option) *CA {
	c.tb.Helper()
	o := build(cn, opts)
	ca, err := c.NewIntermediate(o)
	if err != nil {
		c.tb.Fatalf("pkitest: %v", err)
	}
	return &CA{CA: ca, tb: c.tb}
}

// Leaf issues a client certificate named cn (unless options say otherwise).
func (c *CA) Leaf(cn string, opts ...Option) *pki.Certificate {
	c.tb.Helper()
	cert, err := c.Issue(build(cn, opts))
	if err != nil {
		c.tb.Fatalf("pkitest: %v", err)
	}
	return cert
}

// CRL signs a CRL revoking the given certificates' serials, current at the
// CA's clock and valid for a week.
func (c *CA) CRL(revoked ...*x509.Certificate) *x509.RevocationList {
	c.tb.Helper()
	return c.CRLWith(pki.CRLOptions{}, revoked...)
}

// CRLWith signs a CRL with explicit options plus the given revoked certificates.
func (c *CA) CRLWith(opts pki.CRLOptions, revoked ...*x509.Certificate) *x509.RevocationList {
	c.tb.Helper()
	for _, r := range revoked {
		opts.Revoked = append(opts.Revoked, pki.Revocation{Serial: r.SerialNumber})
	}
	der, err := c.CA.CRL(opts)
	if err != nil {
		c.tb.Fatalf("pkitest: %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		c.tb.Fatalf("pkitest: parse CRL: %v", err)
	}
	return crl
}

// Option changes the pki.Options of a certificate to issue.
type Option func(*pki.Options)

func build(cn string, opts []Option) pki.Options {
	o := pki.Options{Subject: pkix.Name{CommonName: cn}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Orgs sets the subject's organizations (certgate groups).
func Orgs(o ...string) Option { return func(p *pki.Options) { p.Subject.Organization = o } }

// OrgUnits sets the subject's organizational units.
func OrgUnits(ou ...string) Option {
	return func(p *pki.Options) { p.Subject.OrganizationalUnit = ou }
}

// Validity sets NotBefore and NotAfter.
func Validity(notBefore, notAfter time.Time) Option {
	return func(p *pki.Options) { p.NotBefore, p.NotAfter = notBefore, notAfter }
}

// Serial sets the serial number.
func Serial(n int64) Option { return func(p *pki.Options) { p.SerialNumber = big.NewInt(n) } }

// Usage sets the leaf usage (client, server or both).
func Usage(u pki.Usage) Option { return func(p *pki.Options) { p.Usage = u } }

// With applies an arbitrary change to the options.
func With(f func(*pki.Options)) Option { return Option(f) }

// PermittedDNS gives a CA X.509 name constraints: the DNS names below it
// must lie in domains. They bind SANs only, not the subject.
func PermittedDNS(domains ...string) Option {
	return func(p *pki.Options) { p.PermittedDNSDomains = domains }
}
