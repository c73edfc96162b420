package loadgen

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/server"
	"github.com/certgate/certgate/trust"
)

// ServeConfig describes the certgate that StartCertgate runs in-process.
type ServeConfig struct {
	// Dir holds the demo PKI (created when missing, as `certgate dev` does).
	Dir string
	// PolicyDir holds the policy to serve; "" serves the shipped one.
	PolicyDir string
	// CRLEntries is the number of extra revoked serials padding the CRL, so
	// that revocation checks run against a realistically large list.
	CRLEntries int
	// Logger receives the service log; nil discards it.
	Logger *slog.Logger
	// DecisionLog receives one JSON line per decision, every allow
	// included, as with the default configuration; nil discards them
	// after formatting, so their cost is still paid.
	DecisionLog io.Writer
}

// Certgate is certgate serving the shipped policy in this process, on
// 127.0.0.1 with fresh ports, for `certgate bench --serve` and tests.
type Certgate struct {
	GRPCAddr, HTTPAddr string
	Checker            *server.Checker
	cancel             context.CancelFunc
	done               chan error
}

// StartCertgate creates or reuses the demo PKI in cfg.Dir, writes a padded
// CRL next to it (crl-bench.pem), loads the shipped policy and serves both
// the gRPC and the HTTP check endpoint until Close.
func StartCertgate(ctx context.Context, cfg ServeConfig) (*Certgate, error) {
	demo, err := pki.EnsureDemo(cfg.Dir, time.Now)
	if err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	crlFile := demo.Path("crl-bench.pem")
	if err := WritePaddedCRL(demo, crlFile, cfg.CRLEntries); err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	tc := trust.Config{CAFiles: []string{demo.Path("ca.pem")}, CRLFiles: []string{crlFile}, CRLMode: trust.CRLModeFullChain}
	snap, err := server.LoadSnapshot(ctx, tc, cfg.PolicyDir, 1)
	if err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	decisions := cfg.DecisionLog
	if decisions == nil {
		decisions = io.Discard
	}
	checker := server.NewChecker(snap, server.Options{
		Logger:      log,
		DecisionLog: server.NewDecisionLog(decisions, 1),
	})
	// Header trust as `certgate serve` has it by default: the HTTP
	// endpoint believes Ssl-Client-Cert from this host, gRPC no header.
	var httpTrust server.ListenerTrust
	if httpTrust.Families, httpTrust.Proxies, err = config.Default().Headers.HTTP.Parse(); err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = gl.Close()
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Certgate{GRPCAddr: gl.Addr().String(), HTTPAddr: hl.Addr().String(), Checker: checker, cancel: cancel, done: make(chan error, 1)}
	servers := &server.Servers{Checker: checker, Logger: log, GRPC: gl, HTTP: hl, HTTPTrust: httpTrust}
	go func() { c.done <- servers.Run(ctx) }()
	return c, nil
}

// Close stops the servers gracefully and returns their serving error.
func (c *Certgate) Close() error {
	c.cancel()
	if err := <-c.done; err != nil {
		return fmt.Errorf("certgate: %w", err)
	}
	return nil
}

// WritePaddedCRL signs a CRL of the demo CA that revokes the demo's
// revoked clients and extra more serials that no client holds, and writes
// it to file.
func WritePaddedCRL(demo *pki.Demo, file string, extra int) error {
	ca, err := loadCA(demo.Dir)
	if err != nil {
		return err
	}
	var revoked []pki.Revocation
	for _, c := range pki.DemoClients {
		if !c.Revoked {
			continue
		}
		cert, err := readCert(demo.ClientCert(c.Name))
		if err != nil {
			return err
		}
		revoked = append(revoked, pki.Revocation{Serial: cert.SerialNumber, Reason: 1})
	}
	for range extra {
		serial, err := pki.RandomSerial()
		if err != nil {
			return fmt.Errorf("padded CRL: %w", err)
		}
		revoked = append(revoked, pki.Revocation{Serial: serial})
	}
	der, err := ca.CRL(pki.CRLOptions{Number: big.NewInt(time.Now().UnixNano()), Revoked: revoked})
	if err != nil {
		return fmt.Errorf("padded CRL: %w", err)
	}
	if err := os.WriteFile(file, pki.EncodeCRLPEM(der), 0o644); err != nil {
		return fmt.Errorf("padded CRL: %w", err)
	}
	return nil
}

// DistinctClients issues n client certificates (group ci) from the CA of
// the demo PKI in dir, so that a run can present n different certificates.
func DistinctClients(dir string, n int) ([][]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	ca, err := loadCA(dir)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for i := range n {
		cert, err := ca.Issue(pki.Options{Subject: pkix.Name{CommonName: "load-" + strconv.Itoa(i), Organization: []string{"ci"}}})
		if err != nil {
			return nil, fmt.Errorf("distinct client %d: %w", i, err)
		}
		out = append(out, cert.CertPEM())
	}
	return out, nil
}

func loadCA(dir string) (*pki.CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("load demo CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, fmt.Errorf("load demo CA: %w", err)
	}
	ca, err := pki.ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load demo CA: %w", err)
	}
	return ca, nil
}

func readCert(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	certs, err := pki.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", file, err)
	}
	return certs[0], nil
}
