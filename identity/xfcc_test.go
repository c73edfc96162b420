package identity_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestParseXFCC(t *testing.T) {
	got, err := identity.ParseXFCC(`By=spiffe://a;Hash=abc;Subject="CN=x, O=a;b=c \"q\"";URI=spiffe://x;DNS=a.example;DNS=b.example,by=spiffe://b;cert=Zm9v`)
	if err != nil {
		t.Fatal(err)
	}
	want := []identity.XFCCElement{
		{By: "spiffe://a", Hash: "abc", Subject: `CN=x, O=a;b=c "q"`, URI: []string{"spiffe://x"}, DNS: []string{"a.example", "b.example"}},
		{By: "spiffe://b", Cert: "Zm9v"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseXFCC (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`Cert="unterminated`, `=value`, `Cert=a"b`, `novalue`} {
		if _, err := identity.ParseXFCC(bad); !errors.Is(err, identity.ErrMalformed) {
			t.Errorf("ParseXFCC(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestExtractFromXFCCAndRFC9440(t *testing.T) {
	root := pkitest.New(t, "root")
	inter := root.ChildCA("inter")
	alice := inter.Leaf("alice")
	mallory := inter.Leaf("mallory")
	trusted := identity.Options{TrustForwardedHeaders: true}
	b64 := func(der []byte) string { return ":" + base64.StdEncoding.EncodeToString(der) + ":" }
	aliceXFCC := `By=spiffe://proxy;Cert="` + client.EscapePEM(alice.CertPEM()) + `";Subject="CN=alice"`
	tests := []struct {
		name      string
		headers   map[string]string
		wantChain []string
		wantErr   error
	}{
		{"the nearest hop of XFCC is the last element", map[string]string{"x-forwarded-client-cert": `Cert="` + client.EscapePEM(mallory.CertPEM()) + `",` + aliceXFCC}, []string{"alice"}, nil},
		{"an XFCC Chain carries the intermediates", map[string]string{"x-forwarded-client-cert": `Cert="` + client.EscapePEM(alice.CertPEM()) + `";Chain="` + client.EscapePEM(append(alice.CertPEM(), inter.CertPEM()...)) + `"`}, []string{"alice", "inter"}, nil},
		{"an XFCC Chain that does not start with Cert is malformed", map[string]string{"x-forwarded-client-cert": `Cert="` + client.EscapePEM(alice.CertPEM()) + `";Chain="` + client.EscapePEM(mallory.CertPEM()) + `"`}, nil, identity.ErrMalformed},
		{"an XFCC hop without a certificate presents none", map[string]string{"x-forwarded-client-cert": aliceXFCC + `,By=spiffe://next;Hash=abc`}, nil, identity.ErrNoCertificate},
		{"RFC 9440 client-cert and client-cert-chain", map[string]string{"client-cert": b64(alice.Cert.Raw), "client-cert-chain": b64(inter.Cert.Raw)}, []string{"alice", "inter"}, nil},
		{"RFC 9440 without colons is malformed", map[string]string{"client-cert": base64.StdEncoding.EncodeToString(alice.Cert.Raw)}, nil, identity.ErrMalformed},
		{"RFC 9440 with bad base64 is malformed", map[string]string{"client-cert": ":@@@:"}, nil, identity.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.Extract("", tt.headers, trusted)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Extract error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got.Chain {
				names = append(names, c.Subject.CommonName)
			}
			if diff := cmp.Diff(tt.wantChain, names); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			if _, err := identity.Extract("", tt.headers, identity.Options{}); !errors.Is(err, identity.ErrNoCertificate) {
				t.Errorf("untrusted: error = %v, want ErrNoCertificate", err)
			}
		})
	}
}

func FuzzParseXFCC(f *testing.F) {
	for _, s := range []string{`By=a;Cert="x,y;z=\"w\""`, `a=b,c=d`, `"`, `Cert="%41"`, `,,;;==`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		els, err := identity.ParseXFCC(s)
		if err == nil && len(els) == 0 {
			t.Fatal("no element and no error")
		}
		if err != nil && !errors.Is(err, identity.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
