package trust_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// crlFile is a CRL file to write: a name and the CRLs it holds.
type crlFile struct {
	name string
	crls []*x509.RevocationList
}

func file(name string, crls ...*x509.RevocationList) crlFile { return crlFile{name, crls} }

// loadFiles writes cas and files into a fresh directory and loads them in
// full_chain mode.
func loadFiles(t *testing.T, cas []*x509.Certificate, files ...crlFile) (*trust.Store, error) {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pki.EncodeCertsPEM(cas...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := trust.Config{CAFiles: []string{ca}, CRLMode: trust.CRLModeFullChain}
	for _, f := range files {
		var data []byte
		for _, c := range f.crls {
			data = append(data, pki.EncodeCRLPEM(c.Raw)...)
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.CRLFiles = append(cfg.CRLFiles, p)
	}
	return trust.Load(cfg)
}

// numbered is a CRL option set: number n, thisUpdate at the test clock
// plus the given offset, valid a week from then.
func numbered(n int64, at time.Duration) pki.CRLOptions {
	return pki.CRLOptions{Number: big.NewInt(n), ThisUpdate: now.Add(at), NextUpdate: now.Add(at + 7*24*time.Hour)}
}

// deltaIndicator makes a CRL a delta CRL, which certgate never uses.
func deltaIndicator() []pkix.Extension {
	return []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x04}}}
}

func orderProblem(err error) trust.CRLOrderProblem {
	var oe *trust.CRLOrderError
	if errors.As(err, &oe) {
		return oe.Problem
	}
	if err != nil {
		return "untyped: " + trust.CRLOrderProblem(err.Error())
	}
	return ""
}

func TestLoadRefusesCRLsThatHaveNoNewest(t *testing.T) {
	h := newHierarchy(t)
	oldCA := pkitest.New(t, "Build Cloud CA", clock)
	newCA := pkitest.New(t, "Build Cloud CA", clock)
	cas := []*x509.Certificate{h.root.Cert, h.inter.Cert, oldCA.Cert, newCA.Cert}
	root := file("root.crl", h.root.CRL(), oldCA.CRL(), newCA.CRL())
	delta := numbered(9, -3*time.Hour)
	tests := []struct {
		name  string
		files []crlFile
		want  trust.CRLOrderProblem
		// names are what the error must name: both files.
		names []string
	}{
		{"numbers that rise with thisUpdate load", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(1, -2*time.Hour))), file("b.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, "", nil},
		{"a higher number with an older thisUpdate is refused", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(3, -2*time.Hour))), file("b.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, trust.CRLNumberAgainstTime, []string{"a.crl", "b.crl"}},
		{"the same disorder in one file is refused", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(2, -time.Hour)), h.inter.CRLWith(numbered(3, -2*time.Hour)))}, trust.CRLNumberAgainstTime, []string{"inter.crl"}},
		{"a disorder with an unnumbered CRL between the two is refused", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(3, -3*time.Hour))), file("u.crl", h.inter.UnnumberedCRL(numbered(0, -2*time.Hour))), file("b.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, trust.CRLNumberAgainstTime, []string{"a.crl", "b.crl"}},
		{"one number for two different CRLs is refused", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(2, -time.Hour), h.alice)), file("b.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, trust.CRLNumberReused, []string{"a.crl", "b.crl"}},
		{"one number with two thisUpdates is refused", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(2, -2*time.Hour))), file("b.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, trust.CRLNumberReused, []string{"a.crl", "b.crl"}},
		{"the same CRL in two files loads", func() []crlFile {
			c := h.inter.CRLWith(numbered(2, -time.Hour))
			return []crlFile{root, file("a.crl", c), file("b.crl", c)}
		}(), "", nil},
		{"two unnumbered CRLs of one thisUpdate that differ are refused", []crlFile{root, file("a.crl", h.inter.UnnumberedCRL(numbered(0, -time.Hour), h.alice)), file("b.crl", h.inter.UnnumberedCRL(numbered(0, -time.Hour)))}, trust.CRLSameThisUpdate, []string{"a.crl", "b.crl"}},
		{"unnumbered CRLs are placed by thisUpdate among numbered ones", []crlFile{root, file("a.crl", h.inter.CRLWith(numbered(1, -3*time.Hour)), h.inter.UnnumberedCRL(numbered(0, -2*time.Hour)), h.inter.CRLWith(numbered(2, -time.Hour)))}, "", nil},
		{"a rollover's two CAs of one name number apart", []crlFile{file("root.crl", h.root.CRL(), oldCA.CRLWith(numbered(50, -time.Hour)), newCA.CRLWith(numbered(1, -2*time.Hour))), file("inter.crl", h.inter.CRL())}, "", nil},
		{"a CRL never used (unsupported) takes no part", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(2, -time.Hour)), h.inter.SignCRL(&x509.RevocationList{Number: delta.Number, ThisUpdate: delta.ThisUpdate, NextUpdate: delta.NextUpdate, ExtraExtensions: deltaIndicator()}))}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadFiles(t, cas, tt.files...)
			if got := orderProblem(err); got != tt.want {
				t.Fatalf("Load: problem %q (%v), want %q", got, err, tt.want)
			}
			for _, n := range tt.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("Load error %q does not name %s", err, n)
				}
			}
		})
	}
}

// TestTheNewestCRLSpeaks: of an issuer's CRLs in effect, the newest alone
// decides, in the order checkOrder holds the set to.
func TestTheNewestCRLSpeaks(t *testing.T) {
	h := newHierarchy(t)
	bob := h.inter.Leaf("bob").Cert
	later := h.inter.CRLWith(numbered(2, time.Hour), h.alice)
	tests := []struct {
		name string
		crls []*x509.RevocationList
		at   time.Time
		want map[*x509.Certificate]trust.Reason
	}{
		{"an unnumbered CRL with a later thisUpdate supersedes a numbered one",
			list(h.inter.CRLWith(numbered(5, -2*time.Hour), h.alice), h.inter.UnnumberedCRL(numbered(0, -time.Hour), bob)), now,
			map[*x509.Certificate]trust.Reason{h.alice: "", bob: trust.ReasonRevoked}},
		{"a numbered CRL with a later thisUpdate supersedes an unnumbered one",
			list(h.inter.UnnumberedCRL(numbered(0, -2*time.Hour), h.alice), h.inter.CRLWith(numbered(1, -time.Hour), bob)), now,
			map[*x509.Certificate]trust.Reason{h.alice: "", bob: trust.ReasonRevoked}},
		{"a newer CRL does not speak before its thisUpdate",
			list(h.inter.CRLWith(numbered(1, -time.Hour)), later), now,
			map[*x509.Certificate]trust.Reason{h.alice: ""}},
		{"a newer CRL speaks from its thisUpdate",
			list(h.inter.CRLWith(numbered(1, -time.Hour)), later), later.ThisUpdate,
			map[*x509.Certificate]trust.Reason{h.alice: trust.ReasonRevoked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, append(list(h.root.CRL()), tt.crls...), trust.CRLModeFullChain)
			if err != nil {
				t.Fatal(err)
			}
			for cert, want := range tt.want {
				if _, err := store.Verify([]*x509.Certificate{cert}, trust.VerifyOptions{Now: tt.at}); reason(err) != want {
					t.Errorf("%s: reason %q (%v), want %q", cert.Subject.CommonName, reason(err), err, want)
				}
			}
		})
	}
	// The verdict given before the newer CRL takes effect ends when it does,
	// so that a cache keeping it cannot outlive the revocation.
	store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, list(h.root.CRL(), h.inter.CRLWith(numbered(1, -time.Hour)), later), trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now})
	if err != nil || !v.ValidUntil.Equal(later.ThisUpdate) {
		t.Errorf("before the newer CRL: %v, ValidUntil %v; want valid until %v", err, v, later.ThisUpdate)
	}
}

func TestCheckSuccessor(t *testing.T) {
	h := newHierarchy(t)
	oldCA := pkitest.New(t, "Build Cloud CA", clock)
	newCA := pkitest.New(t, "Build Cloud CA", clock)
	cas := []*x509.Certificate{h.root.Cert, h.inter.Cert, oldCA.Cert, newCA.Cert}
	root := file("root.crl", h.root.CRL())
	two := h.inter.CRLWith(numbered(2, -time.Hour), h.alice)
	one := h.inter.CRLWith(numbered(1, -2*time.Hour))
	serving := []crlFile{root, file("inter.crl", two), file("old-ca.crl", oldCA.CRLWith(numbered(50, -time.Hour)))}
	tests := []struct {
		name   string
		loaded []crlFile
		want   trust.CRLOrderProblem
	}{
		{"the same CRLs succeed", serving, ""},
		{"a higher number succeeds", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(3, -time.Hour/2)))}, ""},
		{"a higher number at the same thisUpdate succeeds", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(3, -time.Hour)))}, ""},
		{"a lower number is refused", []crlFile{root, file("inter.crl", one)}, trust.CRLOlderThanServing},
		{"a lower number is refused even with a later thisUpdate", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(1, -time.Hour/2)))}, trust.CRLOlderThanServing},
		{"the serving CRL beside an older one succeeds", []crlFile{root, file("inter.crl", one, two)}, ""},
		{"the same number with other contents is refused", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(2, -time.Hour)))}, trust.CRLNumberReused},
		{"the same number with a later thisUpdate is refused", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(2, -time.Hour/2), h.alice))}, trust.CRLNumberReused},
		{"a higher number with an older thisUpdate is refused", []crlFile{root, file("inter.crl", h.inter.CRLWith(numbered(3, -3*time.Hour), h.alice))}, trust.CRLNumberAgainstTime},
		{"an unnumbered CRL with a later thisUpdate succeeds", []crlFile{root, file("inter.crl", h.inter.UnnumberedCRL(numbered(0, -time.Hour/2)))}, ""},
		{"an unnumbered CRL with an older thisUpdate is refused", []crlFile{root, file("inter.crl", h.inter.UnnumberedCRL(numbered(0, -2*time.Hour)))}, trust.CRLOlderThanServing},
		{"dropping an issuer's CRLs is no rollback", []crlFile{root}, ""},
		{"the new CA of a rollover starts its own sequence", []crlFile{root, file("inter.crl", two), file("old-ca.crl", oldCA.CRLWith(numbered(50, -time.Hour))), file("new-ca.crl", newCA.CRLWith(numbered(1, -2*time.Hour)))}, ""},
		{"the new CA alone succeeds the old one", []crlFile{root, file("inter.crl", two), file("new-ca.crl", newCA.CRLWith(numbered(1, -2*time.Hour)))}, ""},
		{"the old CA of a rollover still may not go back", []crlFile{root, file("inter.crl", two), file("old-ca.crl", oldCA.CRLWith(numbered(49, -2*time.Hour))), file("new-ca.crl", newCA.CRLWith(numbered(60, -time.Hour)))}, trust.CRLOlderThanServing},
	}
	old, err := loadFiles(t, cas, serving...)
	if err != nil {
		t.Fatal(err)
	}
	var servingFiles []string
	for _, c := range old.Status().CRLs {
		servingFiles = append(servingFiles, c.File)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded, err := loadFiles(t, cas, tt.loaded...)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = loaded.CheckSuccessor(old)
			if got := orderProblem(err); got != tt.want {
				t.Fatalf("CheckSuccessor: problem %q (%v), want %q", got, err, tt.want)
			}
			var oe *trust.CRLOrderError
			if errors.As(err, &oe) && (!oe.Reload || !slices.Contains(servingFiles, oe.Old.File) || !strings.Contains(err.Error(), oe.Old.File) || !strings.Contains(err.Error(), oe.New.File)) {
				t.Errorf("CheckSuccessor error %q (%+v): want Reload set, Old the serving CRL, both files named", err, oe)
			}
		})
	}
	if err := old.CheckSuccessor(nil); err != nil {
		t.Errorf("a first store has no predecessor: %v", err)
	}
}
