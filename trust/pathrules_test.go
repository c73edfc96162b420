package trust_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// openSSLWant is what `openssl verify` says of a case.
type openSSLWant int

const (
	notRun openSSLWant = iota // the case has no openssl counterpart
	opensslOK
	opensslFails
)

// pathCase is one rule of docs/validation.md, run in both profiles and,
// where openssl is the reference, through `openssl verify` and
// `openssl verify -x509_strict`.
type pathCase struct {
	name                string
	anchor              *pkitest.CA // nil: the hierarchy's root
	chain, inters       []*x509.Certificate
	crls                []*x509.RevocationList
	at                  time.Time // zero: now
	depth               *int
	compatible, strict  trust.Reason // "" is valid
	openssl, x509Strict openSSLWant
}

func TestPathRules(t *testing.T) {
	h := newHierarchy(t)
	root, inter := h.root, h.inter
	certs := func(c ...*x509.Certificate) []*x509.Certificate { return c }
	leaf := func(ca *pkitest.CA, cn string, opts ...pkitest.Option) *x509.Certificate {
		return ca.Leaf(cn, opts...).Cert
	}

	// pathLenConstraint 0, then the same CA re-keyed under its own name.
	pathLenZero := root.ChildCA("re-keyed CA", pkitest.With(func(o *pki.Options) { o.MaxPathLenZero = true }))
	rekeyed := pathLenZero.ChildCA("re-keyed CA", ext(authorityKeyID(t, pathLenZero)))
	belowRekeyed := rekeyed.ChildCA("below the re-keyed CA")

	dirConstrained := root.ChildCA("dir constrained", ext(nameConstraints(t, [][]byte{dirName(t, "ci")}, [][]byte{dirName(t, "ci-banned")})))
	upnConstrained := root.ChildCA("upn constrained", ext(nameConstraints(t, [][]byte{upnName(t, "@example.com")}, nil)))
	upnSAN := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: seq(t, upnName(t, "alice@example.com"))}

	dirSAN := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: seq(t, dirName(t, "evil"))}
	// A CA re-keyed under its own name below the constrained one: the
	// constraints do not apply to it, only to what it issues.
	dirRekeyed := dirConstrained.ChildCA("dir constrained", ext(authorityKeyID(t, dirConstrained)))
	criticalUPN := upnSAN
	criticalUPN.Critical = true
	// RFC 5280 4.2.1.6: an empty subject puts the name in a critical
	// subjectAltName; crypto/x509 calls one with only an otherName unhandled.
	upnOnly := leaf(inter, "", ext(criticalUPN))
	softUPNOnly := leaf(inter, "", ext(upnSAN))
	second := now.Add(time.Hour).Truncate(time.Second)
	endsOnTheSecond := leaf(inter, "on the second", pkitest.Validity(now.Add(-time.Hour), second))

	inter2 := inter.ChildCA("inter 2")
	// A trust anchor with pathLenConstraint 0.
	flatRoot := root.AsIssuer(rawCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "flat root"}, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil))
	flatInter := flatRoot.ChildCA("below the flat root")

	// Strict-profile subjects.
	noAKI := rawCert(t, inter.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "no aki"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, func(p *x509.Certificate) { p.SubjectKeyId = nil }).Cert
	noSKICert := rawCert(t, root.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "no ski"}, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtraExtensions: []pkix.Extension{basicConstraintsCA(true)}}, nil)
	noSKI := inter.AsIssuer(noSKICert)
	underNoSKI := rawCert(t, noSKI.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "under no ski"}, AuthorityKeyId: bytes.Repeat([]byte{7}, 20), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, nil).Cert
	softBCCert := rawCert(t, root.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "soft bc"}, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtraExtensions: []pkix.Extension{basicConstraintsCA(false)}}, nil)
	softBCCert = rawCert(t, root.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "soft bc"}, SubjectKeyId: keyID(softBCCert), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtraExtensions: []pkix.Extension{basicConstraintsCA(false)}}, nil)
	softBC := inter.AsIssuer(softBCCert)
	noKU := inter.AsIssuer(rawCert(t, root.CA, &x509.Certificate{Subject: pkix.Name{CommonName: "no key usage"}, IsCA: true, BasicConstraintsValid: true}, nil))
	certSignLeaf := leaf(inter, "cert sign", pkitest.With(func(o *pki.Options) { o.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign }))
	emptyEKU := leaf(inter, "empty eku", pkitest.With(func(o *pki.Options) { o.ExtKeyUsage = []x509.ExtKeyUsage{} }),
		ext(pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: []byte{0x30, 0x00}}))
	softPolicy := root.ChildCA("soft policy constraints", ext(pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Value: []byte{0x30, 0x03, 0x81, 0x01, 0x00}}))
	longSerial := leaf(inter, "long serial", pkitest.With(func(o *pki.Options) { o.SerialNumber = bigSerial(21) }))
	maxSerial := leaf(inter, "20 octets", pkitest.With(func(o *pki.Options) { o.SerialNumber = bigSerial(20) }))
	unnumberedCRL := crlWithExtensions(t, inter, inter.CRL(), nil)

	tests := []pathCase{
		// Fixed in both profiles.
		{name: "a self-issued intermediate does not count toward pathLenConstraint", chain: certs(leaf(rekeyed, "alice")), inters: certs(pathLenZero.Cert, rekeyed.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "a CA that is not self-issued below pathLenConstraint 0 is refused", chain: certs(leaf(belowRekeyed, "bob")), inters: certs(pathLenZero.Cert, rekeyed.Cert, belowRekeyed.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a subject inside a permitted directoryName subtree is accepted", chain: certs(leaf(dirConstrained, "alice", pkitest.Orgs("ci"))), inters: certs(dirConstrained.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "directoryName subtrees compare strings ignoring case", chain: certs(leaf(dirConstrained, "carol", pkitest.Orgs("CI"))), inters: certs(dirConstrained.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "a subject outside the permitted directoryName subtrees is refused", chain: certs(leaf(dirConstrained, "mallory", pkitest.Orgs("evil"))), inters: certs(dirConstrained.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a subject in an excluded directoryName subtree is refused", chain: certs(leaf(dirConstrained, "eve", pkitest.Orgs("ci-banned"))), inters: certs(dirConstrained.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a directoryName alternative name outside the permitted subtrees is refused", chain: certs(leaf(dirConstrained, "dave", pkitest.Orgs("ci"), ext(dirSAN))), inters: certs(dirConstrained.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "directoryName constraints skip a self-issued intermediate but bind its leaves", chain: certs(leaf(dirRekeyed, "frank", pkitest.Orgs("ci"))), inters: certs(dirConstrained.Cert, dirRekeyed.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "directoryName constraints bind the leaves of a self-issued intermediate", chain: certs(leaf(dirRekeyed, "grace", pkitest.Orgs("evil"))), inters: certs(dirConstrained.Cert, dirRekeyed.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "an otherName constraint does not fail a leaf without an otherName", chain: certs(leaf(upnConstrained, "alice")), inters: certs(upnConstrained.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "an otherName constraint refuses a leaf with an otherName", chain: certs(leaf(upnConstrained, "bob", ext(upnSAN))), inters: certs(upnConstrained.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a certificate is valid during the second of its notAfter", chain: certs(endsOnTheSecond), inters: certs(inter.Cert), at: second.Add(500 * time.Millisecond)},
		{name: "a certificate is expired the second after its notAfter", chain: certs(endsOnTheSecond), inters: certs(inter.Cert), at: second.Add(time.Second), compatible: trust.ReasonExpired, strict: trust.ReasonExpired, openssl: opensslFails, x509Strict: opensslFails},

		{name: "the trust anchor's pathLenConstraint applies", anchor: flatRoot, chain: certs(leaf(flatInter, "flat")), inters: certs(flatInter.Cert), compatible: trust.ReasonInvalid, strict: trust.ReasonInvalid, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a leaf directly below a trust anchor with pathLenConstraint 0 is valid", anchor: flatRoot, chain: certs(leaf(flatRoot, "flat direct")), openssl: opensslOK, x509Strict: opensslOK},

		{name: "a critical subjectAltName holding only an otherName is accepted", chain: certs(upnOnly), inters: certs(inter.Cert), openssl: opensslOK, x509Strict: opensslOK},
		// The chain depth limit.
		{name: "two intermediates are too deep for max_chain_depth 1", chain: certs(leaf(inter2, "deep")), inters: certs(inter.Cert, inter2.Cert), depth: new(1), compatible: trust.ReasonChainDepth, strict: trust.ReasonChainDepth, openssl: opensslFails, x509Strict: opensslFails},
		{name: "two intermediates are allowed by max_chain_depth 2", chain: certs(leaf(inter2, "deep")), inters: certs(inter.Cert, inter2.Cert), depth: new(2), openssl: opensslOK, x509Strict: opensslOK},
		{name: "a leaf of the trust anchor is allowed by max_chain_depth 0", chain: certs(leaf(root, "direct")), depth: new(0), openssl: opensslOK, x509Strict: opensslOK},
		{name: "one intermediate is too deep for max_chain_depth 0", chain: certs(h.alice), inters: certs(inter.Cert), depth: new(0), compatible: trust.ReasonChainDepth, strict: trust.ReasonChainDepth, openssl: opensslFails, x509Strict: opensslFails},

		// The strict profile.
		{name: "a leaf without an authority key identifier", chain: certs(noAKI), inters: certs(inter.Cert), strict: trust.ReasonMissingAKI, openssl: opensslOK, x509Strict: opensslFails},
		{name: "a CA certificate without a subject key identifier", chain: certs(underNoSKI), inters: certs(noSKI.Cert), strict: trust.ReasonMissingSKI, openssl: opensslOK, x509Strict: opensslFails},
		{name: "a CA certificate whose basicConstraints is not critical", chain: certs(leaf(softBC, "soft")), inters: certs(softBC.Cert), strict: trust.ReasonBasicConstraints, openssl: opensslOK, x509Strict: opensslFails},
		{name: "a CA certificate without a key usage extension", chain: certs(leaf(noKU, "no ku")), inters: certs(noKU.Cert), strict: trust.ReasonCAKeyUsage, openssl: opensslOK, x509Strict: opensslFails},
		{name: "an empty subject with a subjectAltName that is not critical", chain: certs(softUPNOnly), inters: certs(inter.Cert), strict: trust.ReasonSANNotCritical, openssl: opensslOK, x509Strict: opensslFails},
		{name: "a leaf with keyCertSign that is not a CA", chain: certs(certSignLeaf), inters: certs(inter.Cert), strict: trust.ReasonCertSignNotCA, openssl: opensslOK, x509Strict: opensslFails},
		{name: "an empty extendedKeyUsage", chain: certs(emptyEKU), inters: certs(inter.Cert), strict: trust.ReasonEmptyEKU, openssl: opensslFails, x509Strict: opensslFails},
		{name: "a policyConstraints extension that is not critical", chain: certs(leaf(softPolicy, "policy")), inters: certs(softPolicy.Cert), strict: trust.ReasonPolicyConstraints, openssl: opensslOK, x509Strict: opensslOK},
		{name: "a serial number of 21 octets", chain: certs(longSerial), inters: certs(inter.Cert), strict: trust.ReasonSerialNumber, openssl: opensslOK, x509Strict: opensslOK},
		{name: "a serial number of 20 octets", chain: certs(maxSerial), inters: certs(inter.Cert), openssl: opensslOK, x509Strict: opensslOK},
		{name: "a CRL without a CRL number", chain: certs(h.alice), inters: certs(inter.Cert), crls: []*x509.RevocationList{root.CRL(), unnumberedCRL}, strict: trust.ReasonMissingCRLNumber, openssl: opensslOK, x509Strict: opensslOK},
	}
	for _, tt := range tests {
		for _, profile := range []trust.Profile{trust.ProfileCompatible, trust.ProfileStrict} {
			want := tt.compatible
			if profile == trust.ProfileStrict {
				want = tt.strict
			}
			t.Run(string(profile)+"/"+tt.name, func(t *testing.T) {
				if got, err := verifyCase(root, tt, profile); got != want {
					t.Errorf("reason = %q (%v), want %q", got, err, want)
				}
			})
		}
		for _, strict := range []bool{false, true} {
			want := tt.openssl
			if strict {
				want = tt.x509Strict
			}
			if want == notRun {
				continue
			}
			t.Run("openssl/"+strconv.FormatBool(strict)+"/"+tt.name, func(t *testing.T) {
				ok, out := opensslVerify(t, root, tt, strict)
				if ok != (want == opensslOK) {
					t.Errorf("openssl verify (x509_strict %v) ok=%v, want %v:\n%s", strict, ok, want == opensslOK, out)
				}
			})
		}
	}
}

// verifyCase runs one case through a store of the given profile.
func verifyCase(root *pkitest.CA, tt pathCase, profile trust.Profile) (trust.Reason, error) {
	mode := trust.CRLModeOff
	if tt.crls != nil {
		mode = trust.CRLModeFullChain
	}
	if tt.anchor != nil {
		root = tt.anchor
	}
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, tt.inters, tt.crls, mode)
	if err == nil {
		store, err = store.WithProfile(profile)
	}
	if err == nil && tt.depth != nil {
		store, err = store.WithMaxChainDepth(*tt.depth)
	}
	if err != nil {
		return reason(err), err
	}
	at := tt.at
	if at.IsZero() {
		at = now
	}
	_, err = store.Verify(tt.chain, trust.VerifyOptions{Now: at, Purpose: trust.PurposeClient})
	return reason(err), err
}

// opensslVerify runs `openssl verify -purpose sslclient` on a case.
func opensslVerify(t *testing.T, root *pkitest.CA, tt pathCase, strict bool) (bool, string) {
	t.Helper()
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	at := tt.at
	if at.IsZero() {
		at = now
	}
	if tt.anchor != nil {
		root = tt.anchor
	}
	args := []string{"verify", "-purpose", "sslclient", "-attime", strconv.FormatInt(at.Unix(), 10), "-CAfile", write("ca.pem", root.CertPEM())}
	if untrusted := append(append([]*x509.Certificate{}, tt.inters...), tt.chain[1:]...); len(untrusted) > 0 {
		args = append(args, "-untrusted", write("untrusted.pem", pki.EncodeCertsPEM(untrusted...)))
	}
	if len(tt.crls) > 0 {
		var pem []byte
		for _, c := range tt.crls {
			pem = append(pem, pki.EncodeCRLPEM(c.Raw)...)
		}
		args = append(args, "-crl_check_all", "-CRLfile", write("crls.pem", pem))
	}
	if tt.depth != nil {
		args = append(args, "-verify_depth", strconv.Itoa(*tt.depth))
	}
	if strict {
		args = append(args, "-x509_strict")
	}
	args = append(args, write("leaf.pem", pki.EncodeCertsPEM(tt.chain[0])))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return err == nil, string(out)
}
