package identity_test

import (
	"crypto/x509/pkix"
	"errors"
	"testing"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

func TestNewRefusesAmbiguousSubjects(t *testing.T) {
	ca := pkitest.New(t, "root")
	cn := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: pkitest.OIDCommonName, Value: v}
	}
	o := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: pkitest.OIDOrganization, Value: v}
	}
	uris := func(s ...string) pkitest.Option {
		return pkitest.With(func(o *pki.Options) {
			for _, u := range s {
				o.URIs = append(o.URIs, mustURL(t, u))
			}
		})
	}
	tests := []struct {
		name      string
		opts      []pkitest.Option
		ambiguous bool
		user      string
		groups    int
	}{
		{"two CNs in two RDNs are ambiguous", []pkitest.Option{pkitest.CommonNames(t, "mallory", "jenkins")}, true, "", 0},
		{"three CNs are ambiguous", []pkitest.Option{pkitest.CommonNames(t, "a", "b", "jenkins")}, true, "", 0},
		{"an empty CN before a real one is still a second CN", []pkitest.Option{pkitest.CommonNames(t, "", "jenkins")}, true, "", 0},
		{"two CNs in one multi-valued RDN are ambiguous", []pkitest.Option{pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{cn("mallory"), cn("jenkins")})}, true, "", 0},
		{"a CN sharing an RDN with an O is ambiguous", []pkitest.Option{pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{cn("mallory"), o("admins")})}, true, "", 0},
		{"a CN sharing an RDN with an O after other RDNs is ambiguous", []pkitest.Option{pkitest.Subject(t,
			pkix.RelativeDistinguishedNameSET{o("viewers")}, pkix.RelativeDistinguishedNameSET{o("ci"), cn("jenkins")})}, true, "", 0},
		{"a second CN in another string type is still a CN", []pkitest.Option{pkitest.BMPCommonName("jenkins"), pkitest.With(func(o *pki.Options) { o.Subject.CommonName = "mallory" })}, true, "", 0},
		{"two spiffe URI SANs are ambiguous", []pkitest.Option{uris("spiffe://example.org/a", "spiffe://example.org/b")}, true, "x", 0},
		{"a spiffe scheme in upper case is a spiffe URI too", []pkitest.Option{uris("spiffe://example.org/a", "SPIFFE://example.org/b")}, true, "x", 0},

		{"one CN and two O RDNs are a user and two groups", []pkitest.Option{pkitest.Orgs("ci", "builders")}, false, "x", 2},
		{"two O in one multi-valued RDN are two groups", []pkitest.Option{pkitest.Subject(t,
			pkix.RelativeDistinguishedNameSET{o("ci"), o("builders")}, pkix.RelativeDistinguishedNameSET{cn("jenkins")})}, false, "jenkins", 2},
		{"no CN is no user", []pkitest.Option{pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{o("viewers")})}, false, "", 1},
		{"an empty subject is no user", []pkitest.Option{pkitest.Subject(t), uris("spiffe://example.org/w")}, false, "", 0},
		{"one spiffe URI among others is the SPIFFE ID", []pkitest.Option{uris("https://example.org/a", "spiffe://example.org/w", "urn:x:y")}, false, "x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := ca.Leaf("x", tt.opts...).Cert
			id, err := identity.New(cert, identity.SourceEnvoy)
			if got := errors.Is(err, identity.ErrAmbiguousSubject); got != tt.ambiguous {
				t.Fatalf("New(%s) error = %v; want ambiguous %v", cert.Subject, err, tt.ambiguous)
			}
			if tt.ambiguous {
				if id.User != "" || id.SPIFFEID != "" {
					t.Errorf("an ambiguous identity names user %q, SPIFFE ID %q; want neither", id.User, id.SPIFFEID)
				}
				if id.FingerprintSHA256 == "" || id.Subject == "" && len(cert.Subject.Names) > 0 {
					t.Errorf("an ambiguous identity no longer describes the certificate: %+v", id)
				}
				return
			}
			if id.User != tt.user || len(id.Groups) != tt.groups {
				t.Errorf("User, Groups = %q, %q; want %q and %d groups", id.User, id.Groups, tt.user, tt.groups)
			}
			for _, u := range cert.URIs {
				if u.Scheme == "spiffe" && id.SPIFFEID != u.String() {
					t.Errorf("SPIFFEID = %q; want %q", id.SPIFFEID, u)
				}
			}
		})
	}
}

func TestNewRefusesTwoCNsOfACertificateBuiltInMemory(t *testing.T) {
	// Without DER (a test's or a tool's own x509.Certificate) the RDN
	// boundaries are gone, but the attributes still count.
	c := pkitest.New(t, "root").Leaf("x").Cert
	mem := *c
	mem.RawSubject = nil
	mem.Subject = nameOf(t, pkix.RDNSequence{
		{{Type: pkitest.OIDCommonName, Value: "mallory"}},
		{{Type: pkitest.OIDCommonName, Value: "jenkins"}},
	})
	if _, err := identity.New(&mem, identity.SourceEnvoy); !errors.Is(err, identity.ErrAmbiguousSubject) {
		t.Fatalf("New = %v; want ErrAmbiguousSubject", err)
	}
}
