package pki_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

func TestOpenSSLAcceptsWhatCertgatePKIIssues(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	ctx := context.Background()
	tmp := t.TempDir()
	root, err := pki.Init(ctx, filepath.Join(tmp, "root"), pki.InitOptions{Subject: pkix.Name{CommonName: "Root CA"}, KeyAlgorithm: pki.RSA3072})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := pki.Init(ctx, filepath.Join(tmp, "issuing"), pki.InitOptions{Subject: pkix.Name{CommonName: "Issuing CA"}, Parent: root.CA})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(a *pki.Authority, req pki.IssueRequest) string {
		iss, err := a.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return iss.CertPath
	}
	alice := issue(root, pki.IssueRequest{CommonName: "alice", Organizations: []string{"admins"}})
	bob := issue(root, pki.IssueRequest{CommonName: "bob", Organizations: []string{"ci"}})
	server := issue(root, pki.IssueRequest{CommonName: "ctl.example.com", Server: true, KeyAlgorithm: pki.RSA2048})
	carol := issue(inter, pki.IssueRequest{CommonName: "carol"})
	dave := issue(inter, pki.IssueRequest{CommonName: "dave"})
	revoke := func(a *pki.Authority, path string, r pki.Reason) {
		data, _ := os.ReadFile(path)
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Revoke(ctx, pki.RevokeRequest{Cert: certs[0], Reason: r}); err != nil {
			t.Fatal(err)
		}
	}
	revoke(root, bob, pki.ReasonKeyCompromise)
	revoke(inter, dave, pki.ReasonAffiliationChanged)
	for _, a := range []*pki.Authority{root, inter} {
		if _, err := a.PublishCRL(ctx, pki.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rootCRL, _ := os.ReadFile(filepath.Join(root.Dir, pki.CRLFile))
	interCRL, _ := os.ReadFile(filepath.Join(inter.Dir, pki.CRLFile))
	crls := filepath.Join(tmp, "crls.pem")
	if err := os.WriteFile(crls, append(rootCRL, interCRL...), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(root.Dir, pki.CACertFile)
	chainFile := filepath.Join(inter.Dir, pki.ChainFile)
	tests := []struct {
		name, cert, purpose string
		ok                  bool
		wantOut             string
	}{
		{"a client of the root verifies", alice, "sslclient", true, ": OK"},
		{"a revoked client of the root fails as revoked", bob, "sslclient", false, "certificate revoked"},
		{"an RSA server certificate verifies for sslserver", server, "sslserver", true, ": OK"},
		{"a client certificate is not a server certificate", alice, "sslserver", false, "unsuitable certificate purpose"},
		{"a client of the intermediate verifies with both CRLs", carol, "sslclient", true, ": OK"},
		{"a revoked client of the intermediate fails as revoked", dave, "sslclient", false, "certificate revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := pkitest.OpenSSL(t, bin, tmp, "verify", "-crl_check_all", "-purpose", tt.purpose,
				"-CAfile", caFile, "-untrusted", chainFile, "-CRLfile", crls, tt.cert)
			if (err == nil) != tt.ok || !strings.Contains(out, tt.wantOut) {
				t.Errorf("openssl verify: err=%v, want ok=%v and output containing %q\n%s", err, tt.ok, tt.wantOut, out)
			}
		})
	}
	t.Run("openssl reads the DER CRL with its number and reason", func(t *testing.T) {
		out := pkitest.MustOpenSSL(t, bin, tmp, "crl", "-inform", "DER", "-in", filepath.Join(root.Dir, pki.CRLDER), "-noout", "-text")
		for _, want := range []string{"X509v3 CRL Number", "Key Compromise", "Issuer: CN = Root CA"} {
			if !strings.Contains(out, want) {
				t.Errorf("openssl crl -text lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestCertgateReadsWhatTheOpenSSLRecipesMake(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	pkitest.WriteOpenSSLCA(t, dir)
	// The recipe: an RSA 4096 CA, CSRs with -subj, openssl ca to sign,
	// revoke and generate the CRL.
	pkitest.MustOpenSSL(t, bin, dir, "genrsa", "-out", "ca.key", "4096")
	pkitest.MustOpenSSL(t, bin, dir, "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650", "-subj", "/O=Example/CN=Example Root CA", "-out", "ca.pem")
	for _, c := range []struct{ name, subj string }{{"jenkins", "/O=ci/OU=build/CN=jenkins"}, {"viewer", "/O=viewers/O=ci/CN=viewer"}} {
		pkitest.MustOpenSSL(t, bin, dir, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", c.name+".key", "-subj", c.subj, "-out", c.name+".csr")
		pkitest.MustOpenSSL(t, bin, dir, "ca", "-config", "openssl.cnf", "-batch", "-notext", "-in", c.name+".csr", "-out", c.name+".pem")
	}
	pkitest.MustOpenSSL(t, bin, dir, "ca", "-config", "openssl.cnf", "-revoke", "jenkins.pem", "-crl_reason", "keyCompromise")
	pkitest.MustOpenSSL(t, bin, dir, "ca", "-config", "openssl.cnf", "-gencrl", "-out", "crl.pem")

	read := func(name string) *pki.Contents {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		c, err := pki.ReadContents(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	t.Run("identity fields are read in subject order", func(t *testing.T) {
		for _, tt := range []struct {
			file       string
			user       string
			groups, ou []string
		}{
			{"jenkins.pem", "jenkins", []string{"ci"}, []string{"build"}},
			{"viewer.pem", "viewer", []string{"viewers", "ci"}, []string{}},
		} {
			id, err := identity.New(read(tt.file).Certs[0], identity.SourceEnvoy)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{id.User, id.Groups, id.OrgUnits}
			if diff := cmp.Diff([]any{tt.user, tt.groups, tt.ou}, got); diff != "" {
				t.Errorf("%s identity (-want +got):\n%s", tt.file, diff)
			}
		}
	})
	t.Run("the CRL's number and reason are read", func(t *testing.T) {
		crl := read("crl.pem").CRLs[0]
		jenkins := read("jenkins.pem").Certs[0]
		if crl.Number.Int64() != 0x1000 || len(crl.RevokedCertificateEntries) != 1 {
			t.Fatalf("CRL number %v with %d entries, want 0x1000 with 1", crl.Number, len(crl.RevokedCertificateEntries))
		}
		e := crl.RevokedCertificateEntries[0]
		if e.SerialNumber.Cmp(jenkins.SerialNumber) != 0 || pki.Reason(e.ReasonCode) != pki.ReasonKeyCompromise {
			t.Errorf("entry %X %v, want %X keyCompromise", e.SerialNumber, pki.Reason(e.ReasonCode), jenkins.SerialNumber)
		}
	})
	t.Run("trust honours the openssl CRL", func(t *testing.T) {
		store, err := trust.Load(trust.Config{CAFiles: []string{filepath.Join(dir, "ca.pem")}, CRLFiles: []string{filepath.Join(dir, "crl.pem")}, CRLMode: trust.CRLModeFullChain})
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Verify(read("jenkins.pem").Certs, trust.VerifyOptions{Purpose: trust.PurposeClient})
		var te *trust.Error
		if !errors.As(err, &te) || te.Reason != trust.ReasonRevoked {
			t.Errorf("revoked jenkins: %v, want reason revoked", err)
		}
		if _, err := store.Verify(read("viewer.pem").Certs, trust.VerifyOptions{Purpose: trust.PurposeClient}); err != nil {
			t.Errorf("viewer: %v, want valid", err)
		}
	})
}

func TestOpenSSLReadsTheExportedPKCS12(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	a := newAuthority(t, "p12 CA")
	iss, err := a.Issue(context.Background(), pki.IssueRequest{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		opts pki.ExportOptions
	}{
		{"modern", pki.ExportOptions{Password: "pw"}},
		{"legacy", pki.ExportOptions{Password: "pw", Legacy: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pfx, err := pki.ExportPKCS12(iss.Cert, iss.Key, []*x509.Certificate{a.CA.Cert}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, tt.name+".p12")
			if err := os.WriteFile(file, pfx, 0o600); err != nil {
				t.Fatal(err)
			}
			// Legacy is 3DES, which OpenSSL 3 reads without its legacy provider.
			args := []string{"pkcs12", "-in", file, "-passin", "pass:pw", "-nodes"}
			out := pkitest.MustOpenSSL(t, bin, dir, args...)
			for _, want := range []string{"subject=CN = alice", "subject=CN = p12 CA", "BEGIN PRIVATE KEY"} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl pkcs12 output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
