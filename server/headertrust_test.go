package server

import (
	"net/netip"
	"testing"

	"github.com/certgate/certgate/identity"
)

// loopbackTrust believes every family from a proxy on this host, as the
// tests' real listeners and httptest's 192.0.2.1 peer need.
var loopbackTrust = ListenerTrust{Families: identity.AllFamilies, Proxies: []netip.Prefix{
	netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.0.2.1/32"),
}}

func TestListenerTrustBelievesOnlyItsProxies(t *testing.T) {
	trust := ListenerTrust{Families: identity.SSLClientCert, Proxies: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8::1/128"),
	}}
	for addr, want := range map[string]identity.Families{
		"10.1.2.3:4567":          identity.SSLClientCert,
		"[::ffff:10.1.2.3]:4567": identity.SSLClientCert, // IPv4 on a dual-stack socket
		"[2001:db8::1]:443":      identity.SSLClientCert,
		"10.2.0.1:4567":          0,
		"[2001:db8::2]:443":      0,
		"10.1.2.3":               0, // no port: not a peer address
		"":                       0,
		"@":                      0, // a Unix socket peer
	} {
		if got := trust.For(addr); got != want {
			t.Errorf("For(%q) = %v, want %v", addr, got, want)
		}
	}
	if got := (ListenerTrust{Families: identity.AllFamilies}).For("127.0.0.1:1"); got != 0 {
		t.Errorf("no proxies: For = %v, want none", got)
	}
	if got := (ListenerTrust{Proxies: trust.Proxies}).For("10.1.2.3:1"); got != 0 {
		t.Errorf("no families: For = %v, want none", got)
	}
	if got, want := trust.String(), "ssl_client_cert from 10.1.0.0/16,2001:db8::1/128"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := (ListenerTrust{}).String(); got != "none" {
		t.Errorf("zero String = %q", got)
	}
}
