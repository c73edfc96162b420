package identity

import (
	"fmt"
	"slices"
	"strings"
)

// Families is a set of forwarded-certificate header families: the headers
// one proxy sets in front of one listener. Each family is believed only when
// the listener says its proxy overwrites those headers on every request; the
// zero value believes none, and Envoy's source.certificate needs none.
type Families uint8

// The header families Extract can read, in the order it reads them.
const (
	// SSLClientCert is NGINX's ssl-client-cert ($ssl_client_escaped_cert)
	// with ssl-client-verify ($ssl_client_verify), which must be SUCCESS.
	// Envoy's HTTP ext_authz mode sets the same pair (envoy/envoy-http.yaml).
	SSLClientCert Families = 1 << iota
	// XFCC is Envoy's x-forwarded-client-cert, set by Envoy only with
	// forward_client_cert_details: SANITIZE_SET.
	XFCC
	// ClientCert is RFC 9440's client-cert with client-cert-chain.
	ClientCert

	// AllFamilies believes every family.
	AllFamilies = SSLClientCert | XFCC | ClientCert
)

// family is one family's configuration name and the headers it covers.
type family struct {
	bit     Families
	name    string
	headers []string
}

var families = []family{
	{SSLClientCert, "ssl_client_cert", []string{"ssl-client-cert", "ssl-client-verify"}},
	{XFCC, "xfcc", []string{"x-forwarded-client-cert"}},
	{ClientCert, "client_cert", []string{"client-cert", "client-cert-chain"}},
}

// FamilyNames lists the configuration names of the families, in reading order.
func FamilyNames() []string {
	out := make([]string, len(families))
	for i, fam := range families {
		out[i] = fam.name
	}
	return out
}

// ParseFamilies reads configuration names ("ssl_client_cert", "xfcc",
// "client_cert") into a set; an unknown name is an error that lists the
// known ones.
func ParseFamilies(names []string) (Families, error) {
	var out Families
	for _, name := range names {
		i := slices.IndexFunc(families, func(fam family) bool { return fam.name == name })
		if i < 0 {
			return 0, fmt.Errorf("unknown header family %q: want %s", truncate(name), strings.Join(FamilyNames(), ", "))
		}
		out |= families[i].bit
	}
	return out, nil
}

// Has reports whether every family of g is in f.
func (f Families) Has(g Families) bool { return f&g == g }

// Names returns the configuration names of the families in f, in reading order.
func (f Families) Names() []string {
	out := []string{}
	for _, fam := range families {
		if f.Has(fam.bit) {
			out = append(out, fam.name)
		}
	}
	return out
}

// String returns the names of the families in f joined with commas, or "none".
func (f Families) String() string {
	if f == 0 {
		return "none"
	}
	return strings.Join(f.Names(), ",")
}

// Believes reports whether header (a lower-case name) belongs to a family
// in f: a header certgate reads, and so one the proxy is trusted to set.
// Every other certificate header a client sent is its own copy.
func (f Families) Believes(header string) bool {
	for _, fam := range families {
		if f.Has(fam.bit) && slices.Contains(fam.headers, header) {
			return true
		}
	}
	return false
}
