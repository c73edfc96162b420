package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ListenTLS turns on TLS on the data listeners (gRPC ext_authz and the
// HTTP check endpoint) and requires every peer to present a client
// certificate issued by one of ClientCAFiles: the proxy's own certificate
// (Envoy's ext_authz cluster with an UpstreamTlsContext, NGINX's
// proxy_ssl_certificate), never a user's. The files are read at start and
// again when they change.
type ListenTLS struct {
	// CertFile and KeyFile are certgate's server certificate and key.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFiles are PEM files of the CAs that issue the proxies'
	// client certificates; required with CertFile.
	ClientCAFiles []string `yaml:"client_ca_files"`
}

// Enabled says whether the data listeners speak TLS.
func (t ListenTLS) Enabled() bool {
	return t.CertFile != "" || t.KeyFile != "" || len(t.ClientCAFiles) > 0
}

// validate refuses a TLS set-up that would not authenticate the proxy:
// TLS without client certificates is no access control.
func (t ListenTLS) validate() []error {
	if !t.Enabled() {
		return nil
	}
	var errs []error
	if t.CertFile == "" || t.KeyFile == "" {
		errs = append(errs, errors.New("listen.tls: set both cert_file and key_file"))
	}
	if len(t.ClientCAFiles) == 0 {
		errs = append(errs, errors.New("listen.tls.client_ca_files: name the CA of the proxies' client certificates; TLS on the data listeners always requires one"))
	}
	return errs
}

// AllowedPeerPrefixes parses listen.allowed_peers: addresses or CIDR prefixes.
// None means every peer may ask.
func (l Listen) AllowedPeerPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(l.AllowedPeers))
	for _, p := range l.AllowedPeers {
		prefix, err := parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("listen.allowed_peers: %w", err)
		}
		out = append(out, prefix)
	}
	return out, nil
}

// validateDataAccess checks listen.tls and listen.allowed_peers.
func (l Listen) validateDataAccess() []error {
	errs := l.TLS.validate()
	if _, err := l.AllowedPeerPrefixes(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// OpenDataListeners names the data listeners (listen.grpc, listen.http)
// that any host can reach and ask: bound to an address that is not
// loopback, with neither TLS client authentication nor allowed_peers.
// Such a listener answers any process that can reach it, which learns from
// it which certificates and paths are allowed.
func (l Listen) OpenDataListeners() []string {
	if l.TLS.Enabled() || len(l.AllowedPeers) > 0 {
		return nil
	}
	var open []string
	for _, d := range []struct{ name, addr string }{{"listen.grpc", l.GRPC}, {"listen.http", l.HTTP}} {
		if d.addr != "" && !isLoopback(d.addr) {
			open = append(open, d.name)
		}
	}
	return open
}

// isLoopback says whether addr ("host:port") binds only loopback
// addresses; an empty host binds every address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
