package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/peer"

	"github.com/certgate/certgate/client"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
)

// sourcePolicy allows every verified identity and names the source the
// policy saw in its reason, so a test can read input.identity.source back.
const sourcePolicy = `package certgate.authz

decision := {"allow": true, "status": 200, "reason": concat("", ["source_", input.identity.source]),
	"permission": "", "headers": {}, "response_headers": {}}
`

// sourceChecker is a Checker of sourcePolicy writing its decision lines
// to the returned buffer, as certgate serve does, and counting them.
func sourceChecker(t *testing.T) (*Checker, *pkitest.CA, *testlog.Buffer, *Metrics) {
	t.Helper()
	engine, err := policy.LoadFS(context.Background(), fstest.MapFS{"authz.rego": {Data: []byte(sourcePolicy)}})
	if err != nil {
		t.Fatal(err)
	}
	lines := &testlog.Buffer{}
	metrics := NewMetrics(prometheus.NewRegistry())
	c, ca := checkerWith(t, engine, Options{DecisionLog: NewDecisionLog(lines, 1, DenyRate(0, 0)), Metrics: metrics})
	return c, ca, lines, metrics
}

// lastLoggedSource is the source of the last decision line in lines.
func lastLoggedSource(t *testing.T, lines *testlog.Buffer) string {
	t.Helper()
	records := lines.Records(t, "decision")
	if len(records) == 0 {
		t.Fatal("no decision line")
	}
	src, _ := records[len(records)-1]["source"].(string)
	return src
}

// TestDecisionLogNamesTheSourceUsed: the decision log line and the source
// label of certgate_decisions_total name where the certificate was
// actually taken from. A forwarded certificate header the listener does
// not believe from its peer is untrusted_header, never the family it
// would have been.
func TestDecisionLogNamesTheSourceUsed(t *testing.T) {
	c, ca, lines, metrics := sourceChecker(t)
	leaf := ca.Leaf("alice", pkitest.Orgs("ci"))
	xfcc := map[string]string{"x-forwarded-client-cert": `Cert="` + client.EscapePEM(leaf.CertPEM()) + `"`}
	proxy := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	stranger := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 4000}
	grpcCheck := func(trust ListenerTrust, from net.Addr, check client.Check) int {
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: from})
		resp, err := NewAuthorizationServer(c, trust).Check(ctx, client.EnvoyRequest(check))
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetOkResponse() != nil {
			return http.StatusOK
		}
		return int(resp.GetDeniedResponse().GetStatus().GetCode())
	}
	httpCheck := func(trust ListenerTrust, from string, check client.Check) int {
		r, err := client.NGINXRequest("http://certgate", check)
		if err != nil {
			t.Fatal(err)
		}
		r.RemoteAddr, r.RequestURI = from, r.URL.RequestURI() // as a server sees it
		rec := httptest.NewRecorder()
		NewHTTPHandler(c, trust).ServeHTTP(rec, r)
		return rec.Code
	}
	xfccOnly := ListenerTrust{Families: identity.XFCC, Proxies: loopbackTrust.Proxies}
	get := client.Check{Method: "GET", Target: "/read"}
	withCert, withXFCC := get, get
	withCert.CertPEM = leaf.CertPEM()
	withXFCC.Headers = xfcc
	tests := []struct {
		name       string
		check      func() int
		wantStatus int
		want       identity.Source
	}{
		{"Envoy's peer certificate is envoy", func() int { return grpcCheck(ListenerTrust{}, proxy, withCert) }, 200, identity.SourceEnvoy},
		{"an x-forwarded-client-cert the gRPC listener believes from its proxy is xfcc",
			func() int { return grpcCheck(xfccOnly, proxy, withXFCC) }, 200, identity.SourceXFCC},
		{"an x-forwarded-client-cert the gRPC listener believes from no one is an untrusted header",
			func() int { return grpcCheck(ListenerTrust{}, proxy, withXFCC) }, 401, identity.SourceUntrustedHeader},
		{"an x-forwarded-client-cert from a peer that is not a trusted proxy is an untrusted header",
			func() int { return grpcCheck(xfccOnly, stranger, withXFCC) }, 401, identity.SourceUntrustedHeader},
		{"no certificate at all is none", func() int { return grpcCheck(xfccOnly, proxy, get) }, 401, identity.SourceNone},
		{"NGINX's ssl-client-cert from the trusted proxy is a header",
			func() int { return httpCheck(loopbackTrust, "127.0.0.1:4000", withCert) }, 200, identity.SourceHeader},
		{"an ssl-client-cert from a peer that is not a trusted proxy is an untrusted header",
			func() int { return httpCheck(loopbackTrust, "198.51.100.7:4000", withCert) }, 401, identity.SourceUntrustedHeader},
		{"an ssl-client-cert on a listener that believes only xfcc is an untrusted header",
			func() int { return httpCheck(xfccOnly, "127.0.0.1:4000", withCert) }, 401, identity.SourceUntrustedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second answer comes from the verdict cache and
			// must name the source all the same.
			for range 2 {
				if status := tt.check(); status != tt.wantStatus {
					t.Fatalf("status %d, want %d", status, tt.wantStatus)
				}
				if got := lastLoggedSource(t, lines); got != string(tt.want) {
					t.Errorf("decision line source %q, want %q", got, tt.want)
				}
			}
		})
	}
	if got := testutil.ToFloat64(metrics.decisions.WithLabelValues("deny", "401", string(identity.SourceUntrustedHeader), string(CauseNoCertificate))); got != 4*2 {
		t.Errorf(`certgate_decisions_total{source="untrusted_header"} = %v, want 8`, got)
	}
	if got := testutil.ToFloat64(metrics.decisions.WithLabelValues("deny", "401", string(identity.SourceXFCC), string(CauseNoCertificate))); got != 0 {
		t.Errorf(`certgate_decisions_total{source="xfcc",reason="no_certificate"} = %v, want 0: an unbelieved header is not its family`, got)
	}
}

// TestCallersWithAParsedChainNameThemselves: the admin API over TLS, a
// file's chain (certgate decide) and an Explain request are not Envoy, and
// neither the decision line nor the policy's input says they are.
func TestCallersWithAParsedChainNameThemselves(t *testing.T) {
	c, ca, lines, _ := sourceChecker(t)
	leaf := ca.Leaf("alice", pkitest.Orgs("ci"))
	chain := []*x509.Certificate{leaf.Cert, ca.Cert}
	ctx := context.Background()

	c.AuthorizeAdmin(ctx, chain, "/certgate.admin.v1.AdminService/GetStatus")
	if got := lastLoggedSource(t, lines); got != string(identity.SourceAdminTLS) {
		t.Errorf("admin API over TLS: decision line source %q, want %q", got, identity.SourceAdminTLS)
	}

	// As cmd/certgate's decide builds it.
	req := RequestFromCheck(client.EnvoyRequest(client.Check{Method: "GET", Target: "/read", Host: "localhost"}))
	req.Presented, req.Adapter = &identity.Presented{Chain: chain, Source: identity.SourceCertFile}, "cli"
	res := c.Check(ctx, req)
	if got := lastLoggedSource(t, lines); got != string(identity.SourceCertFile) || res.Reason != "source_cert_file" {
		t.Errorf("a certificate file: decision line source %q, policy reason %q; want %q and source_cert_file", got, res.Reason, identity.SourceCertFile)
	}

	// Explain writes no decision line (asking why changes no count); the
	// policy sees the source, and so does the operator's identity.
	before := len(lines.Records(t, "decision"))
	pemChain := string(leaf.CertPEM()) + string(ca.CertPEM())
	resp, err := (&AdminService{Checker: c}).Explain(ctx, &adminv1.ExplainRequest{CertificatePem: pemChain, Method: "GET", Path: "/read"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetDecision().GetReason(); got != "source_explain" {
		t.Errorf("Explain: the policy saw reason %q, want source_explain", got)
	}
	if after := len(lines.Records(t, "decision")); after != before {
		t.Errorf("Explain wrote %d decision lines, want none", after-before)
	}
}

// TestDecisionLineOfAnUntrustedHeaderIsReadable checks the whole line of
// an untrusted header's deny, as an operator searching for it reads it.
func TestDecisionLineOfAnUntrustedHeaderIsReadable(t *testing.T) {
	c, ca, lines, _ := sourceChecker(t)
	leaf := ca.Leaf("mallory")
	req := &Request{Method: "GET", Target: "/read", Adapter: "http",
		Headers: map[string]string{"ssl-client-cert": client.EscapePEM(leaf.CertPEM()), "ssl-client-verify": "SUCCESS"}}
	c.Check(context.Background(), req)
	records := lines.Records(t, "decision")
	if len(records) != 1 {
		t.Fatalf("%d decision lines, want 1", len(records))
	}
	got := map[string]any{}
	for _, k := range []string{"allow", "status", "cause", "source", "adapter"} {
		got[k] = records[0][k]
	}
	want := `{"adapter":"http","allow":false,"cause":"no_certificate","source":"untrusted_header","status":401}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("decision line %s, want %s", b, want)
	}
	if strings.Contains(lines.String(), "mallory") {
		t.Error("the decision line names the holder of a certificate that was never read")
	}
}
