package trust_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// crlTemplate is a current CRL numbered n at the test clock.
func crlTemplate(n int64) *x509.RevocationList {
	return &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour)}
}

func TestRFC5280(t *testing.T) {
	h := newHierarchy(t)
	root, inter := h.root, h.inter
	chain := func(c ...*x509.Certificate) []*x509.Certificate { return c }
	leaf := func(ca *pkitest.CA, cn string, opts ...pkitest.Option) *x509.Certificate {
		return ca.Leaf(cn, opts...).Cert
	}

	noKeyCertSign := root.ChildCA("no keyCertSign", pkitest.With(func(o *pki.Options) {
		o.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	}))
	noCRLSign := root.ChildCA("no cRLSign", pkitest.With(func(o *pki.Options) { o.KeyUsage = x509.KeyUsageCertSign }))
	underNoCRLSign := leaf(noCRLSign, "dave")
	weakInter := root.ChildCA("weak inter", pkitest.RSAKey(t, 1024))
	criticalInter := root.ChildCA("critical inter", pkitest.CriticalExtension())
	pathLenZero := root.ChildCA("path len zero", pkitest.With(func(o *pki.Options) { o.MaxPathLenZero = true }))
	belowPathLenZero := pathLenZero.ChildCA("too deep")
	constrained := root.ChildCA("constrained", pkitest.With(func(o *pki.Options) { o.PermittedDNSDomains = []string{"example.com"} }))
	fakeInter := inter.AsIssuer(inter.Leaf("not a CA"))
	expiredInter := root.ChildCA("expired inter", pkitest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
	sibling := root.ChildCA("sibling")
	twin := leaf(inter, "twin", pkitest.Serial(0x7777))
	siblingTwin := leaf(sibling, "sibling twin", pkitest.Serial(0x7777))
	revokedInter := root.ChildCA("revoked inter")

	idp := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: []byte{0x30, 0x00}}
	criticalCRL := crlTemplate(5)
	criticalCRL.ExtraExtensions = []pkix.Extension{idp}
	criticalEntryCRL := crlTemplate(5)
	criticalEntryCRL.RevokedCertificateEntries = []x509.RevocationListEntry{{
		SerialNumber: big.NewInt(1), RevocationTime: now.Add(-time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 29}, Critical: true, Value: []byte{0x30, 0x00}}},
	}}
	nonCriticalIDP := crlTemplate(5)
	nonCriticalIDP.ExtraExtensions = []pkix.Extension{{Id: idp.Id, Value: idp.Value}}
	deltaCRL := crlTemplate(5)
	deltaCRL.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x04}}}
	indirectEntryCRL := crlTemplate(5)
	indirectEntryCRL.RevokedCertificateEntries = []x509.RevocationListEntry{{
		SerialNumber: big.NewInt(1), RevocationTime: now.Add(-time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 29}, Value: []byte{0x30, 0x00}}},
	}}
	unknownNonCritical := crlTemplate(5)
	unknownNonCritical.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}, Value: []byte{0x05, 0x00}}}
	rootCRL := root.CRL(revokedInter.Cert)
	interCRL := inter.CRL()
	crls := func(extra ...*x509.RevocationList) []*x509.RevocationList {
		return append([]*x509.RevocationList{rootCRL, interCRL}, extra...)
	}

	tests := []struct {
		name    string
		chain   []*x509.Certificate
		inters  []*x509.Certificate
		crls    []*x509.RevocationList
		purpose trust.Purpose
		// want lists the acceptable reasons; nil means valid.
		want []trust.Reason
	}{
		{"a CA certificate is refused as a client leaf", chain(inter.Cert), nil, nil, trust.PurposeClient, []trust.Reason{trust.ReasonKeyUsage}},
		{"a CA certificate is refused as a server leaf", chain(inter.Cert), nil, nil, trust.PurposeServer, []trust.Reason{trust.ReasonKeyUsage}},
		{"a CA certificate verifies for purpose any", chain(inter.Cert), nil, nil, trust.PurposeAny, nil},
		{"a leaf whose key usage lacks digitalSignature is refused", chain(leaf(inter, "ke", pkitest.With(func(o *pki.Options) { o.KeyUsage = x509.KeyUsageKeyEncipherment }))), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonKeyUsage}},
		{"a leaf with an unknown critical extension is refused", chain(leaf(inter, "crit", pkitest.CriticalExtension())), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid}},
		{"an intermediate with an unknown critical extension is refused", chain(leaf(criticalInter, "c")), chain(criticalInter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid, trust.ReasonUnknownAuthority}},
		{"an RSA-1024 leaf is refused", chain(leaf(inter, "weak", pkitest.RSAKey(t, 1024))), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonWeakKey}},
		{"an RSA-2048 leaf is accepted", chain(leaf(inter, "strong", pkitest.With(func(o *pki.Options) { o.KeyAlgorithm = pki.RSA2048 }))), chain(inter.Cert), nil, trust.PurposeClient, nil},
		{"an RSA-1024 intermediate is refused", chain(leaf(weakInter, "w")), chain(weakInter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonWeakKey}},
		{"an issuer whose key usage lacks keyCertSign is refused", chain(leaf(noKeyCertSign, "k")), chain(noKeyCertSign.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonKeyUsage, trust.ReasonUnknownAuthority}},
		{"an issuer without CA:TRUE is refused", chain(leaf(fakeInter, "f"), fakeInter.Cert), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid, trust.ReasonUnknownAuthority}},
		{"a path longer than pathLenConstraint allows is refused", chain(leaf(belowPathLenZero, "deep")), chain(pathLenZero.Cert, belowPathLenZero.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid, trust.ReasonUnknownAuthority}},
		{"a name outside the permitted subtree is refused", chain(leaf(constrained, "evil", pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"evil.org"} }))), chain(constrained.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid}},
		{"a name inside the permitted subtree is accepted", chain(leaf(constrained, "good", pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"a.example.com"} }))), chain(constrained.Cert), nil, trust.PurposeClient, nil},
		{"a SHA-1 signature is refused", chain(inter.SHA1Signed(inter.Leaf("sha1")).Cert), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid, trust.ReasonUnknownAuthority}},
		{"a zero serial is refused", chain(inter.WithSerial(inter.Leaf("zero"), big.NewInt(0)).Cert), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonInvalid}},
		{"a self-signed certificate with the intermediate's subject is unknown", chain(leaf(inter.Impostor(), "imp"), inter.Impostor().Cert), chain(inter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonUnknownAuthority}},
		{"an expired intermediate is expired", chain(leaf(expiredInter, "e")), chain(expiredInter.Cert), nil, trust.PurposeClient, []trust.Reason{trust.ReasonExpired}},
		{"a chain of current CRLs is valid", chain(h.alice), chain(inter.Cert), crls(), trust.PurposeClient, nil},
		{"a CRL with an unsupported critical extension is not used", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(criticalCRL)}, trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"a CRL with a critical entry extension is not used", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(criticalEntryCRL)}, trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"a CRL with a non-critical issuing distribution point is not used either", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(nonCriticalIDP)}, trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"a delta CRL is not used", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(deltaCRL)}, trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"an indirect CRL entry, even non-critical, makes the CRL unused", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(indirectEntryCRL)}, trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"an unknown non-critical CRL extension is ignored", chain(h.alice), chain(inter.Cert), []*x509.RevocationList{rootCRL, inter.SignCRL(unknownNonCritical)}, trust.PurposeClient, nil},
		{"a CRL signed by an issuer without cRLSign is not used", chain(underNoCRLSign, noCRLSign.Cert), nil, crls(noCRLSign.SignCRL(crlTemplate(1))), trust.PurposeClient, []trust.Reason{trust.ReasonCRLUnavailable}},
		{"a serial revoked by another CA does not revoke", chain(twin), chain(inter.Cert, sibling.Cert), crls(sibling.CRL(siblingTwin)), trust.PurposeClient, nil},
		{"the same serial is revoked under the CA that revoked it", chain(siblingTwin), chain(inter.Cert, sibling.Cert), crls(sibling.CRL(siblingTwin)), trust.PurposeClient, []trust.Reason{trust.ReasonRevoked}},
		{"a revoked intermediate revokes its leaves", chain(leaf(revokedInter, "r")), chain(revokedInter.Cert), crls(revokedInter.CRL()), trust.PurposeClient, []trust.Reason{trust.ReasonRevoked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := trust.CRLModeOff
			if tt.crls != nil {
				mode = trust.CRLModeFullChain
			}
			store, err := trust.NewStore(chain(root.Cert), tt.inters, tt.crls, mode)
			if err != nil {
				t.Fatalf("NewStore: %v", err)
			}
			_, err = store.Verify(tt.chain, trust.VerifyOptions{Now: now, Purpose: tt.purpose})
			got := reason(err)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("Verify = %v, want valid", err)
			case tt.want != nil && !slices.Contains(tt.want, got):
				t.Errorf("Verify reason = %q (%v), want one of %q", got, err, tt.want)
			}
		})
	}
}

func TestNegativeSerialDoesNotParse(t *testing.T) {
	// crypto/x509 refuses a negative serial at parse time, so a client
	// presenting one is malformed before trust sees it.
	h := newHierarchy(t)
	neg := h.inter.WithSerial(h.inter.Leaf("neg"), big.NewInt(-5))
	if _, err := x509.ParseCertificate(neg.Cert.Raw); err == nil {
		t.Fatal("a negative serial parsed; trust must then refuse it (checkPath)")
	}
}
