package server

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// boundListeners are the sockets of one Service; a nil one is off.
type boundListeners struct{ grpc, http, metrics, admin net.Listener }

func (l *boundListeners) close() {
	for _, lis := range []net.Listener{l.grpc, l.http, l.metrics, l.admin} {
		if lis != nil {
			_ = lis.Close()
		}
	}
}

func (l *boundListeners) addrs() Addrs {
	return Addrs{GRPC: addrOf(l.grpc), HTTP: addrOf(l.http), Metrics: addrOf(l.metrics), Admin: addrOf(l.admin)}
}

// bindListeners binds every listener cfg configures, or none: the first
// that cannot be bound closes the others and is the error.
func bindListeners(cfg config.Config) (*boundListeners, error) {
	l := &boundListeners{}
	for _, b := range []struct {
		what, addr string
		dst        *net.Listener
	}{
		{"gRPC", cfg.Listen.GRPC, &l.grpc},
		{"HTTP", cfg.Listen.HTTP, &l.http},
		{"metrics", cfg.Listen.Metrics, &l.metrics},
	} {
		if b.addr == "" {
			continue
		}
		lis, err := net.Listen("tcp", b.addr)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("listen for %s on %s: %w", b.what, b.addr, err)
		}
		*b.dst = lis
	}
	if cfg.Admin.Listen != "" {
		lis, err := ListenAdmin(cfg.Admin.AdminAddress())
		if err != nil {
			l.close()
			return nil, err
		}
		l.admin = lis
	}
	return l, nil
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	if l.Addr().Network() == "unix" {
		return "unix:" + l.Addr().String()
	}
	return l.Addr().String()
}

// listenerTrust is what each listener believes of forwarded certificate
// headers (config.Validate has checked the names and addresses).
func listenerTrust(h config.Headers) (grpcTrust, httpTrust ListenerTrust, err error) {
	for _, l := range []struct {
		cfg config.ListenerHeaders
		dst *ListenerTrust
	}{{h.GRPC, &grpcTrust}, {h.HTTP, &httpTrust}} {
		if l.dst.Families, l.dst.Proxies, err = l.cfg.Parse(); err != nil {
			return grpcTrust, httpTrust, fmt.Errorf("headers: %w", err)
		}
	}
	return grpcTrust, httpTrust, nil
}

// adminTLSConfig is the admin listener's TLS server configuration, nil
// without admin.cert_file (a Unix socket).
func adminTLSConfig(a config.Admin) (*tls.Config, error) {
	if a.CertFile == "" {
		return nil, nil
	}
	cert, err := loadKeyPair(a.CertFile, a.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("admin API certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// openDecisionLog opens the decision log's output: stdout (nil:
// os.Stdout), stderr, off or a file appended to. Lines are written in
// batches (BufferedWriter); the returned func flushes and closes.
func openDecisionLog(c config.DecisionLog, stdout io.Writer) (*DecisionLog, func(), error) {
	var w io.Writer
	closeFile := func() {}
	switch c.Output {
	case "off":
		return NewDecisionLog(nil, 0), func() {}, nil
	case "stdout", "":
		w = stdout
		if w == nil {
			w = os.Stdout
		}
	case "stderr":
		w = os.Stderr
	default:
		f, err := os.OpenFile(c.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("decision log: %w", err)
		}
		w, closeFile = f, func() { _ = f.Close() }
	}
	buffered := NewBufferedWriter(w)
	d := NewDecisionLog(buffered, c.SampleAllowed, DenyRate(c.DenyRate, c.DenyBurst), QueryValues(c.QueryValues))
	return d, func() { _ = buffered.Close(); closeFile() }, nil
}

// warnUnboundConstrainedCAs warns about each name-constrained CA without a
// trust.ca_bindings entry: its constraints limit the SANs it may issue,
// not the users and groups, so it may still issue "CN=admin, O=admins".
func warnUnboundConstrainedCAs(log *slog.Logger, snap *Snapshot) {
	for _, subject := range snap.Trust.UnboundConstrainedCAs() {
		log.Warn("a name-constrained CA may assert any user and group: bind it in trust.ca_bindings",
			"ca", subject, "revision", snap.Revision)
	}
}

// logRevocation says at start, and after each reload, which crl_mode is
// in effect and why, and warns loudly about the set-ups that start quietly
// but deny every client (a CA no CRL speaks for) or accept every revoked
// certificate (no CRL, so crl_mode defaults to off).
func logRevocation(log *slog.Logger, configured trust.CRLMode, store *trust.Store) {
	mode := store.Status().Mode
	setBy := "trust.crl_mode"
	switch {
	case configured != "":
	case mode == trust.CRLModeOff:
		setBy = "default without CRLs"
	default:
		setBy = "default with CRLs"
	}
	log.Info("revocation checking", "crl_mode", string(mode), "set_by", setBy)
	if mode == trust.CRLModeOff {
		if configured == "" {
			log.Warn("no CRL is configured, so crl_mode is off: revoked client certificates are accepted; add trust.crl_files (--crl), or set crl_mode: off to say this is meant",
				"crl_mode", string(mode))
		}
		return
	}
	every := "every client certificate below it (crl_mode full_chain checks the whole chain)"
	if mode == trust.CRLModeLeaf {
		every = "every client certificate it issues directly"
	}
	for _, ca := range store.CAsWithoutCRL() {
		log.Warn("no usable CRL of this CA is configured: "+every+" will be denied with 401 crl_unavailable; add its CRL to trust.crl_files (--crl) or trust.crl_urls (a URL that failed to fetch is retried)",
			"ca", pki.SubjectString(ca), "crl_mode", string(mode))
	}
}
