package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/certgate/certgate/identity"
)

// Headers says which forwarded certificate headers each listener believes,
// and from which peers. A request that carries Envoy's source.certificate
// never takes its identity from a header, whatever is set here.
type Headers struct {
	// HTTP is the check endpoint's: behind NGINX (or Envoy's HTTP mode),
	// ssl_client_cert from the proxy's addresses.
	HTTP ListenerHeaders `yaml:"http"`
	// GRPC is the ext_authz listener's: Envoy's source.certificate needs
	// no header; xfcc only behind an Envoy that sets it itself
	// (forward_client_cert_details: SANITIZE_SET).
	GRPC ListenerHeaders `yaml:"grpc"`
	// TrustForwarded is the removed headers.trust_forwarded, one switch for
	// both listeners. It is only read to refuse a file that still sets it,
	// with a message naming the keys that replace it.
	TrustForwarded *bool `yaml:"trust_forwarded,omitempty"`
}

// ListenerHeaders is what one listener believes of forwarded certificate
// headers.
type ListenerHeaders struct {
	// Trust names the header families believed: ssl_client_cert
	// (Ssl-Client-Cert with Ssl-Client-Verify), xfcc
	// (X-Forwarded-Client-Cert) and client_cert (RFC 9440 Client-Cert and
	// Client-Cert-Chain). Name one only when the proxy overwrites those
	// headers on every request.
	Trust []string `yaml:"trust"`
	// TrustedProxies are the addresses or CIDR prefixes the proxy connects
	// from. A request from any other peer has its forwarded headers ignored
	// (and stripped from an allowed request).
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Parse returns the header families and proxy prefixes l names.
func (l ListenerHeaders) Parse() (identity.Families, []netip.Prefix, error) {
	families, err := identity.ParseFamilies(l.Trust)
	if err != nil {
		return 0, nil, fmt.Errorf("trust: %w", err)
	}
	proxies := make([]netip.Prefix, 0, len(l.TrustedProxies))
	for _, p := range l.TrustedProxies {
		prefix, err := parseProxy(p)
		if err != nil {
			return 0, nil, fmt.Errorf("trusted_proxies: %w", err)
		}
		proxies = append(proxies, prefix)
	}
	return families, proxies, nil
}

// parseProxy reads an address ("10.0.0.5", "::1") or a CIDR prefix
// ("10.0.0.0/8").
func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// removedTrustForwarded explains what replaced headers.trust_forwarded.
const removedTrustForwarded = "was removed: header trust is set per listener and per header family. " +
	"Behind NGINX: headers.http.trust: [ssl_client_cert] with headers.http.trusted_proxies listing NGINX's addresses " +
	"(the default believes ssl_client_cert from 127.0.0.1 and ::1). Behind Envoy: nothing (source.certificate needs no header), " +
	"or headers.grpc.trust: [xfcc] with headers.grpc.trusted_proxies only when Envoy sets forward_client_cert_details: SANITIZE_SET. See SECURITY.md"

// validate checks each listener's families and proxies, and refuses the
// removed trust_forwarded.
func (h Headers) validate() []error {
	var errs []error
	if h.TrustForwarded != nil {
		errs = append(errs, errors.New("headers.trust_forwarded "+removedTrustForwarded))
	}
	for _, l := range []struct {
		name string
		h    ListenerHeaders
	}{{"headers.http", h.HTTP}, {"headers.grpc", h.GRPC}} {
		families, proxies, err := l.h.Parse()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s.%w", l.name, err))
		case families != 0 && len(proxies) == 0:
			errs = append(errs, fmt.Errorf("%s.trust believes %s but %s.trusted_proxies is empty, so no peer would be believed: list the proxy's addresses (0.0.0.0/0 and ::/0 believe every peer)",
				l.name, families, l.name))
		}
	}
	return errs
}
