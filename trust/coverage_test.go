package trust_test

import (
	"crypto/x509"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

func TestCAsWithoutCRLAreTheOnesNoCRLSpeaksFor(t *testing.T) {
	root := pkitest.New(t, "root")
	inter := root.ChildCA("inter")
	other := pkitest.New(t, "other")
	tests := []struct {
		name   string
		inters []*x509.Certificate
		crls   []*x509.RevocationList
		want   []string
	}{
		{"a CA with its CRL lacks none", nil, []*x509.RevocationList{root.CRL()}, nil},
		{"an intermediate without a CRL of its own lacks one", []*x509.Certificate{inter.Cert}, []*x509.RevocationList{root.CRL()}, []string{"CN=inter"}},
		{"a CRL of another CA covers none of ours", nil, []*x509.RevocationList{other.CRL()}, []string{"CN=root,O=certgate tests"}},
		{"root and intermediate with a CRL each lack none", []*x509.Certificate{inter.Cert}, []*x509.RevocationList{root.CRL(), inter.CRL()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := trust.NewStore([]*x509.Certificate{root.Cert}, tt.inters, tt.crls, trust.CRLModeFullChain)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ca := range store.CAsWithoutCRL() {
				got = append(got, ca.Subject.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CAsWithoutCRL (-want +got):\n%s", diff)
			}
		})
	}
}
