package loadgen

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
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
	// Intermediates and CRLs are trusted besides the demo CA and its
	// padded CRL (a FleetCA's files).
	Intermediates, CRLs []string
	// DecisionLog receives one JSON line per decision, every allow
	// included, as with the default configuration (batched, as certgate
	// serve writes stdout); nil discards them after formatting, so their
	// cost is still paid.
	DecisionLog io.Writer
}

// Certgate is certgate serving the shipped policy in this process, on
// 127.0.0.1 with fresh ports, for `certgate bench --serve` and tests: the
// server.Service that `certgate serve` runs, with its metrics listener, its
// admin API on a Unix socket, file watching and reloads.
type Certgate struct {
	GRPCAddr, HTTPAddr string
	// MetricsAddr serves /metrics; AdminAddr ("unix:PATH") the admin API.
	MetricsAddr, AdminAddr string
	Service                *server.Service
	Checker                *server.Checker
	cancel                 context.CancelFunc
	done                   chan error
	cleanup                func()
}

// StartCertgate creates or reuses the demo PKI in cfg.Dir, writes a padded
// CRL next to it (crl-bench.pem), and runs the server.Service of the
// configuration `certgate dev` would write for it, on fresh ports, until
// Close.
func StartCertgate(ctx context.Context, cfg ServeConfig) (*Certgate, error) {
	demo, err := pki.EnsureDemo(cfg.Dir, time.Now)
	if err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	crlFile := demo.Path("crl-bench.pem")
	if err := WritePaddedCRL(demo, crlFile, cfg.CRLEntries); err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	// A short directory of its own: Unix socket names are limited to
	// about 100 bytes, and --pki may name a long path.
	sockDir, err := os.MkdirTemp("", "cgbench")
	if err != nil {
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	c := &Certgate{done: make(chan error, 1), cleanup: func() { _ = os.RemoveAll(sockDir) }}
	// The configuration of `certgate serve` with its defaults (header
	// trust, decision log every allow and limited denials, reload on
	// file changes), on fresh loopback ports.
	sc := config.Default()
	sc.Listen.GRPC, sc.Listen.HTTP, sc.Listen.Metrics = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	sc.Trust.CAFiles, sc.Trust.CRLFiles, sc.Trust.CRLMode = []string{demo.Path("ca.pem")}, append([]string{crlFile}, cfg.CRLs...), trust.CRLModeFullChain
	sc.Trust.IntermediateFiles = cfg.Intermediates
	sc.Policy.Dir = cfg.PolicyDir
	sc.Admin.Listen = "unix:" + filepath.Join(sockDir, "admin.sock")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	decisions := cfg.DecisionLog
	if decisions == nil {
		decisions = io.Discard
	}
	ready := make(chan server.Addrs, 1)
	svc, err := server.NewService(ctx, sc, server.ServiceOptions{Logger: log, Stdout: decisions, Ready: func(a server.Addrs) { ready <- a }})
	if err != nil {
		c.cleanup()
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() { c.done <- svc.Run(ctx) }()
	select {
	case a := <-ready:
		c.GRPCAddr, c.HTTPAddr, c.MetricsAddr, c.AdminAddr = a.GRPC, a.HTTP, a.Metrics, a.Admin
	case err := <-c.done:
		c.cancel()
		c.cleanup()
		return nil, fmt.Errorf("start certgate: %w", err)
	}
	c.Service, c.Checker = svc, svc.Checker()
	return c, nil
}

// Close stops the service gracefully and returns its serving error.
func (c *Certgate) Close() error {
	c.cancel()
	err := <-c.done
	c.cleanup()
	if err != nil {
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
