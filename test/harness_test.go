package test

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/server"
	"github.com/certgate/certgate/trust"
)

// world is a PKI written to disk the way an operator lays it out: a root,
// an issuing intermediate (configured, not presented), a second
// intermediate that the root revoked, CRLs for every issuer, and client
// certificates for the roles of the example policy.
type world struct {
	dir     string
	caFile  string
	inters  string
	crls    []string
	clients map[string][]byte // name → leaf PEM
	keys    map[string]*pki.Certificate
	root    *pkitest.CA
	issuing *pkitest.CA
	// revokedCA is the intermediate the root revoked.
	revokedCA *pkitest.CA
	// bindings are the trust.ca_bindings certgate is started with.
	bindings []config.CABinding
}

func newWorld(t testing.TB) *world {
	t.Helper()
	now := time.Now()
	root := pkitest.New(t, "certgate test root")
	issuing := root.ChildCA("issuing CA")
	revokedCA := root.ChildCA("revoked issuing CA")
	foreign := pkitest.New(t, "foreign root")

	w := &world{dir: t.TempDir(), clients: map[string][]byte{}, keys: map[string]*pki.Certificate{}, root: root, issuing: issuing, revokedCA: revokedCA}
	leaf := func(name string, ca *pkitest.CA, opts ...pkitest.Option) *x509.Certificate {
		c := ca.Leaf(name, opts...)
		w.clients[name] = c.CertPEM()
		w.keys[name] = c
		return c.Cert
	}
	leaf("admin", issuing, pkitest.Orgs("admins"))
	leaf("viewer", issuing, pkitest.Orgs("viewers"))
	leaf("jenkins", issuing, pkitest.Orgs("ci"))
	leaf("builder", issuing, pkitest.Orgs("builders", "viewers"))
	revoked := leaf("revoked", issuing, pkitest.Orgs("ci"))
	leaf("expired", issuing, pkitest.Orgs("ci"), pkitest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
	leaf("stranger", foreign, pkitest.Orgs("admins"))
	leaf("under-revoked-ca", revokedCA, pkitest.Orgs("admins"))
	leaf("server-only", issuing, pkitest.Orgs("admins"), pkitest.Usage(pki.ServerAuth))

	w.caFile = w.write(t, "ca.pem", root.CertPEM())
	w.inters = w.write(t, "intermediates.pem", pki.EncodeCertsPEM(issuing.Cert, revokedCA.Cert))
	w.crls = []string{
		w.writeCRL(t, "root.crl", root.CRL(revokedCA.Cert)),
		w.writeCRL(t, "issuing.crl", issuing.CRL(revoked)),
		w.writeCRL(t, "revoked-ca.crl", revokedCA.CRL()),
	}
	return w
}

func (w *world) write(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) writeCRL(t testing.TB, name string, crl *x509.RevocationList) string {
	return w.write(t, name, pki.EncodeCRLPEM(crl.Raw))
}

// config is the configuration of a certgate serving w's PKI with the
// shipped policy on ephemeral loopback ports, believing forwarded headers
// as headers says, without file watching (a test reloads when it means to)
// or admin API.
func (w *world) config(headers config.Headers) config.Config {
	cfg := config.Default()
	cfg.Listen.GRPC, cfg.Listen.HTTP, cfg.Listen.Metrics = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Trust.CAFiles, cfg.Trust.IntermediateFiles, cfg.Trust.CRLFiles = []string{w.caFile}, []string{w.inters}, w.crls
	cfg.Trust.CRLMode, cfg.Trust.CABindings = trust.CRLModeFullChain, w.bindings
	cfg.Headers = headers
	cfg.Reload.Watch = false
	cfg.Admin.Listen = ""
	return cfg
}

// running is a certgate serving on real 127.0.0.1 listeners.
type running struct {
	grpcAddr, httpAddr, metricsAddr string
	svc                             *server.Service
	logs                            *testlog.Buffer
}

// thisProxy is the peer address the tests' requests come from as the
// trusted proxy; otherPeer (127.0.0.2, also this host) is not one.
var (
	thisProxy = []string{"127.0.0.1/32"}
	otherPeer = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
)

var (
	// trustNone believes no header: only Envoy's peer certificate counts.
	trustNone = config.Headers{HTTP: config.ListenerHeaders{Trust: []string{}}, GRPC: config.ListenerHeaders{Trust: []string{}}}
	// trustAll believes every family on both listeners from 127.0.0.1,
	// so that the hostile table reaches every parser over both adapters.
	trustAll = config.Headers{
		HTTP: config.ListenerHeaders{Trust: identity.FamilyNames(), TrustedProxies: thisProxy},
		GRPC: config.ListenerHeaders{Trust: identity.FamilyNames(), TrustedProxies: thisProxy},
	}
	// trustDev is what `certgate dev` and `certgate serve` believe by
	// default: ssl_client_cert on HTTP from this host, nothing on gRPC.
	trustDev = config.Default().Headers
)

// startCertgate runs the server.Service that `certgate serve` runs, for w
// with the shipped policy on ephemeral ports, until the test ends,
// believing forwarded headers as headers says. Every decision line is
// written at once to logs, beside the service log.
func startCertgate(t testing.TB, w *world, headers config.Headers) *running {
	t.Helper()
	return startCertgateConfig(t, w.config(headers))
}

// startCertgateConfig is startCertgate with cfg (w.config and more).
func startCertgateConfig(t testing.TB, cfg config.Config) *running {
	t.Helper()
	logs := &testlog.Buffer{}
	ready := make(chan server.Addrs, 1)
	svc, err := server.NewService(context.Background(), cfg, server.ServiceOptions{
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		DecisionLog: server.NewDecisionLog(logs, 1, server.DenyRate(0, 0)),
		Ready:       func(a server.Addrs) { ready <- a },
	})
	if err != nil {
		t.Fatalf("start certgate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop within 15s")
		}
	})
	select {
	case a := <-ready:
		return &running{grpcAddr: a.GRPC, httpAddr: a.HTTP, metricsAddr: a.Metrics, svc: svc, logs: logs}
	case err := <-done:
		done <- err
		t.Fatalf("serve: %v", err)
		return nil
	}
}

// authzClient dials the ext_authz service over a real gRPC connection, from
// 127.0.0.1 or, when from is set, from that local address.
func (r *running) authzClient(t *testing.T, from ...*net.TCPAddr) authv3.AuthorizationClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if len(from) > 0 {
		d := &net.Dialer{LocalAddr: from[0], Timeout: 5 * time.Second}
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}))
	}
	conn, err := grpc.NewClient(r.grpcAddr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}
