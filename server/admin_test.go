package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// adminWorld is a certgate serving its admin API from files on disk.
type adminWorld struct {
	w                   *diskWorld
	trustDir, policyDir string
	checker             *Checker
	reloader            *Reloader
	client              adminv1.AdminServiceClient
	// decisions is the decision log.
	decisions *testlog.Buffer
}

// startAdmin serves the admin API on a Unix socket, or over mTLS when
// serverCert is set, from the files of v.
func startAdmin(t *testing.T, serverCert *tls.Certificate, dial func(addr string) *grpc.ClientConn, v version) *adminWorld {
	t.Helper()
	return startAdminIn(t, newDiskWorld(t), serverCert, dial, v)
}

// startAdminIn is startAdmin with the files of w.
func startAdminIn(t *testing.T, w *diskWorld, serverCert *tls.Certificate, dial func(addr string) *grpc.ClientConn, v version) *adminWorld {
	t.Helper()
	a := &adminWorld{w: w, trustDir: t.TempDir(), policyDir: t.TempDir(), decisions: &testlog.Buffer{}}
	a.w.write(t, a.trustDir, a.policyDir, v)
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		return LoadSnapshot(ctx, a.w.trustConfig(a.trustDir), a.policyDir, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a.checker = NewChecker(snap, Options{Logger: log, DecisionLog: NewDecisionLog(a.decisions, 1)})
	a.reloader = &Reloader{Checker: a.checker, Source: LoadFunc(load), Logger: log}
	svc := &AdminService{Checker: a.checker, Reloader: a.reloader, CRLWarnBefore: time.Hour}
	var tlsCfg *tls.Config
	network, address := "unix", ""
	if serverCert != nil {
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{*serverCert}}
		network, address = "tcp", "127.0.0.1:0"
	} else {
		// A short path: Unix socket names are limited to about 100 bytes.
		dir, err := os.MkdirTemp("", "cg")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		address = filepath.Join(dir, "run", "admin.sock")
	}
	lis, err := ListenAdmin(network, address)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &servers{Checker: a.checker, Logger: log, Admin: lis, AdminService: svc, AdminTLS: tlsCfg, ShutdownGrace: time.Second}
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin server: %v", err)
		}
	})
	target := "unix:" + lis.Addr().String()
	if network == "tcp" {
		target = lis.Addr().String()
	}
	conn := dial(target)
	t.Cleanup(func() { _ = conn.Close() })
	a.client = adminv1.NewAdminServiceClient(conn)
	return a
}

func dialInsecure(t *testing.T) func(string) *grpc.ClientConn {
	return func(target string) *grpc.ClientConn {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
}

func TestAdminSocketIsPrivate(t *testing.T) {
	dir, err := os.MkdirTemp("", "cg")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	sock := filepath.Join(dir, "new", "admin.sock")
	lis, err := ListenAdmin("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode %o, want 600", perm)
	}
	if di, _ := os.Stat(filepath.Dir(sock)); di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %o, want 700", di.Mode().Perm())
	}
	if _, err := ListenAdmin("unix", sock); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second listener on a live socket: %v, want refused", err)
	}
	_ = lis.Close()
	// A socket left by a crash (no listener) is replaced.
	if stale, err := ListenAdmin("unix", sock); err != nil {
		t.Errorf("stale socket: %v", err)
	} else {
		_ = stale.Close()
	}
}

func TestAdminBrokenReloadKeepsServingAndReportsTheError(t *testing.T) {
	a := startAdmin(t, nil, dialInsecure(t), version{})
	viewer := a.w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		v     version
		error string
	}{
		{"policy that does not compile", version{brokenRego: true}, "policy"},
		{"CRL that does not parse", version{brokenCRL: true}, "crl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := a.client.GetStatus(ctx, &adminv1.GetStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			a.w.write(t, a.trustDir, a.policyDir, tc.v)
			r, err := a.client.Reload(ctx, &adminv1.ReloadRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if r.GetAttempt().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_FAILURE || !strings.Contains(strings.ToLower(r.GetAttempt().GetError()), tc.error) {
				t.Errorf("reload: %v, want a failure naming the %s", r.GetAttempt(), tc.error)
			}
			st, err := a.client.GetStatus(ctx, &adminv1.GetStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if st.GetSnapshot().GetRevision() != before.GetSnapshot().GetRevision() {
				t.Errorf("revision %d after a failed reload, want %d", st.GetSnapshot().GetRevision(), before.GetSnapshot().GetRevision())
			}
			if st.GetLastReload().GetError() == "" || st.GetReloadFailures() == before.GetReloadFailures() {
				t.Errorf("GetStatus does not show the failure: %v", st)
			}
			// The old snapshot still decides.
			if res := a.checker.Check(ctx, envoyRequest(viewer)); !res.Allow {
				t.Errorf("viewer GET after a failed reload: %d %s, want allowed by the old snapshot", res.Status, res.Reason)
			}
			a.w.write(t, a.trustDir, a.policyDir, version{})
			if r, err := a.client.Reload(ctx, &adminv1.ReloadRequest{}); err != nil || r.GetAttempt().GetResult() == adminv1.ReloadResult_RELOAD_RESULT_FAILURE {
				t.Fatalf("reload of good files: %v %v", r, err)
			}
		})
	}
}

func TestAdminStatusExplainAndReload(t *testing.T) {
	a := startAdmin(t, nil, dialInsecure(t), version{})
	ctx := context.Background()
	viewer := a.w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	st, err := a.client.GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	snap := st.GetSnapshot()
	if snap.GetRevision() != 1 || len(snap.GetCertificateAuthorities()) != 1 || len(snap.GetRevocationLists()) != 1 || len(snap.GetPolicyFiles()) == 0 {
		t.Fatalf("status: %v", st)
	}
	crl := snap.GetRevocationLists()[0]
	if crl.GetState() != adminv1.RevocationListState_REVOCATION_LIST_STATE_CURRENT || crl.GetNextUpdate() == nil || crl.GetFile() == "" {
		t.Errorf("CRL status: %v", crl)
	}

	explain := func(cert *pki.Certificate, method, path string) *adminv1.ExplainResponse {
		t.Helper()
		ex, err := a.client.Explain(ctx, &adminv1.ExplainRequest{CertificatePem: string(cert.CertPEM()), Method: method, Path: path})
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}
	ex := explain(viewer, "POST", "/api/v1/vm")
	if ex.GetIdentity().GetUser() != "viewer" || !ex.GetChain().GetValid() || ex.GetDecision().GetAllow() ||
		ex.GetDecision().GetStatus() != 403 || ex.GetDecision().GetPermission() != "start_vm" {
		t.Errorf("explain viewer POST: %v", ex)
	}
	if r := ex.GetDecision().GetMatchedRoutes(); len(r) != 1 || r[0].GetMethod() != "POST" || r[0].GetPath() != "/api/v1/vm" || r[0].GetPermission() != "start_vm" {
		t.Errorf("explain viewer POST: matched routes %v, want POST /api/v1/vm -> start_vm", r)
	}
	if len(ex.GetTrace()) != 0 {
		t.Errorf("explain without --trace returned %d trace lines", len(ex.GetTrace()))
	}
	ex = explain(viewer, "GET", "/api/v1/vm")
	if !ex.GetDecision().GetAllow() || ex.GetDecision().GetUpstreamHeaders()[HeaderUser] != "viewer" {
		t.Errorf("explain viewer GET: %v", ex)
	}
	// Explain decides as the ext_authz adapter does: a client's own
	// x-certgate-* header is removed from the upstream request, not a 400.
	withReserved, err := a.client.Explain(ctx, &adminv1.ExplainRequest{CertificatePem: string(viewer.CertPEM()), Method: "GET", Path: "/api/v1/vm",
		Headers: map[string]string{"X-Certgate-Team": "admins"}})
	if err != nil || !withReserved.GetDecision().GetAllow() || withReserved.GetDecision().GetStatus() != 200 {
		t.Errorf("explain viewer GET with a client x-certgate-team header: %v, %v; want the allow the gRPC adapter gives", withReserved, err)
	}
	traced, err := a.client.Explain(ctx, &adminv1.ExplainRequest{CertificatePem: string(viewer.CertPEM()), Method: "GET", Path: "/api/v1/vm", Trace: true})
	if err != nil || len(traced.GetTrace()) < 10 || !strings.Contains(strings.Join(traced.GetTrace(), "\n"), "data.certgate") {
		t.Errorf("explain with trace: %d lines, %v", len(traced.GetTrace()), err)
	}
	perms, err := a.client.ListPermissions(ctx, &adminv1.ListPermissionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*adminv1.Permission{}
	for _, p := range perms.GetPermissions() {
		byName[p.GetName()] = p
	}
	for _, p := range perms.GetPermissions() {
		for _, r := range p.GetRoutes() {
			if strings.HasPrefix(r.GetPath(), "/certgate.admin.v1.") {
				t.Errorf("ListPermissions: %s guards the admin API route %s; admin calls are decided by data.certgate.admin, not by routes", p.GetName(), r.GetPath())
			}
		}
	}
	if p := byName["list_vms"]; p == nil || !slices.Contains(p.GetGroups(), "viewers") || len(p.GetRoutes()) != 2 {
		t.Errorf("ListPermissions list_vms: %v", p)
	}

	// Revoke the viewer on disk; explain shows it only after a reload.
	a.w.write(t, a.trustDir, a.policyDir, version{revoked: []*x509.Certificate{viewer.Cert}})
	if !explain(viewer, "GET", "/api/v1/vm").GetDecision().GetAllow() {
		t.Fatal("revocation took effect before any reload")
	}
	r, err := a.client.Reload(ctx, &adminv1.ReloadRequest{})
	if err != nil || r.GetAttempt().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_SUCCESS || r.GetAttempt().GetRevision() != 2 {
		t.Fatalf("reload: %v %v", r, err)
	}
	ex = explain(viewer, "GET", "/api/v1/vm")
	if ex.GetChain().GetValid() || ex.GetChain().GetReason() != "revoked" || ex.GetDecision().GetStatus() != 401 || ex.GetRevision() != 2 {
		t.Errorf("explain revoked viewer: %v", ex)
	}
	if r, _ := a.client.Reload(ctx, &adminv1.ReloadRequest{}); r.GetAttempt().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_UNCHANGED {
		t.Errorf("reload without changes: %v, want unchanged", r.GetAttempt())
	}

	if _, err := a.client.Explain(ctx, &adminv1.ExplainRequest{CertificatePem: "x", Method: "GET", Path: "nope"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("explain with a relative path: %v, want InvalidArgument", err)
	}
}

// adminTLS is an admin API served over TCP+TLS, and how to call it with a
// client certificate.
type adminTLS struct {
	*adminWorld
	target string
	roots  *x509.CertPool
}

func startAdminTLS(t *testing.T, v version) *adminTLS {
	t.Helper()
	return startAdminTLSIn(t, newDiskWorld(t), v)
}

// startAdminTLSIn is startAdminTLS with the files of w.
func startAdminTLSIn(t *testing.T, w *diskWorld, v version) *adminTLS {
	t.Helper()
	serverCA := pkitest.New(t, "admin server CA")
	server := serverCA.Leaf("certgate", pkitest.Usage(pki.ServerAuth), pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"localhost"} }))
	pair := tlsPair(t, server)
	a := &adminTLS{roots: x509.NewCertPool()}
	a.roots.AddCert(serverCA.Cert)
	a.adminWorld = startAdminIn(t, w, &pair, func(addr string) *grpc.ClientConn {
		a.target = addr
		return dialInsecure(t)(addr) // unused: each call dials with its own certificate
	}, v)
	return a
}

// call makes one admin call over TLS with cert (none when nil) and returns
// its status code.
func (a *adminTLS) call(t *testing.T, cert *pki.Certificate, method string) codes.Code {
	t.Helper()
	if cert == nil {
		return a.callWith(t, nil, method)
	}
	pair := tlsPair(t, cert)
	return a.callWith(t, &pair, method)
}

// callWith is call with the client's TLS certificate (none when nil), which
// may carry intermediates after the leaf.
func (a *adminTLS) callWith(t *testing.T, pair *tls.Certificate, method string) codes.Code {
	t.Helper()
	cfg := &tls.Config{RootCAs: a.roots, ServerName: "localhost"}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{*pair}
	}
	conn, err := grpc.NewClient(a.target, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := adminv1.NewAdminServiceClient(conn)
	switch method {
	case "GetStatus":
		_, err = c.GetStatus(ctx, &adminv1.GetStatusRequest{})
	case "Reload":
		_, err = c.Reload(ctx, &adminv1.ReloadRequest{})
	case "Explain":
		_, err = c.Explain(ctx, &adminv1.ExplainRequest{CertificatePem: string(a.w.ca.Leaf("x").CertPEM()), Method: "GET", Path: "/api/v1/vm"})
	case "ListPermissions":
		_, err = c.ListPermissions(ctx, &adminv1.ListPermissionsRequest{})
	default:
		t.Fatalf("unknown admin method %s", method)
	}
	return status.Code(err)
}

var adminMethods = []string{"GetStatus", "Reload", "Explain", "ListPermissions"}

// TestAdminOverTLSIsGuardedByTheAdminRule serves the admin API over
// TCP+TLS: certgate verifies the client with its own CAs and CRLs and asks
// the policy's data.certgate.admin.allow, which the shipped data grants to
// the admins group only.
func TestAdminOverTLSIsGuardedByTheAdminRule(t *testing.T) {
	a := startAdminTLS(t, version{})
	admin := a.w.ca.Leaf("root", pkitest.Orgs("admins"))
	viewer := a.w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	stranger := pkitest.New(t, "stranger CA").Leaf("mallory", pkitest.Orgs("admins"))
	for _, m := range adminMethods {
		if got := a.call(t, admin, m); got != codes.OK {
			t.Errorf("admin %s: %s, want OK", m, got)
		}
		if got := a.call(t, viewer, m); got != codes.PermissionDenied {
			t.Errorf("viewer %s: %s, want PermissionDenied", m, got)
		}
	}
	if got := a.call(t, stranger, "GetStatus"); got != codes.Unauthenticated {
		t.Errorf("an admin of an untrusted CA: %s, want Unauthenticated", got)
	}
	twoCNs := a.w.ca.Leaf("", pkitest.Subject(t,
		pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDOrganization, Value: "admins"}},
		pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDCommonName, Value: "mallory"}},
		pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDCommonName, Value: "root"}}))
	if got := a.call(t, twoCNs, "GetStatus"); got != codes.Unauthenticated {
		t.Errorf("an admin with a second CN: %s, want Unauthenticated", got)
	}
	if got := a.call(t, nil, "GetStatus"); got != codes.Unavailable { // the TLS handshake fails
		t.Errorf("no certificate: %s, want Unavailable", got)
	}

	// Each call is a decision in the log, with the admin adapter.
	logged := a.decisions.String()
	for _, want := range []string{`"adapter":"admin"`, `"path":"/certgate.admin.v1.AdminService/Reload"`,
		`"cause":"admin_granted"`, `"cause":"admin_denied"`, `"user":"viewer"`, `"source":"admin_tls"`} {
		if !strings.Contains(logged, want) {
			t.Errorf("decision log lacks %s:\n%s", want, logged)
		}
	}
	if strings.Contains(logged, `"source":"envoy"`) {
		t.Errorf("an admin call over TLS is logged as Envoy's:\n%s", logged)
	}

	// A revoked admin is no longer an admin once the CRL is loaded.
	a.w.write(t, a.trustDir, a.policyDir, version{revoked: []*x509.Certificate{admin.Cert}})
	if r := a.reloader.Attempt(context.Background(), "test"); r.Result != ReloadSuccess {
		t.Fatalf("reload: %+v", r)
	}
	if got := a.call(t, admin, "GetStatus"); got != codes.Unauthenticated {
		t.Errorf("revoked admin: %s, want Unauthenticated", got)
	}
}

// TestAdminOverTLSTakesTheIntermediateFromTheClient: an admin whose
// certificate an intermediate issued, which certgate's trust files do not
// hold, is an admin when it sends the intermediate after its leaf, and is
// not authenticated without it.
func TestAdminOverTLSTakesTheIntermediateFromTheClient(t *testing.T) {
	w := newDiskWorld(t)
	inter := w.ca.ChildCA("admin intermediate")
	a := startAdminTLSIn(t, w, version{moreCRLs: []*x509.RevocationList{inter.CRL()}})
	admin := inter.Leaf("root", pkitest.Orgs("admins"))
	withChain := tlsPair(t, admin)
	withChain.Certificate = append(withChain.Certificate, inter.Cert.Raw)
	for _, m := range adminMethods {
		if got := a.callWith(t, &withChain, m); got != codes.OK {
			t.Errorf("admin with its intermediate %s: %s, want OK", m, got)
		}
	}
	if got := a.call(t, admin, "GetStatus"); got != codes.Unauthenticated {
		t.Errorf("admin without its intermediate: %s, want Unauthenticated", got)
	}
	if logged := a.decisions.String(); !strings.Contains(logged, `"user":"root"`) || !strings.Contains(logged, `"cause":"admin_granted"`) {
		t.Errorf("decision log lacks the admin's grants:\n%s", logged)
	}
}

// TestAdminExplainsALeafWithItsIntermediate: Explain reads every
// certificate of certificate_pem, leaf first, and verifies the path
// through the intermediate that the trust files do not hold.
func TestAdminExplainsALeafWithItsIntermediate(t *testing.T) {
	w := newDiskWorld(t)
	inter := w.ca.ChildCA("explain intermediate")
	a := startAdminIn(t, w, nil, dialInsecure(t), version{moreCRLs: []*x509.RevocationList{inter.CRL()}})
	viewer := inter.Leaf("viewer", pkitest.Orgs("viewers"))
	chainPEM := pki.EncodeCertsPEM(viewer.Cert, inter.Cert)
	ex, err := a.client.Explain(context.Background(), &adminv1.ExplainRequest{CertificatePem: string(chainPEM), Method: "GET", Path: "/api/v1/vm"})
	if err != nil {
		t.Fatal(err)
	}
	wantPath := []string{viewer.Cert.Subject.String(), inter.Cert.Subject.String(), w.ca.Cert.Subject.String()}
	if !ex.GetChain().GetValid() || !slices.Equal(ex.GetChain().GetPath(), wantPath) {
		t.Errorf("explain chain: %v, want a valid path %q", ex.GetChain(), wantPath)
	}
	if ex.GetIdentity().GetUser() != "viewer" || !ex.GetDecision().GetAllow() || ex.GetDecision().GetPermission() != "list_vms" {
		t.Errorf("explain viewer GET: %v", ex)
	}
	tooLong := pki.EncodeCertsPEM(slices.Repeat([]*x509.Certificate{inter.Cert}, 11)...)
	if _, err := a.client.Explain(context.Background(), &adminv1.ExplainRequest{CertificatePem: string(append(pki.EncodeCertsPEM(viewer.Cert), tooLong...)), Method: "GET", Path: "/api/v1/vm"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("explain a chain of 12 certificates: %v, want InvalidArgument", err)
	}
}

// TestAdminCatchAllRouteDoesNotGrantAdmin: a route table with a catch-all
// for "authenticated" (as real route tables have), and even a route naming
// the admin service granted to viewers, let a viewer through the data
// plane but not into the admin API.
func TestAdminCatchAllRouteDoesNotGrantAdmin(t *testing.T) {
	a := startAdminTLS(t, version{
		routes: []map[string]string{
			{"permission": "authenticated", "method": "*", "path": "/**"},
			{"permission": "certgate_admin", "method": "POST", "path": "/certgate.admin.v1.AdminService/*"},
		},
		grants: map[string][]string{"viewers": {"list_vms", "certgate_admin"}},
	})
	viewer := a.w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	anyone := a.w.ca.Leaf("anyone")
	// The data plane allows the admin method's path to both ...
	for _, c := range []*pki.Certificate{viewer, anyone} {
		req := envoyRequest(c)
		req.Method, req.Target = "POST", "/certgate.admin.v1.AdminService/Reload"
		if res := a.checker.Check(context.Background(), req); !res.Allow {
			t.Fatalf("the data-plane check of %s: %d %s, want the catch-all to allow it", c.Cert.Subject.CommonName, res.Status, res.Reason)
		}
	}
	// ... and the admin API to neither.
	for _, c := range []*pki.Certificate{viewer, anyone} {
		for _, m := range adminMethods {
			if got := a.call(t, c, m); got != codes.PermissionDenied {
				t.Errorf("%s %s: %s, want PermissionDenied", c.Cert.Subject.CommonName, m, got)
			}
		}
	}
	if got := a.call(t, a.w.ca.Leaf("root", pkitest.Orgs("admins")), "Reload"); got != codes.OK {
		t.Errorf("admin Reload: %s, want OK", got)
	}
}

// TestAdminRuleMayGrantSomeMethods: data.certgate.admin.groups lists
// methods; an auditor may read the status and permissions, not reload or
// explain.
func TestAdminRuleMayGrantSomeMethods(t *testing.T) {
	a := startAdminTLS(t, version{adminGrants: map[string][]string{
		"admins":   {"*"},
		"auditors": {"GetStatus", "ListPermissions"},
	}})
	auditor := a.w.ca.Leaf("audrey", pkitest.Orgs("auditors"))
	for m, want := range map[string]codes.Code{
		"GetStatus": codes.OK, "ListPermissions": codes.OK,
		"Reload": codes.PermissionDenied, "Explain": codes.PermissionDenied,
	} {
		if got := a.call(t, auditor, m); got != want {
			t.Errorf("auditor %s: %s, want %s", m, got, want)
		}
	}
}

// TestAdminWithoutTheRuleFailsClosed: a policy that does not define
// data.certgate.admin.allow denies every admin call over TLS, admins'
// included.
func TestAdminWithoutTheRuleFailsClosed(t *testing.T) {
	a := startAdminTLS(t, version{noAdminRule: true})
	if a.checker.Snapshot().Policy.AdminDefined() {
		t.Fatal("the policy without admin.rego defines the admin rule")
	}
	admin := a.w.ca.Leaf("root", pkitest.Orgs("admins"))
	for _, m := range adminMethods {
		if got := a.call(t, admin, m); got != codes.PermissionDenied {
			t.Errorf("admin %s: %s, want PermissionDenied", m, got)
		}
	}
	if logged := a.decisions.String(); !strings.Contains(logged, `"cause":"no_admin_rule"`) {
		t.Errorf("decision log lacks cause no_admin_rule:\n%s", logged)
	}
}

// TestAdminOnTCPWithoutTLSIsRefused: Run will not serve the admin API on a
// TCP listener without TLS, loopback included, where every local user
// could reload.
func TestAdminOnTCPWithoutTLSIsRefused(t *testing.T) {
	lis, err := ListenAdmin("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	log := slog.New(slog.DiscardHandler)
	checker := NewChecker(nil, Options{Logger: log})
	srv := &servers{Checker: checker, Logger: log, Admin: lis, AdminService: &AdminService{Checker: checker}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Run(ctx); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Run with a TCP admin listener and no TLS: %v, want refused", err)
	}
}

func tlsPair(t *testing.T, c *pki.Certificate) tls.Certificate {
	t.Helper()
	keyPEM, err := c.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c.CertPEM(), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// TestAdminStatusShowsTheSnapshotOfTheLastReload asks for the status
// while reloads, some of them failing, run back to back: the snapshot
// GetStatus shows is always the one its last reload left serving, and the
// successes counted are exactly the swaps that made its revision. Found by
// the fault tests, where a status read during a reload showed the new
// result beside the old snapshot. Run it with -race.
func TestAdminStatusShowsTheSnapshotOfTheLastReload(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	base, err := LoadSnapshot(context.Background(), w.trustConfig(dir), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Each load is a new generation of the same files, and takes a moment,
	// as a real one does; every third one fails.
	var loads int
	load := func(_ context.Context, rev uint64) (*Snapshot, error) {
		time.Sleep(100 * time.Microsecond)
		if loads++; loads%3 == 0 {
			return nil, fmt.Errorf("load %d fails", loads)
		}
		s := *base
		s.Revision, s.Digest = rev, fmt.Sprint("generation ", rev)
		return &s, nil
	}
	log := slog.New(slog.DiscardHandler)
	checker := NewChecker(base, Options{Logger: log})
	svc := &AdminService{Checker: checker, Reloader: &Reloader{Checker: checker, Source: LoadFunc(load), Logger: log}}
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 300 {
			svc.Reloader.Attempt(ctx, "test")
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false // one more read, after the last reload
		default:
		}
		st, err := svc.GetStatus(ctx, &adminv1.GetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		serving := st.GetSnapshot().GetRevision()
		if lr := st.GetLastReload(); lr != nil && lr.GetRevision() != serving {
			t.Fatalf("GetStatus shows revision %d serving, but its last reload left revision %d serving", serving, lr.GetRevision())
		}
		if st.GetReloadSuccesses() != serving-1 {
			t.Fatalf("GetStatus shows revision %d serving after %d successful reloads from revision 1", serving, st.GetReloadSuccesses())
		}
	}
	if st := svc.Reloader.Status(); st.Successes != 200 || st.Failures != 100 {
		t.Errorf("after 300 reloads: %d successes, %d failures; want 200 and 100", st.Successes, st.Failures)
	}
}
