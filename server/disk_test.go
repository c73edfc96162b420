package server

import (
	"crypto/x509"
	"encoding/json"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/rego"
	"github.com/certgate/certgate/trust"
)

// diskWorld is a PKI whose CA, CRL and policy live in files, as in
// production, so reloads read what an operator writes.
type diskWorld struct {
	ca *pkitest.CA
	// crlNumber is the number of the last CRL written: each write numbers
	// its CRL one higher, as a CA does, so that reloads move forward.
	crlNumber atomic.Int64
}

func newDiskWorld(t *testing.T) *diskWorld {
	t.Helper()
	return &diskWorld{ca: pkitest.New(t, "disk root")}
}

// version is what one generation of the files says.
type version struct {
	// revoked are listed in the CRL.
	revoked []*x509.Certificate
	// grants replaces data.certgate.groups[group] for each group named.
	grants map[string][]string
	// routes are added to data.certgate.routes.
	routes []map[string]string
	// adminGrants, when set, replaces data.certgate.admin.groups.
	adminGrants map[string][]string
	// noAdminRule leaves admin.rego out of the policy.
	noAdminRule bool
	// brokenRego, brokenCRL write unusable content instead.
	brokenRego, brokenCRL bool
	// crlNumber, when not zero, numbers the CRL instead of the next number.
	crlNumber int64
	// moreCRLs follow the root's CRL in crl.pem.
	moreCRLs []*x509.RevocationList
}

// write writes v's ca.pem and crl.pem into trustDir and the shipped policy
// (authz.rego, admin.rego) with v's grants and routes into policyDir.
func (w *diskWorld) write(t *testing.T, trustDir, policyDir string, v version) {
	t.Helper()
	mustWrite(t, filepath.Join(trustDir, "ca.pem"), pki.EncodeCertsPEM(w.ca.Cert))
	number := w.crlNumber.Add(1)
	if v.crlNumber != 0 {
		number = v.crlNumber
	}
	crl := pki.EncodeCRLPEM(w.ca.CRLWith(pki.CRLOptions{Number: big.NewInt(number)}, v.revoked...).Raw)
	for _, more := range v.moreCRLs {
		crl = append(crl, pki.EncodeCRLPEM(more.Raw)...)
	}
	if v.brokenCRL {
		crl = []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
	}
	mustWrite(t, filepath.Join(trustDir, "crl.pem"), crl)
	regoSrc, err := fs.ReadFile(rego.Default, "authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	if v.brokenRego {
		regoSrc = append(regoSrc, []byte("\nthis is not rego {\n")...)
	}
	mustWrite(t, filepath.Join(policyDir, "authz.rego"), regoSrc)
	adminPath := filepath.Join(policyDir, "admin.rego")
	if v.noAdminRule {
		if err := os.Remove(adminPath); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	} else {
		adminSrc, err := fs.ReadFile(rego.Default, "admin.rego")
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, adminPath, adminSrc)
	}
	raw, err := fs.ReadFile(rego.Default, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	groups := data["certgate"]["groups"].(map[string]any)
	for g, perms := range v.grants {
		groups[g] = perms
	}
	for _, r := range v.routes {
		data["certgate"]["routes"] = append(data["certgate"]["routes"].([]any), r)
	}
	if v.adminGrants != nil {
		data["certgate"]["admin"].(map[string]any)["groups"] = v.adminGrants
	}
	out, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(policyDir, "data.json"), out)
}

func (w *diskWorld) trustConfig(trustDir string) trust.Config {
	return trust.Config{
		CAFiles:  []string{filepath.Join(trustDir, "ca.pem")},
		CRLFiles: []string{filepath.Join(trustDir, "crl.pem")},
		CRLMode:  trust.CRLModeFullChain,
	}
}

func mustWrite(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// kubeVolume mimics how the kubelet updates a ConfigMap or Secret volume:
// the files live in a hidden timestamped directory, "..data" links to it,
// and each visible name links through "..data". An update writes a new
// directory and renames a new "..data" link over the old one.
type kubeVolume struct {
	dir string
	gen int
}

// update publishes a new generation whose files fill writes.
func (k *kubeVolume) update(t *testing.T, fill func(dir string)) {
	t.Helper()
	k.gen++
	genDir := filepath.Join(k.dir, "..gen_"+string(rune('a'+k.gen)))
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		t.Fatal(err)
	}
	fill(genDir)
	entries, err := os.ReadDir(genDir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(genDir), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		link := filepath.Join(k.dir, e.Name())
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", e.Name()), link); err != nil {
			t.Fatal(err)
		}
	}
}
