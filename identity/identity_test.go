package identity_test

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestNew(t *testing.T) {
	ca := pkitest.New(t, "root")
	sans := pkitest.With(func(o *pki.Options) {
		o.DNSNames = []string{"jenkins.example", "ci.example"}
		o.IPAddresses = []net.IP{net.ParseIP("10.0.0.7"), net.ParseIP("2001:db8::1")}
		o.EmailAddresses = []string{"ci@example.org"}
		o.URIs = []*url.URL{mustURL(t, "https://example.org/ci"), mustURL(t, "spiffe://example.org/ci/jenkins"), mustURL(t, "urn:example:ci")}
	})
	tests := []struct {
		name string
		cert *pki.Certificate
		want func(c *x509.Certificate) identity.Identity
	}{
		{
			"a subject /O=DevOps/O=iOSDEV gives both groups in order",
			ca.Leaf("alice", pkitest.Orgs("DevOps", "iOSDEV")),
			func(c *x509.Certificate) identity.Identity {
				id := base(c, "alice")
				id.Groups = []string{"DevOps", "iOSDEV"}
				// pkix.Name.String groups equal types into one RDN; the
				// groups come from the attributes, one RDN each.
				id.Subject = "CN=alice,O=DevOps+O=iOSDEV"
				return id
			},
		},
		{
			"groups keep their spaces and units come from every OU",
			ca.Leaf("bob", pkitest.Orgs("DevOps", "iOS DEV"), pkitest.OrgUnits("build", "release")),
			func(c *x509.Certificate) identity.Identity {
				id := base(c, "bob")
				id.Groups = []string{"DevOps", "iOS DEV"}
				id.OrgUnits = []string{"build", "release"}
				id.Subject = c.Subject.String()
				return id
			},
		},
		{
			`a CN holding commas and "O=" is the user and adds no group`,
			ca.Leaf(`mallory, O=admins,OU=root`, pkitest.Orgs("viewers")),
			func(c *x509.Certificate) identity.Identity {
				id := base(c, `mallory, O=admins,OU=root`)
				id.Groups = []string{"viewers"}
				id.Subject = `CN=mallory\, O=admins\,OU=root,O=viewers`
				return id
			},
		},
		{
			"SANs are listed and the spiffe URI is the SPIFFE ID",
			ca.Leaf("jenkins", sans),
			func(c *x509.Certificate) identity.Identity {
				id := base(c, "jenkins")
				id.SANs = identity.SANs{
					DNS:   []string{"jenkins.example", "ci.example"},
					IP:    []string{"10.0.0.7", "2001:db8::1"},
					Email: []string{"ci@example.org"},
					URI:   []string{"https://example.org/ci", "spiffe://example.org/ci/jenkins", "urn:example:ci"},
				}
				id.SPIFFEID = "spiffe://example.org/ci/jenkins"
				return id
			},
		},
		{
			"a serial is lower-case hex",
			ca.Leaf("serial", pkitest.Serial(0xABCDEF)),
			func(c *x509.Certificate) identity.Identity {
				id := base(c, "serial")
				id.Serial = "abcdef"
				return id
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.New(tt.cert.Cert, identity.SourceXFCC)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want(tt.cert.Cert), got); diff != "" {
				t.Errorf("New (-want +got):\n%s", diff)
			}
		})
	}
}

// base is the Identity of c with no groups, units or SANs.
func base(c *x509.Certificate, user string) identity.Identity {
	sum := sha256.Sum256(c.Raw)
	return identity.Identity{
		User:              user,
		Groups:            []string{},
		OrgUnits:          []string{},
		Subject:           "CN=" + user,
		Issuer:            "CN=root,O=certgate tests",
		Serial:            c.SerialNumber.Text(16),
		FingerprintSHA256: hex.EncodeToString(sum[:]),
		SANs:              identity.SANs{DNS: []string{}, IP: []string{}, Email: []string{}, URI: []string{}},
		NotBefore:         c.NotBefore,
		NotAfter:          c.NotAfter,
		Source:            identity.SourceXFCC,
	}
}

func TestNewOnUnusualCertificates(t *testing.T) {
	tests := []struct {
		name       string
		cert       *x509.Certificate
		wantSerial string
		wantUser   string
	}{
		{"a negative serial keeps its sign", &x509.Certificate{SerialNumber: big.NewInt(-255)}, "-ff", ""},
		{"a zero serial is 0", &x509.Certificate{SerialNumber: big.NewInt(0)}, "0", ""},
		{"a missing serial is empty", &x509.Certificate{}, "", ""},
		{"a nil certificate gives an empty identity", nil, "", ""},
		{
			"multi-valued RDNs still give every O in order",
			&x509.Certificate{Subject: nameOf(t, pkix.RDNSequence{
				{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "a"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "b"}},
				{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "carol"}},
			})},
			"", "carol",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := identity.New(tt.cert, identity.SourceEnvoy)
			if err != nil {
				t.Fatal(err)
			}
			if id.Serial != tt.wantSerial || id.User != tt.wantUser {
				t.Errorf("Serial, User = %q, %q; want %q, %q", id.Serial, id.User, tt.wantSerial, tt.wantUser)
			}
			if tt.wantUser == "carol" {
				if diff := cmp.Diff([]string{"a", "b"}, id.Groups); diff != "" {
					t.Errorf("Groups (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestNewJSONShowsEmptyListsNotNull(t *testing.T) {
	ca := pkitest.New(t, "root")
	id, err := identity.New(ca.Leaf("plain").Cert, identity.SourceHeader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"groups":    []any{},
		"org_units": []any{},
		"sans":      map[string]any{"dns": []any{}, "ip": []any{}, "email": []any{}, "uri": []any{}},
		"source":    "header",
		"spiffe_id": "",
		"user":      "plain",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
}

func TestNewDoesNotAliasTheCertificate(t *testing.T) {
	ca := pkitest.New(t, "root")
	c := ca.Leaf("alice", pkitest.Orgs("DevOps"), pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"a.example"} }))
	id, err := identity.New(c.Cert, identity.SourceEnvoy)
	if err != nil {
		t.Fatal(err)
	}
	id.Groups[0], id.SANs.DNS[0] = "admins", "evil.example"
	if c.Cert.Subject.Organization[0] != "DevOps" || c.Cert.DNSNames[0] != "a.example" {
		t.Error("changing the Identity changed the certificate")
	}
}

func nameOf(t *testing.T, rdns pkix.RDNSequence) pkix.Name {
	t.Helper()
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	return n
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
