package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"slices"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
)

// CausePeerNotAllowed: a check from a peer outside listen.allowed_peers.
// It is denied with 403 before the pipeline reads anything of it, so such
// a peer can neither learn a decision nor fill the verdict cache.
const CausePeerNotAllowed Cause = "peer_not_allowed"

// AllowedPeers are the addresses (prefixes) that may ask a data listener
// for decisions; nil allows every peer.
type AllowedPeers []netip.Prefix

// Allows says whether the peer at addr ("ip:port", as net/http's
// RemoteAddr and gRPC's peer address print it) may ask. An address that
// cannot be read is not allowed when a list is set.
func (a AllowedPeers) Allows(addr string) bool {
	if a == nil {
		return true
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap() // an IPv4 peer on a dual-stack socket is ::ffff:a.b.c.d
	for _, p := range a {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// rejectPeer is the deny of a check from a peer AllowedPeers refuses:
// recorded (decision log, certgate_decisions_total reason
// peer_not_allowed) like every other decision, and never an allow.
func (c *Checker) rejectPeer(ctx context.Context, req *Request, addr string) Result {
	return c.Reject(ctx, req, http.StatusForbidden, CausePeerNotAllowed, "peer "+truncate(addr, 64)+" is not in listen.allowed_peers")
}

// dataTLSConfig is the data listeners' TLS server configuration from one
// reading of the listen.tls files: certgate's certificate, and a client
// certificate required of every peer, verified against
// listen.tls.client_ca_files (the proxies' CA, with the clientAuth EKU).
func dataTLSConfig(t config.ListenTLS) (*tls.Config, error) {
	cert, err := loadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("listen.tls certificate: %w", err)
	}
	pool := x509.NewCertPool()
	for _, name := range t.ClientCAFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("listen.tls.client_ca_files: %w", err)
		}
		cas, err := pki.ParseCertsPEM(data)
		if err != nil {
			return nil, fmt.Errorf("listen.tls.client_ca_files %s: %w", name, err)
		}
		for _, ca := range cas {
			pool.AddCert(ca)
		}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// dataAccess is what guards the data listeners: the peers that may ask
// (nil: any) and the TLS configuration (nil: plain TCP), which follows
// its files (dataTLS).
func dataAccess(l config.Listen, log *slog.Logger) (AllowedPeers, *tls.Config, error) {
	prefixes, err := l.AllowedPeerPrefixes()
	if err != nil {
		return nil, nil, err
	}
	var peers AllowedPeers
	if len(prefixes) > 0 {
		peers = prefixes
	}
	if !l.TLS.Enabled() {
		return peers, nil, nil
	}
	d, err := newDataTLS(l.TLS, log)
	if err != nil {
		return nil, nil, err
	}
	return peers, d.config(), nil
}

// warnOpenDataListeners warns about each data listener any host can ask:
// bound beyond loopback with neither listen.tls nor listen.allowed_peers.
// It still starts (existing deployments keep working), but every process
// that reaches it learns which certificates and paths are allowed.
func warnOpenDataListeners(log *slog.Logger, l config.Listen) {
	for _, name := range l.OpenDataListeners() {
		log.Warn("a data listener binds beyond loopback and answers any peer: set listen.tls (client certificates of the proxy) or listen.allowed_peers; see SECURITY.md, Exposure on the data listeners",
			"listener", name)
	}
}

// loadKeyPair is tls.LoadX509KeyPair held to certgate's PEM rules: a
// certificate or key file with a block cut short (a partial write) is an
// error naming the file, where crypto/tls would skip the block and serve
// what is left of a chain.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	var pems [2][]byte
	for i, name := range []string{certFile, keyFile} {
		data, err := os.ReadFile(name)
		if err != nil {
			return tls.Certificate{}, err
		}
		if _, err := pki.DecodePEMBlocks(data); err != nil {
			return tls.Certificate{}, fmt.Errorf("%s: %w", name, err)
		}
		pems[i] = data
	}
	cert, err := tls.X509KeyPair(pems[0], pems[1])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// warnSharedProxyCA warns when a CA of listen.tls.client_ca_files has the
// key of a CA of trust.ca_files or trust.intermediate_files: then every
// user's certificate also opens a data listener as a proxy, and any user
// can ask certgate about any certificate (listen.tls is meant to admit
// the proxies only). Files that cannot be read are left to the loads that
// report them.
func warnSharedProxyCA(log *slog.Logger, cfg config.Config) {
	if !cfg.Listen.TLS.Enabled() {
		return
	}
	keys := map[string]bool{}
	for _, c := range readCAs(slices.Concat(cfg.Trust.CAFiles, cfg.Trust.IntermediateFiles)) {
		keys[string(c.RawSubjectPublicKeyInfo)] = true
	}
	for _, c := range readCAs(cfg.Listen.TLS.ClientCAFiles) {
		if keys[string(c.RawSubjectPublicKeyInfo)] {
			log.Warn("a CA of listen.tls.client_ca_files also issues the clients' certificates (trust.ca_files or trust.intermediate_files): every client certificate opens the data listeners as a proxy; give the proxies a CA of their own",
				"ca", truncate(c.Subject.String(), 256))
			return
		}
	}
}

// readCAs parses the certificates of files, skipping what cannot be read.
func readCAs(files []string) []*x509.Certificate {
	var out []*x509.Certificate
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if certs, err := pki.ParseCertsPEM(data); err == nil {
			out = append(out, certs...)
		}
	}
	return out
}
