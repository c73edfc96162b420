package test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/url"
	"strings"
	"testing"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// hostileWorld is the test world plus the certificates of the hostile-input
// table: each trick is a real certificate made now, by pkitest.
type hostileWorld struct {
	*world
	keys     map[string]*pki.Certificate
	root     *x509.Certificate
	clientCA []byte
	// values are ready-made, URL-encoded certificate header values.
	values map[string]string
}

// twinSerial is a serial that the root's CRL revokes and that the issuing
// CA also used, for a leaf that must stay valid.
const twinSerial = 0x7777

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	w, keys, root, clientCA := newWorldWithKeys(t)
	h := &hostileWorld{world: w, keys: keys, root: root, clientCA: clientCA, values: map[string]string{}}
	issuing := w.issuing
	add := func(name string, c *pki.Certificate) {
		w.clients[name] = c.CertPEM()
		keys[name] = c
	}
	add("ca-as-client", &issuing.Certificate)
	add("impostor", issuing.Impostor().Leaf("impostor", pkitest.Orgs("admins")))
	add("impostor-ca", &issuing.Impostor().Certificate)
	add("sha1", issuing.SHA1Signed(issuing.Leaf("sha1", pkitest.Orgs("admins"))))
	add("rsa1024", issuing.Leaf("rsa1024", pkitest.Orgs("admins"), pkitest.RSAKey(t, 1024)))
	add("zero-serial", issuing.WithSerial(issuing.Leaf("zero", pkitest.Orgs("admins")), big.NewInt(0)))
	add("negative-serial", issuing.WithSerial(issuing.Leaf("negative", pkitest.Orgs("admins")), big.NewInt(-5)))
	add("twin", issuing.Leaf("twin", pkitest.Orgs("viewers"), pkitest.Serial(twinSerial)))
	add("comma-cn", issuing.Leaf("mallory, O=admins", pkitest.Orgs("viewers")))
	add("equals-cn", issuing.Leaf("CN=admin+O=admins", pkitest.Orgs("viewers")))
	add("utf8", issuing.Leaf("Zoë Ünïcødé", pkitest.Orgs("viewers")))
	add("bmp", issuing.Leaf("", pkitest.BMPCommonName("Zoë BMP"), pkitest.Orgs("viewers")))
	add("no-o", issuing.Leaf("no-o"))
	add("no-cn", issuing.Leaf("", pkitest.Orgs("viewers")))
	add("crlf-cn", issuing.Leaf("viewer\r\nx-injected: 1", pkitest.Orgs("viewers")))
	add("nul-cn", issuing.Leaf("viewer\x00admin", pkitest.Orgs("viewers")))
	add("space-cn", issuing.Leaf("admin ", pkitest.Orgs("viewers")))
	add("crlf-o", issuing.Leaf("crlf-o", pkitest.Orgs("viewers\r\nx-injected: 1", "viewers")))
	add("nul-o", issuing.Leaf("nul-o", pkitest.Orgs("admins\x00", "viewers")))
	add("utf8-o", issuing.Leaf("utf8-o", pkitest.Orgs("José, Ltd", " admins", "viewers")))
	add("no-digital-signature", issuing.Leaf("kx", pkitest.Orgs("admins"), pkitest.With(func(o *pki.Options) {
		o.KeyUsage = x509.KeyUsageKeyEncipherment
	})))
	add("critical-extension", issuing.Leaf("crit", pkitest.Orgs("admins"), pkitest.CriticalExtension()))

	// Ambiguous identities: each names two holders, or none.
	cn := pkix.AttributeTypeAndValue{Type: pkitest.OIDCommonName, Value: "jenkins"}
	viewers := pkix.AttributeTypeAndValue{Type: pkitest.OIDOrganization, Value: "viewers"}
	add("two-cns", issuing.Leaf("", pkitest.CommonNames(t, "mallory", "jenkins")))
	add("two-cns-and-a-group", issuing.Leaf("", pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{viewers},
		pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDCommonName, Value: "mallory"}}, pkix.RelativeDistinguishedNameSET{cn})))
	add("two-cns-in-one-rdn", issuing.Leaf("", pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDCommonName, Value: "mallory"}, cn})))
	add("cn-beside-an-o", issuing.Leaf("", pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{cn, viewers})))
	add("two-spiffe-ids", issuing.Leaf("jenkins", pkitest.Orgs("viewers"), pkitest.With(func(o *pki.Options) {
		o.URIs = []*url.URL{{Scheme: "spiffe", Host: "example.org", Path: "/viewer"}, {Scheme: "spiffe", Host: "example.org", Path: "/ci/jenkins"}}
	})))
	add("no-cn", issuing.Leaf("", pkitest.Orgs("viewers")))
	add("second-cn-as-bmp", issuing.Leaf("", pkitest.BMPCommonName("jenkins"), pkitest.With(func(o *pki.Options) { o.Subject.CommonName = "mallory" })))

	constrained := w.root.ChildCA("constrained CA", pkitest.With(func(o *pki.Options) { o.PermittedDNSDomains = []string{"example.com"} }))
	add("outside-constraints", constrained.Leaf("evil", pkitest.Orgs("admins"), pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"evil.org"} })))
	add("inside-constraints", constrained.Leaf("good", pkitest.Orgs("viewers"), pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"api.example.com"} })))
	// The constrained CA is bound to the users and groups of its team:
	// name constraints alone would let it issue "CN=admin, O=admins".
	w.bindings = []config.CABinding{{CAFile: w.write(t, "constrained-ca.pem", constrained.CertPEM()), AllowedUsers: []string{"good", "team-*"}, AllowedGroups: []string{"viewers"}}}
	inside := pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"api.example.com"} })
	add("constrained-admin", constrained.Leaf("admin", pkitest.Orgs("admins"), inside))
	add("constrained-extra-group", constrained.Leaf("good", pkitest.Orgs("viewers", "admins"), inside))
	add("constrained-jenkins", constrained.Leaf("jenkins", pkitest.Orgs("viewers"), inside))
	add("constrained-team-user", constrained.Leaf("team-bob", pkitest.Orgs("viewers"), inside))
	notCA := issuing.AsIssuer(issuing.Leaf("not a CA", pkitest.Orgs("admins")))
	belowNotCA := notCA.Leaf("below-not-ca", pkitest.Orgs("admins"))
	add("below-not-ca", belowNotCA)

	// The root's CRL also revokes twinSerial, which the issuing CA used for
	// "twin": revocation is per issuer, so twin stays valid.
	w.inters = w.write(t, "intermediates.pem", pki.EncodeCertsPEM(issuing.Cert, w.revokedCA.Cert, constrained.Cert))
	w.crls[0] = w.writeCRL(t, "root.crl", w.root.CRL(w.revokedCA.Cert, &x509.Certificate{SerialNumber: big.NewInt(twinSerial)}))
	w.crls = append(w.crls, w.writeCRL(t, "constrained.crl", constrained.CRL()))
	h.clientCA = append(h.clientCA, constrained.CertPEM()...)

	esc := func(pem []byte) string { return client.EscapePEM(pem) }
	viewer := w.clients["viewer"]
	h.values["viewer"] = esc(viewer)
	h.values["admin"] = esc(w.clients["admin"])
	key, err := keys["viewer"].KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	var fifty []byte
	for range 50 {
		fifty = append(fifty, viewer...)
	}
	h.values["fifty"] = esc(fifty)
	h.values["trailing-garbage"] = esc(append(append([]byte{}, viewer...), "garbage"...))
	h.values["two-certs"] = esc(append(append([]byte{}, viewer...), w.clients["admin"]...))
	h.values["private-key"] = esc(key)
	h.values["der"] = esc(keys["viewer"].Cert.Raw)
	h.values["admin-client-cert"] = ":" + base64.StdEncoding.EncodeToString(keys["admin"].Cert.Raw) + ":"
	h.values["bare-base64"] = esc([]byte(base64.StdEncoding.EncodeToString(keys["viewer"].Cert.Raw)))
	h.values["truncated"] = esc(viewer[:len(viewer)/2])
	h.values["pem-headers"] = esc([]byte(strings.Replace(string(viewer), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)))
	h.values["plus-for-space"] = strings.ReplaceAll(h.values["viewer"], "%20", "+")
	h.values["double-encoded"] = esc([]byte(h.values["viewer"]))
	h.values["envoy-style"] = envoyEscape(viewer)
	h.values["bad-escape"] = "%zz" + h.values["viewer"]
	h.values["nul"] = strings.Replace(h.values["viewer"], "%0A", "%00%0A", 1)
	h.values["crlf-injected"] = h.values["viewer"] + "\r\nX-Certgate-User: admin"
	h.values["raw-pem"] = string(viewer)
	h.values["huge"] = h.values["viewer"] + strings.Repeat("%0A", 70_000)
	h.values["megabyte"] = strings.Repeat("A", 1<<20)
	h.values["xfcc-admin"] = `By=spiffe://gw;Cert="` + h.values["admin"] + `"`
	h.values["xfcc-fifty"] = `By=spiffe://gw;Cert="` + h.values["viewer"] + `";Chain="` + h.values["fifty"] + `"`
	h.values["xfcc-below-not-ca"] = `Cert="` + esc(belowNotCA.CertPEM()) + `";Chain="` + esc(append(belowNotCA.CertPEM(), notCA.CertPEM()...)) + `"`
	for name, pem := range w.clients {
		if _, ok := h.values[name]; !ok {
			h.values[name] = esc(pem)
		}
	}
	return h
}

// value resolves an extra header value: an upper-case name of a value
// ("VIEWER") stands for that value, anything else is sent as it is.
func (h *hostileWorld) value(v string) string {
	if v == strings.ToUpper(v) {
		if got, ok := h.values[strings.ToLower(v)]; ok {
			return got
		}
	}
	return v
}

// envoyEscape escapes like Envoy's source.certificate: only bytes a header
// value cannot carry, so '+', '/' and '=' of the base64 stay raw.
func envoyEscape(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s strings.Builder
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`%",;\`, c) >= 0 {
			s.WriteByte('%')
			s.WriteByte(hex[c>>4])
			s.WriteByte(hex[c&15])
			continue
		}
		s.WriteByte(c)
	}
	return s.String()
}
