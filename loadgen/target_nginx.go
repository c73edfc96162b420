package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/certgate/certgate/pki"
)

// MaxNGINXClients bounds the distinct certificates of a run through NGINX:
// each is its own TLS client with its own kept-alive connections.
const MaxNGINXClients = 64

// NGINXTarget sends each request itself to NGINX over mTLS, presenting
// the request's certificate, as a client of the protected app does.
type NGINXTarget struct {
	addr    string
	roots   *x509.CertPool
	conns   int
	clients []*http.Client
	prepped []nginxRequest
}

type nginxRequest struct {
	method, url string
	tmpl        *template
	client      int
}

// NewNGINXTarget returns a target for NGINX at addr, whose certificate
// chains to caPEM (the demo CA), keeping up to conns connections per
// client certificate.
func NewNGINXTarget(addr string, caPEM []byte, conns int) (*NGINXTarget, error) {
	certs, err := pki.ParseCertsPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("nginx target: CA: %w", err)
	}
	roots := x509.NewCertPool()
	for _, c := range certs {
		roots.AddCert(c)
	}
	return &NGINXTarget{addr: addr, roots: roots, conns: max(conns, 1)}, nil
}

// Name implements Target.
func (t *NGINXTarget) Name() string { return "nginx https://" + t.addr }

// Prepare makes one TLS client per distinct certificate (each request
// must carry its Key) and each request's URL.
func (t *NGINXTarget) Prepare(reqs []Request) error {
	byCert := map[string]int{}
	t.prepped = make([]nginxRequest, len(reqs))
	for i, r := range reqs {
		if r.Key == nil {
			return errors.New("nginx target: a request without the client's private key (through NGINX, use a fleet scenario)")
		}
		c, ok := byCert[string(r.Check.CertPEM)]
		if !ok {
			if len(t.clients) == MaxNGINXClients {
				return fmt.Errorf("nginx target: more than %d distinct certificates", MaxNGINXClients)
			}
			client, err := t.newClient(r)
			if err != nil {
				return err
			}
			c = len(t.clients)
			byCert[string(r.Check.CertPEM)] = c
			t.clients = append(t.clients, client)
		}
		t.prepped[i] = nginxRequest{method: r.Check.Method, url: "https://" + t.addr + r.Check.Target, client: c}
		if tp, ok := splitTemplate(r.Check.Target); ok {
			tp.prefix = "https://" + t.addr + tp.prefix
			t.prepped[i].tmpl = &tp
		}
	}
	return nil
}

func (t *NGINXTarget) newClient(r Request) (*http.Client, error) {
	certs, err := pki.ParseCertsPEM(r.Check.CertPEM)
	if err != nil {
		return nil, fmt.Errorf("nginx target: %w", err)
	}
	cert := &tls.Certificate{Certificate: [][]byte{certs[0].Raw}, PrivateKey: r.Key, Leaf: certs[0]}
	cfg := &tls.Config{
		RootCAs: t.roots, ServerName: "localhost", MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil },
	}
	tr := &http.Transport{
		TLSClientConfig: cfg, MaxIdleConns: t.conns, MaxIdleConnsPerHost: t.conns,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true,
	}
	return &http.Client{Transport: tr}, nil
}

// Do implements Target.
func (t *NGINXTarget) Do(ctx context.Context, _, i int) (int, error) {
	p := &t.prepped[i]
	url := p.url
	if p.tmpl != nil {
		url = p.tmpl.fill()
	}
	req, err := http.NewRequestWithContext(ctx, p.method, url, nil)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	resp, err := t.clients[p.client].Do(req)
	if err != nil {
		return 0, fmt.Errorf("through NGINX: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Close drops the idle connections.
func (t *NGINXTarget) Close() error {
	for _, c := range t.clients {
		c.CloseIdleConnections()
	}
	return nil
}
