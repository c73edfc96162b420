package pki_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// newAuthority creates a root CA in a fresh PKI directory.
func newAuthority(t *testing.T, cn string) *pki.Authority {
	t.Helper()
	a, err := pki.Init(context.Background(), filepath.Join(t.TempDir(), "pki"), pki.InitOptions{Subject: pkix.Name{CommonName: cn}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readState(t *testing.T, dir string) *pki.State {
	t.Helper()
	st, err := pki.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestInitCreatesARootCAAndAnEmptyState(t *testing.T) {
	a := newAuthority(t, "Build CA")
	if !a.CA.Cert.IsCA || a.CA.Cert.Subject.CommonName != "Build CA" {
		t.Fatalf("CA = %v IsCA=%v", a.CA.Cert.Subject, a.CA.Cert.IsCA)
	}
	if info, err := os.Stat(filepath.Join(a.Dir, pki.CAKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode = %v (%v), want 0600", info.Mode().Perm(), err)
	}
	st := readState(t, a.Dir)
	want := pki.State{Version: 1, CA: pki.StateCA{Subject: "CN=Build CA", Serial: pki.FormatSerial(a.CA.Cert.SerialNumber), NotAfter: a.CA.Cert.NotAfter}, Issued: []pki.IssuedEntry{}, Revoked: []pki.RevokedEntry{}}
	if diff := cmp.Diff(want, *st); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	reopened, err := pki.Open(a.Dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reopened.CA.Cert.Equal(a.CA.Cert) {
		t.Error("Open returned another CA")
	}
}

func TestInitRefusesADirectoryThatHoldsACA(t *testing.T) {
	a := newAuthority(t, "first")
	_, err := pki.Init(context.Background(), a.Dir, pki.InitOptions{Subject: pkix.Name{CommonName: "second"}})
	if err == nil || !strings.Contains(err.Error(), "already holds a CA") {
		t.Fatalf("second Init: %v, want an error saying the directory holds a CA", err)
	}
}

func TestInitWithAParentCreatesAnIntermediateAndItsChain(t *testing.T) {
	root := newAuthority(t, "root")
	inter, err := pki.Init(context.Background(), filepath.Join(t.TempDir(), "inter"), pki.InitOptions{Subject: pkix.Name{CommonName: "issuing"}, Parent: root.CA, MaxPathLenZero: true})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := inter.Issue(context.Background(), pki.IssueRequest{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.CA.Cert)
	data, err := os.ReadFile(filepath.Join(inter.Dir, pki.ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pki.ParseCertsPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 1 || !chain[0].Equal(inter.CA.Cert) {
		t.Fatalf("chain.pem holds %d certificates, want the intermediate only (no root)", len(chain))
	}
	inters.AddCert(chain[0])
	if _, err := iss.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("leaf of the intermediate does not verify to the root: %v", err)
	}
	if st := readState(t, inter.Dir); st.CA.Parent != "CN=root" {
		t.Errorf("state parent = %q, want CN=root", st.CA.Parent)
	}
}

func TestOpenSaysWhenTheCAKeyIsMissing(t *testing.T) {
	a := newAuthority(t, "ca")
	if err := os.Remove(filepath.Join(a.Dir, pki.CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	_, err := pki.Open(a.Dir, nil)
	if err == nil || !strings.Contains(err.Error(), "CA key missing") {
		t.Fatalf("Open without key: %v, want 'CA key missing'", err)
	}
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		req     pki.IssueRequest
		ku      x509.KeyUsage
		eku     []x509.ExtKeyUsage
		dns     []string
		wantErr string
	}{
		{"a client certificate carries clientAuth and digitalSignature only",
			pki.IssueRequest{CommonName: "jenkins", Organizations: []string{"ci", "builders"}, OrgUnits: []string{"build"}},
			x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, ""},
		{"an RSA client certificate has no keyEncipherment",
			pki.IssueRequest{CommonName: "rsa-client", KeyAlgorithm: pki.RSA2048},
			x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, ""},
		{"an ECDSA server certificate carries serverAuth",
			pki.IssueRequest{CommonName: "api", Server: true, DNSNames: []string{"api.example.com"}, IPAddresses: []net.IP{net.IPv4(10, 0, 0, 5)}},
			x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []string{"api", "api.example.com"}, ""},
		{"an RSA server certificate adds keyEncipherment",
			pki.IssueRequest{CommonName: "rsa.example.com", Server: true, DNSNames: []string{"rsa.example.com"}, KeyAlgorithm: pki.RSA2048},
			x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []string{"rsa.example.com"}, ""},
		{"a server certificate without SANs gets its host name CN as DNS SAN",
			pki.IssueRequest{CommonName: "registry.example.com", Server: true},
			x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []string{"registry.example.com"}, ""},
		{"a server certificate without SANs and a CN that is no host name is refused",
			pki.IssueRequest{CommonName: "Build Server", Server: true}, 0, nil, nil, "needs at least one SAN"},
		{"a client certificate needs a common name",
			pki.IssueRequest{Organizations: []string{"ci"}}, 0, nil, nil, "common name"},
		{"a name that would leave the output directory is refused",
			pki.IssueRequest{CommonName: "x", Name: "../x"}, 0, nil, nil, "file name"},
	}
	a := newAuthority(t, "ca")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := a.Issue(ctx, tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Issue: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := iss.Cert
			if c.KeyUsage != tt.ku {
				t.Errorf("key usage = %v, want %v", pki.KeyUsageNames(c.KeyUsage), pki.KeyUsageNames(tt.ku))
			}
			if diff := cmp.Diff(tt.eku, c.ExtKeyUsage); diff != "" {
				t.Errorf("EKU (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.dns, c.DNSNames); diff != "" {
				t.Errorf("DNS SANs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.req.Organizations, c.Subject.Organization); diff != "" {
				t.Errorf("O (-want +got):\n%s", diff)
			}
			if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
				t.Errorf("serial %x is not a positive random 128-bit number", c.SerialNumber)
			}
			if _, isRSA := c.PublicKey.(*rsa.PublicKey); isRSA != (tt.req.KeyAlgorithm == pki.RSA2048) {
				t.Errorf("key %s, asked for %q", pki.DescribeKey(c.PublicKey), tt.req.KeyAlgorithm)
			}
			if err := c.CheckSignatureFrom(a.CA.Cert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
			info, err := os.Stat(iss.KeyPath)
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("key file mode = %v (%v), want 0600", info.Mode().Perm(), err)
			}
			keyPEM, _ := os.ReadFile(iss.KeyPath)
			if !strings.HasPrefix(string(keyPEM), "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("key file is not unencrypted PKCS #8:\n%s", keyPEM)
			}
			st := readState(t, a.Dir)
			last := st.Issued[len(st.Issued)-1]
			if last.Serial != pki.FormatSerial(c.SerialNumber) || last.File != iss.CertPath || !last.NotAfter.Equal(c.NotAfter) {
				t.Errorf("state records %+v for serial %X", last, c.SerialNumber)
			}
		})
	}
}

func TestIssueMakesTheServerCommonNameASAN(t *testing.T) {
	tests := []struct {
		name  string
		req   pki.IssueRequest
		sans  []string
		hosts []string // names a TLS client verifies the certificate for
	}{
		{"localhost beside an IP SAN becomes DNS:localhost",
			pki.IssueRequest{CommonName: "localhost", IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}},
			[]string{"DNS:localhost", "IP:127.0.0.1"}, []string{"localhost", "127.0.0.1"}},
		{"a dotted CN beside other DNS SANs comes first",
			pki.IssueRequest{CommonName: "api.example.com", DNSNames: []string{"api.internal"}},
			[]string{"DNS:api.example.com", "DNS:api.internal"}, []string{"api.example.com", "api.internal"}},
		{"a CN already among the DNS SANs is not repeated",
			pki.IssueRequest{CommonName: "ci", DNSNames: []string{"ci.example.com", "ci"}},
			[]string{"DNS:ci.example.com", "DNS:ci"}, []string{"ci"}},
		{"an IP CN becomes an IP SAN, not a DNS one",
			pki.IssueRequest{CommonName: "10.0.0.5"},
			[]string{"IP:10.0.0.5"}, []string{"10.0.0.5"}},
		{"an IP CN already among the IP SANs is not repeated",
			pki.IssueRequest{CommonName: "10.0.0.5", IPAddresses: []net.IP{net.ParseIP("10.0.0.5")}},
			[]string{"IP:10.0.0.5"}, []string{"10.0.0.5"}},
		{"a CN that is no host name stays a label",
			pki.IssueRequest{CommonName: "Build Server", DNSNames: []string{"build.example.com"}},
			[]string{"DNS:build.example.com"}, []string{"build.example.com"}},
	}
	a := newAuthority(t, "ca")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Server, tt.req.OutDir = true, t.TempDir()
			iss, err := a.Issue(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.sans, pki.SANs(iss.Cert)); diff != "" {
				t.Errorf("SANs (-want +got):\n%s", diff)
			}
			for _, h := range tt.hosts {
				if err := iss.Cert.VerifyHostname(h); err != nil {
					t.Errorf("a TLS client connecting to %s refuses it: %v", h, err)
				}
			}
		})
	}
}

func TestIssueRefusesToOverwriteWithoutForce(t *testing.T) {
	ctx := context.Background()
	a := newAuthority(t, "ca")
	first, err := a.Issue(ctx, pki.IssueRequest{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(first.CertPath)
	_, err = a.Issue(ctx, pki.IssueRequest{CommonName: "alice"})
	if !errors.Is(err, pki.ErrExists) {
		t.Fatalf("second Issue: %v, want ErrExists", err)
	}
	if after, _ := os.ReadFile(first.CertPath); string(after) != string(before) {
		t.Error("a refused Issue changed the certificate file")
	}
	if n := len(readState(t, a.Dir).Issued); n != 1 {
		t.Errorf("state lists %d issued certificates after a refused Issue, want 1", n)
	}
	second, err := a.Issue(ctx, pki.IssueRequest{CommonName: "alice", Force: true})
	if err != nil {
		t.Fatalf("Issue with Force: %v", err)
	}
	if second.Cert.SerialNumber.Cmp(first.Cert.SerialNumber) == 0 {
		t.Error("the forced reissue kept the serial")
	}
}

func TestIssueRefusesToOverwriteTheCAFiles(t *testing.T) {
	a := newAuthority(t, "ca")
	_, err := a.Issue(context.Background(), pki.IssueRequest{CommonName: "ca", OutDir: a.Dir, Force: true})
	if err == nil || !strings.Contains(err.Error(), "CA's own file") {
		t.Fatalf("Issue over ca.pem: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	a := newAuthority(t, "ca")
	other := newAuthority(t, "ca") // same name, other key
	mine, err := a.Issue(ctx, pki.IssueRequest{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Issue(ctx, pki.IssueRequest{CommonName: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.Revoke(ctx, pki.RevokeRequest{Cert: mine.Cert, Reason: pki.ReasonKeyCompromise})
	if err != nil {
		t.Fatal(err)
	}
	if e.Serial != pki.FormatSerial(mine.Cert.SerialNumber) || e.Reason != pki.ReasonKeyCompromise || e.Subject != "CN=alice" {
		t.Errorf("revoked entry = %+v", e)
	}
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Cert: mine.Cert}); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("second revocation: %v, want 'already revoked'", err)
	}
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Cert: foreign.Cert}); !errors.Is(err, pki.ErrForeignCert) {
		t.Errorf("revoking a certificate of another CA with the same name: %v, want ErrForeignCert", err)
	}
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Serial: big.NewInt(0xabcdef)}); !errors.Is(err, pki.ErrUnknownSerial) {
		t.Errorf("revoking an unknown serial: %v, want ErrUnknownSerial", err)
	}
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Serial: big.NewInt(0xabcdef), AllowUnknown: true, Reason: pki.ReasonSuperseded}); err != nil {
		t.Errorf("revoking an unknown serial with AllowUnknown: %v", err)
	}
	st := readState(t, a.Dir)
	got := []string{}
	for _, r := range st.Revoked {
		got = append(got, r.Serial+" "+r.Reason.String())
	}
	want := []string{pki.FormatSerial(mine.Cert.SerialNumber) + " keyCompromise", "ABCDEF superseded"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("revoked in state (-want +got):\n%s", diff)
	}
}

func TestPublishCRLNumbersIncreaseAndCarryReasons(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	a := newAuthority(t, "ca")
	a.CA.Now = func() time.Time { return now }
	iss, err := a.Issue(ctx, pki.IssueRequest{CommonName: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.PublishCRL(ctx, pki.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Cert: iss.Cert, Reason: pki.ReasonCessationOfOperation}); err != nil {
		t.Fatal(err)
	}
	second, err := a.PublishCRL(ctx, pki.PublishOptions{Validity: 30 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if first.Number.Int64() != 1 || second.Number.Int64() != 2 {
		t.Errorf("CRL numbers %v, %v, want 1, 2", first.Number, second.Number)
	}
	if len(first.RevokedCertificateEntries) != 0 || len(second.RevokedCertificateEntries) != 1 {
		t.Fatalf("entries %d then %d, want 0 then 1", len(first.RevokedCertificateEntries), len(second.RevokedCertificateEntries))
	}
	e := second.RevokedCertificateEntries[0]
	if e.SerialNumber.Cmp(iss.Cert.SerialNumber) != 0 || e.ReasonCode != int(pki.ReasonCessationOfOperation) {
		t.Errorf("entry serial %X reason %d", e.SerialNumber, e.ReasonCode)
	}
	if got := second.NextUpdate.Sub(second.ThisUpdate); got != 30*time.Hour {
		t.Errorf("nextUpdate - thisUpdate = %v, want 30h", got)
	}
	for _, name := range []string{pki.CRLFile, pki.CRLDER} {
		data, err := os.ReadFile(filepath.Join(a.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		crls, err := trust.ParseCRLs(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		crl := crls[0]
		if crl.Number.Int64() != 2 || crl.CheckSignatureFrom(a.CA.Cert) != nil {
			t.Errorf("%s: number %v, want 2 signed by the CA", name, crl.Number)
		}
	}
	check, err := trust.CheckCRL(second, []*x509.Certificate{a.CA.Cert}, now.Add(time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !check.OK || check.Remaining != 30*time.Hour-5*time.Minute-time.Hour {
		t.Errorf("check an hour in: %+v, want OK with 23h55m left", check)
	}
	check, _ = trust.CheckCRL(second, nil, now.Add(7*time.Hour), 24*time.Hour)
	if check.OK {
		t.Errorf("check with %v left passed a 24h threshold", check.Remaining)
	}
	other := newAuthority(t, "ca")
	if _, err := trust.CheckCRL(second, []*x509.Certificate{other.CA.Cert}, now, time.Hour); err == nil {
		t.Error("CheckCRL accepted a CRL signed by another CA of the same name")
	}
}

// TestConcurrentRevocationsAreAllRecorded revokes different certificates
// from many goroutines at once, each with its own Authority (its own lock
// file descriptor, as separate processes have) and each publishing a CRL.
func TestConcurrentRevocationsAreAllRecorded(t *testing.T) {
	ctx := context.Background()
	a := newAuthority(t, "ca")
	const n = 16
	certs := make([]*x509.Certificate, n)
	for i := range certs {
		iss, err := a.Issue(ctx, pki.IssueRequest{CommonName: "client", Name: "client" + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		certs[i] = iss.Cert
	}
	numbers := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			own, err := pki.Open(a.Dir, nil)
			if err != nil {
				errs <- err
				return
			}
			if _, err := own.Revoke(ctx, pki.RevokeRequest{Cert: certs[i], Reason: pki.ReasonSuperseded}); err != nil {
				errs <- err
				return
			}
			crl, err := own.PublishCRL(ctx, pki.PublishOptions{})
			if err != nil {
				errs <- err
				return
			}
			numbers[i] = crl.Number.Int64()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := readState(t, a.Dir)
	if len(st.Revoked) != n || st.CRLNumber != n {
		t.Fatalf("state has %d revocations and CRL number %d, want %d and %d", len(st.Revoked), st.CRLNumber, n, n)
	}
	seen := map[int64]bool{}
	for _, num := range numbers {
		if seen[num] || num < 1 || num > n {
			t.Errorf("CRL numbers %v: not %d distinct numbers 1..%d", numbers, n, n)
			break
		}
		seen[num] = true
	}
	data, _ := os.ReadFile(filepath.Join(a.Dir, pki.CRLFile))
	crls, err := trust.ParseCRLs(data)
	if err != nil {
		t.Fatal(err)
	}
	crl := crls[0]
	if crl.Number.Int64() != n || len(crl.RevokedCertificateEntries) != n {
		t.Errorf("crl.pem: number %v with %d entries, want the last CRL (%d) listing all %d", crl.Number, len(crl.RevokedCertificateEntries), n, n)
	}
}
