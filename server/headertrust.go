package server

import (
	"net/netip"
	"strings"

	"github.com/certgate/certgate/identity"
)

// ListenerTrust is what one listener believes of forwarded certificate
// headers: the families its proxy sets, and the peers that proxy connects
// from. A peer outside Proxies is a client talking to certgate directly:
// its forwarded headers are ignored, and stripped from an allowed request.
// The zero value believes no header from anybody.
type ListenerTrust struct {
	Families identity.Families
	// Proxies are the addresses (prefixes) of the trusted proxies; none
	// believes nobody, whatever Families says.
	Proxies []netip.Prefix
}

// For returns the families believed from the peer at addr ("ip:port", as
// net/http's RemoteAddr and gRPC's peer address print it): Families when
// the peer is a trusted proxy, none otherwise or when addr cannot be read.
func (t ListenerTrust) For(addr string) identity.Families {
	if t.Families == 0 || len(t.Proxies) == 0 {
		return 0
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0
	}
	ip := ap.Addr().Unmap() // an IPv4 peer on a dual-stack socket is ::ffff:a.b.c.d
	for _, p := range t.Proxies {
		if p.Contains(ip) {
			return t.Families
		}
	}
	return 0
}

// String describes t for the service log: "ssl_client_cert from
// 127.0.0.1/32,::1/128", or "none".
func (t ListenerTrust) String() string {
	if t.Families == 0 || len(t.Proxies) == 0 {
		return "none"
	}
	proxies := make([]string, len(t.Proxies))
	for i, p := range t.Proxies {
		proxies[i] = p.String()
	}
	return t.Families.String() + " from " + strings.Join(proxies, ",")
}
