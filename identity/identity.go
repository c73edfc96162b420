package identity

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"time"
)

// Source names where a certificate was read from: what was actually used,
// never merely what a request carried. It is part of the Rego input
// (input.identity.source), of every decision log line and of the source
// label of certgate_decisions_total.
type Source string

// The sources certgate reads certificates from.
const (
	// SourceEnvoy is Envoy's CheckRequest.attributes.source.certificate.
	SourceEnvoy Source = "envoy"
	// SourceHeader is a believed forwarded certificate header: NGINX's
	// Ssl-Client-Cert or the RFC 9440 Client-Cert / Client-Cert-Chain pair.
	SourceHeader Source = "header"
	// SourceXFCC is a believed x-forwarded-client-cert header (Envoy's).
	SourceXFCC Source = "xfcc"
	// SourceAdminTLS is the chain of the admin API's TLS handshake.
	SourceAdminTLS Source = "admin_tls"
	// SourceCertFile is the chain of a file `certgate decide` was given.
	SourceCertFile Source = "cert_file"
	// SourceExplain is the chain of an operator's Explain request.
	SourceExplain Source = "explain"
)

// The sources of a request of which no certificate was read: for the
// decision log and metrics only, never an Identity's.
const (
	// SourceNone: the request carries no certificate at all.
	SourceNone Source = "none"
	// SourceUntrustedHeader: the request carries forwarded certificate
	// headers (ForwardedCertHeaders), but none that its listener believes
	// from its peer, so none was read (a client's own copy, a proxy that
	// is not in trusted_proxies, a family the listener does not trust).
	SourceUntrustedHeader Source = "untrusted_header"
)

// SANs holds the subject alternative names of a certificate, as strings.
type SANs struct {
	DNS   []string `json:"dns"`
	IP    []string `json:"ip"`
	Email []string `json:"email"`
	URI   []string `json:"uri"`
}

// Identity is what certgate knows about the holder of a client certificate.
// It is built from the parsed certificate only, never from a DN string or a
// proxy's principal string.
type Identity struct {
	// User is the subject's common name; empty when it has none (the
	// shipped policy then grants only what the groups hold).
	User string `json:"user"`
	// Groups holds every organization (O) of the subject, in order.
	Groups []string `json:"groups"`
	// OrgUnits holds every organizational unit (OU) of the subject, in order.
	OrgUnits []string `json:"org_units"`
	// Subject and Issuer are RFC 4514 strings, for logs and policies that want them.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// Serial is the certificate serial number in lower-case hexadecimal.
	Serial string `json:"serial"`
	// FingerprintSHA256 is the lower-case hex SHA-256 of the certificate's DER.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
	SANs              SANs   `json:"sans"`
	// SPIFFEID is the one URI SAN with the spiffe scheme, or empty.
	SPIFFEID  string    `json:"spiffe_id"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Source    Source    `json:"source"`
}

// New builds the Identity of a parsed certificate. Every slice is non-nil, so
// the JSON (and Rego) form shows [] rather than null, and none aliases the
// certificate: a caller may change the Identity without changing cert.
//
// A certificate that names more than one holder gives an error wrapping
// ErrAmbiguousSubject; the Identity returned with it describes the
// certificate for logs and diagnostics only, with User and SPIFFEID empty,
// and must not be authorized.
func New(cert *x509.Certificate, src Source) (Identity, error) {
	id := Identity{
		Groups:   []string{},
		OrgUnits: []string{},
		SANs:     SANs{DNS: []string{}, IP: []string{}, Email: []string{}, URI: []string{}},
		Source:   src,
	}
	if cert == nil {
		return id, nil
	}
	sum := sha256.Sum256(cert.Raw)
	id.User = cert.Subject.CommonName
	id.Groups = cloneStrings(cert.Subject.Organization)
	id.OrgUnits = cloneStrings(cert.Subject.OrganizationalUnit)
	id.Subject = cert.Subject.String()
	id.Issuer = cert.Issuer.String()
	id.FingerprintSHA256 = hex.EncodeToString(sum[:])
	id.SANs.DNS = cloneStrings(cert.DNSNames)
	id.SANs.Email = cloneStrings(cert.EmailAddresses)
	id.NotBefore = cert.NotBefore
	id.NotAfter = cert.NotAfter
	if cert.SerialNumber != nil {
		// big.Int.Text writes lower-case digits and a leading '-' for a
		// negative serial, which some old CAs did issue.
		id.Serial = cert.SerialNumber.Text(16)
	}
	if len(cert.IPAddresses) > 0 {
		id.SANs.IP = make([]string, 0, len(cert.IPAddresses))
		for _, ip := range cert.IPAddresses {
			id.SANs.IP = append(id.SANs.IP, ip.String())
		}
	}
	if len(cert.URIs) > 0 {
		id.SANs.URI = make([]string, 0, len(cert.URIs))
		for _, u := range cert.URIs {
			if u == nil {
				continue
			}
			s := u.String()
			id.SANs.URI = append(id.SANs.URI, s)
			if id.SPIFFEID == "" && strings.EqualFold(u.Scheme, "spiffe") {
				id.SPIFFEID = s
			}
		}
	}
	if err := checkUnambiguous(cert); err != nil {
		id.User, id.SPIFFEID = "", ""
		return id, err
	}
	return id, nil
}

// cloneStrings returns a copy of s that is never nil.
func cloneStrings(s []string) []string {
	out := make([]string, len(s))
	copy(out, s)
	return out
}
