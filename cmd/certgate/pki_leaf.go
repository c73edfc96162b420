package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/certgate/certgate/pki"
)

// leafFlags are the flags `pki issue` and `pki sign` share: where the
// certificate goes, its identity, SANs, kind and validity.
type leafFlags struct {
	dir, out, name, cn                     *string
	orgs, ous, dnsNames, ips, uris, emails listFlag
	server, force                          *bool
	days                                   *int
}

// register defines the flags; cnHelp says what --cn means to the command.
func (f *leafFlags) register(fs *flag.FlagSet, cnHelp string) {
	f.dir = fs.String("dir", defaultPKIDir, "PKI `dir`ectory of the issuing CA")
	f.out = fs.String("out", "", "`dir`ectory for the certificate and any key (default DIR/certs)")
	f.name = fs.String("name", "", "file name `stem`: OUT/STEM.pem, and OUT/STEM-key.pem for a key made here (default: the CN)")
	f.cn = fs.String("cn", "", cnHelp)
	fs.Var(&f.orgs, "o", "organization `name`: a certgate group (repeatable)")
	fs.Var(&f.ous, "ou", "organizational `unit` (repeatable)")
	fs.Var(&f.dnsNames, "dns", "DNS `name` SAN (repeatable)")
	fs.Var(&f.ips, "ip", "IP `address` SAN (repeatable)")
	fs.Var(&f.uris, "uri", "URI SAN, such as a SPIFFE ID (repeatable)")
	fs.Var(&f.emails, "email", "e-mail `address` SAN (repeatable)")
	f.server = fs.Bool("server", false, "a TLS server certificate (EKU serverAuth) instead of a client one")
	f.days = fs.Int("days", 365, "validity in `days`")
	f.force = fs.Bool("force", false, "overwrite existing certificate and key files")
}

// request is the IssueRequest the flags describe; its error is a usage
// error.
func (f *leafFlags) request() (pki.IssueRequest, error) {
	if *f.days <= 0 {
		return pki.IssueRequest{}, fmt.Errorf("--days %d: want a positive number", *f.days)
	}
	req := pki.IssueRequest{
		Name: *f.name, OutDir: *f.out,
		CommonName: *f.cn, Organizations: f.orgs, OrgUnits: f.ous,
		DNSNames: f.dnsNames, Emails: f.emails,
		Server: *f.server, Validity: days(*f.days), Force: *f.force,
	}
	if req.OutDir == "" {
		req.OutDir = filepath.Join(*f.dir, "certs")
	}
	for _, s := range f.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return req, fmt.Errorf("--ip %s: not an IP address", quote(s))
		}
		req.IPAddresses = append(req.IPAddresses, ip)
	}
	for _, s := range f.uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return req, fmt.Errorf("--uri %s: want an absolute URI such as spiffe://example.com/ns/prod/sa/app", quote(s))
		}
		req.URIs = append(req.URIs, u)
	}
	return req, nil
}

// printIssued tells what was signed, where it went, and what certgate
// will see.
func printIssued(w io.Writer, iss *pki.Issued) {
	c := iss.Cert
	fmt.Fprintf(w, "issued %s certificate %q, serial %s, valid until %s\n", iss.Entry.Kind, pki.SubjectString(c), iss.Entry.Serial, c.NotAfter.Format(time.RFC3339))
	fmt.Fprintf(w, "  certificate  %s\n", iss.CertPath)
	if iss.KeyPath != "" {
		fmt.Fprintf(w, "  private key  %s (mode 0600)\n", iss.KeyPath)
	} else {
		fmt.Fprintln(w, "  private key  stays where the CSR was made")
	}
	server := iss.Entry.Kind == "server"
	if sans := pki.SANs(c); server || len(sans) > 0 {
		fmt.Fprintf(w, "  SANs         %s\n", joinOr(sans))
	}
	if !server {
		fmt.Fprintf(w, "  certgate sees user=%s groups=[%s]\n", c.Subject.CommonName, joinOr(c.Subject.Organization))
	}
}
