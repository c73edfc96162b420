package identity

import "time"

// Source names where a certificate was read from. It is part of the Rego input
// (input.identity.source) and of every decision log line.
type Source string

// The sources certgate reads certificates from.
const (
	// SourceEnvoy is Envoy's CheckRequest.attributes.source.certificate.
	SourceEnvoy Source = "envoy"
	// SourceHeader is a forwarded certificate header: NGINX's Ssl-Client-Cert or
	// the RFC 9440 Client-Cert / Client-Cert-Chain pair.
	SourceHeader Source = "header"
	// SourceXFCC is Envoy's x-forwarded-client-cert header.
	SourceXFCC Source = "xfcc"
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
	// User is the subject's common name.
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
	// SPIFFEID is the first URI SAN with the spiffe scheme, or empty.
	SPIFFEID  string    `json:"spiffe_id"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Source    Source    `json:"source"`
}
