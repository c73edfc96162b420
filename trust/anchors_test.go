package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki"
)

// anchorWorld issues certificates on a fixed clock.
type anchorWorld struct {
	t   *testing.T
	now time.Time
}

func (w anchorWorld) opts(cn string, edit ...func(*pki.Options)) pki.Options {
	o := pki.Options{Subject: pkix.Name{CommonName: cn, Organization: []string{"anchors"}}, Now: func() time.Time { return w.now }}
	for _, e := range edit {
		e(&o)
	}
	return o
}

func (w anchorWorld) root(cn string, edit ...func(*pki.Options)) *pki.CA {
	ca, err := pki.NewRootCA(w.opts(cn, edit...))
	if err != nil {
		w.t.Fatal(err)
	}
	return ca
}

func (w anchorWorld) child(parent *pki.CA, cn string, edit ...func(*pki.Options)) *pki.CA {
	ca, err := parent.NewIntermediate(w.opts(cn, edit...))
	if err != nil {
		w.t.Fatal(err)
	}
	return ca
}

func (w anchorWorld) leaf(ca *pki.CA, cn string, edit ...func(*pki.Options)) *x509.Certificate {
	c, err := ca.Issue(w.opts(cn, edit...))
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Cert
}

func (w anchorWorld) crl(ca *pki.CA, revoked ...*x509.Certificate) *x509.RevocationList {
	opts := pki.CRLOptions{ThisUpdate: w.now.Add(-time.Hour), NextUpdate: w.now.Add(30 * 24 * time.Hour)}
	for _, r := range revoked {
		opts.Revoked = append(opts.Revoked, pki.Revocation{Serial: r.SerialNumber})
	}
	der, err := ca.CRL(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		w.t.Fatal(err)
	}
	return crl
}

// TestAnchoredPathsAreThePathsCryptoX509Builds: a Store that verified the
// way up from its intermediates at load decides every chain as the same
// Store building whole paths with crypto/x509 does, down to the paths it
// returns, in the cases where the way up matters: a root that expires
// later, extended key usage and name constraints above the intermediate,
// a revoked intermediate, a presented intermediate, a request dated
// before the CAs were valid.
func TestAnchoredPathsAreThePathsCryptoX509Builds(t *testing.T) {
	w := anchorWorld{t: t, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	type world struct {
		roots, inters []*x509.Certificate
		crls          []*x509.RevocationList
	}
	plainRoot := w.root("root")
	plainInter := w.child(plainRoot, "inter")
	plain := world{[]*x509.Certificate{plainRoot.Cert}, []*x509.Certificate{plainInter.Cert}, []*x509.RevocationList{w.crl(plainRoot), w.crl(plainInter)}}
	alice := w.leaf(plainInter, "alice")

	shortRoot := w.root("short root", func(o *pki.Options) { o.NotBefore, o.NotAfter = w.now.Add(-time.Hour), w.now.Add(time.Hour) })
	shortInter := w.child(shortRoot, "inter under a short root", func(o *pki.Options) { o.NotBefore, o.NotAfter = w.now.Add(-time.Hour), w.now.Add(24*time.Hour) })
	short := world{[]*x509.Certificate{shortRoot.Cert}, []*x509.Certificate{shortInter.Cert}, []*x509.RevocationList{w.crl(shortRoot), w.crl(shortInter)}}
	bob := w.leaf(shortInter, "bob", func(o *pki.Options) { o.NotBefore, o.NotAfter = w.now.Add(-time.Hour), w.now.Add(24*time.Hour) })

	serverRoot := w.root("server root", func(o *pki.Options) { o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })
	serverInter := w.child(serverRoot, "inter under a server root")
	server := world{[]*x509.Certificate{serverRoot.Cert}, []*x509.Certificate{serverInter.Cert}, []*x509.RevocationList{w.crl(serverRoot), w.crl(serverInter)}}
	carol := w.leaf(serverInter, "carol")

	dnsRoot := w.root("dns root", func(o *pki.Options) { o.PermittedDNSDomains = []string{"example.com"} })
	dnsInter := w.child(dnsRoot, "inter under a dns root")
	dns := world{[]*x509.Certificate{dnsRoot.Cert}, []*x509.Certificate{dnsInter.Cert}, []*x509.RevocationList{w.crl(dnsRoot), w.crl(dnsInter)}}
	inside := w.leaf(dnsInter, "inside", func(o *pki.Options) { o.DNSNames = []string{"a.example.com"} })
	outside := w.leaf(dnsInter, "outside", func(o *pki.Options) { o.DNSNames = []string{"evil.test"} })

	// requireExplicitPolicy (RFC 5280 4.2.1.11) and no certificate
	// policies anywhere: crypto/x509 refuses a chain with a certificate
	// below the one that requires it (skipCerts 1 for the intermediate,
	// 0 for the leaf). Alone, as at load, the intermediate passes.
	requires := func(skip byte) func(*pki.Options) {
		return func(o *pki.Options) {
			o.ExtraExtensions = append(o.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Value: []byte{0x30, 0x03, 0x80, 0x01, skip}})
		}
	}
	policyInter := w.child(plainRoot, "inter requiring a policy", requires(1))
	policy := world{plain.roots, []*x509.Certificate{policyInter.Cert}, []*x509.RevocationList{w.crl(plainRoot), w.crl(policyInter)}}
	erin := w.leaf(policyInter, "erin")
	frank := w.leaf(plainInter, "frank", requires(0))

	revoked := world{plain.roots, plain.inters, []*x509.RevocationList{w.crl(plainRoot, plainInter.Cert), w.crl(plainInter)}}
	// The intermediate cross-signs the root: the root's name and key under
	// the intermediate. A client that presents it opens a way round.
	loopBack, err := plainInter.NewIntermediate(w.opts("root", func(o *pki.Options) { o.Subject = plainRoot.Cert.Subject; o.Key = plainRoot.Key }))
	if err != nil {
		t.Fatal(err)
	}
	direct := w.leaf(plainRoot, "dora")

	// A configured intermediate below the anchor that requires an
	// explicit policy (skipCerts 0), asserting a policy the anchor does
	// not: crypto/x509 processes the policies of every certificate but the
	// trust anchor, so with the anchor as trust anchor the chain passes,
	// and with the root it fails. The client presents only its leaf.
	asserts := func(o *pki.Options) {
		der, err := asn1.Marshal([]struct{ ID asn1.ObjectIdentifier }{{asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}}})
		if err != nil {
			t.Fatal(err)
		}
		o.ExtraExtensions = append(o.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: der})
	}
	belowInter := w.child(plainInter, "policy inter below the anchor", requires(0), asserts)
	below := world{plain.roots, []*x509.Certificate{plainInter.Cert, belowInter.Cert}, []*x509.RevocationList{w.crl(plainRoot), w.crl(plainInter), w.crl(belowInter)}}
	gina := w.leaf(belowInter, "gina", asserts)

	// An anchor with a pathLenConstraint: crypto/x509 sees a view of it,
	// and a presented copy of it gets a view of its own.
	lenInter := w.child(plainRoot, "inter with a path length", func(o *pki.Options) { o.MaxPathLen, o.MaxPathLenZero = 0, true })
	ncInter := w.child(plainRoot, "inter with name constraints", func(o *pki.Options) { o.PermittedDNSDomains = []string{"example.com"} })
	nc := world{plain.roots, []*x509.Certificate{ncInter.Cert}, []*x509.RevocationList{w.crl(plainRoot), w.crl(ncInter)}}
	ncInside := w.leaf(ncInter, "nc inside", func(o *pki.Options) { o.DNSNames = []string{"a.example.com"} })
	ncOutside := w.leaf(ncInter, "nc outside", func(o *pki.Options) { o.DNSNames = []string{"evil.test"} })
	ncBelow := w.child(ncInter, "presented below the constrained anchor")
	ncBelowOutside := w.leaf(ncBelow, "nc below outside", func(o *pki.Options) { o.DNSNames = []string{"evil.test"} })
	// pathLenConstraint 0 on a root counts the configured intermediate,
	// 1 the intermediate a client presents below it too.
	zeroRoot := w.root("root of path length 0", func(o *pki.Options) { o.MaxPathLen, o.MaxPathLenZero = 0, true })
	zeroInter := w.child(zeroRoot, "inter under a root of path length 0")
	zero := world{[]*x509.Certificate{zeroRoot.Cert}, []*x509.Certificate{zeroInter.Cert}, []*x509.RevocationList{w.crl(zeroRoot), w.crl(zeroInter)}}
	oneRoot := w.root("root of path length 1", func(o *pki.Options) { o.MaxPathLen = 1 })
	oneInter := w.child(oneRoot, "inter under a root of path length 1")
	one := world{[]*x509.Certificate{oneRoot.Cert}, []*x509.Certificate{oneInter.Cert}, []*x509.RevocationList{w.crl(oneRoot), w.crl(oneInter)}}
	oneBelow := w.child(oneInter, "presented under a root of path length 1")
	serverAnchor := w.child(plainRoot, "inter for servers only", func(o *pki.Options) { o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })
	serverOnly := world{plain.roots, []*x509.Certificate{serverAnchor.Cert}, []*x509.RevocationList{w.crl(plainRoot), w.crl(serverAnchor)}}
	lenRevoked := world{plain.roots, []*x509.Certificate{lenInter.Cert}, []*x509.RevocationList{w.crl(plainRoot, lenInter.Cert), w.crl(lenInter)}}

	for _, tc := range []struct {
		name     string
		world    world
		chain    []*x509.Certificate
		at       time.Time
		anchored bool // whether the intermediate is an anchor
		purpose  Purpose
	}{
		{"a leaf of a configured intermediate", plain, []*x509.Certificate{alice}, w.now, true, PurposeClient},
		{"the same leaf with its intermediate presented", plain, []*x509.Certificate{alice, plainInter.Cert}, w.now, true, PurposeClient},
		{"a leaf of the root itself", plain, []*x509.Certificate{direct}, w.now, true, PurposeClient},
		{"a leaf of the root with the root cross-signed by the intermediate", plain, []*x509.Certificate{direct, loopBack.Cert}, w.now, true, PurposeClient},
		{"a request dated before the CAs were valid", plain, []*x509.Certificate{alice}, w.now.Add(-time.Hour), true, PurposeClient},
		{"a leaf whose root has expired since the load", short, []*x509.Certificate{bob}, w.now.Add(2 * time.Hour), true, PurposeClient},
		{"a leaf whose root is for servers only", server, []*x509.Certificate{carol}, w.now, true, PurposeClient},
		{"a leaf with a name the root permits", dns, []*x509.Certificate{inside}, w.now, false, PurposeClient},
		{"a leaf with a name the root does not permit", dns, []*x509.Certificate{outside}, w.now, false, PurposeClient},
		{"a leaf of an intermediate the root revoked", revoked, []*x509.Certificate{alice}, w.now, true, PurposeClient},
		{"a leaf of an intermediate that requires an explicit policy", policy, []*x509.Certificate{erin}, w.now, false, PurposeClient},
		{"a leaf that requires an explicit policy", plain, []*x509.Certificate{frank}, w.now, true, PurposeClient},
		{"a leaf under a configured intermediate, below the anchor, that requires an explicit policy", below, []*x509.Certificate{gina}, w.now, true, PurposeClient},
		{"a leaf with a name its anchor permits", nc, []*x509.Certificate{ncInside}, w.now, true, PurposeClient},
		{"a leaf with a name its anchor does not permit", nc, []*x509.Certificate{ncOutside}, w.now, true, PurposeClient},
		{"a leaf below a presented intermediate with a name the anchor does not permit", nc, []*x509.Certificate{ncBelowOutside, ncBelow.Cert}, w.now, true, PurposeClient},
		{"a leaf of an intermediate under a root of path length 0", zero, []*x509.Certificate{w.leaf(zeroInter, "zed")}, w.now, true, PurposeClient},
		{"a leaf of the configured intermediate under a root of path length 1", one, []*x509.Certificate{w.leaf(oneInter, "una")}, w.now, true, PurposeClient},
		{"a leaf of a presented intermediate under a root of path length 1", one, []*x509.Certificate{w.leaf(oneBelow, "duo"), oneBelow.Cert}, w.now, true, PurposeClient},
		{"a leaf of an anchor for servers only", serverOnly, []*x509.Certificate{w.leaf(serverAnchor, "sam")}, w.now, true, PurposeClient},
		// Purpose any (certgate verify) accepts a CA as the leaf: the
		// anchor itself, whose way up must still hold.
		{"the anchor as the leaf, its root expired", short, []*x509.Certificate{shortInter.Cert}, w.now.Add(2 * time.Hour), true, PurposeAny},
		{"the anchor as the leaf, revoked by its root", revoked, []*x509.Certificate{plainInter.Cert}, w.now, true, PurposeAny},
		{"the anchor with a path length as the leaf, revoked by its root", lenRevoked, []*x509.Certificate{lenInter.Cert}, w.now, true, PurposeAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStore(tc.world.roots, tc.world.inters, tc.world.crls, CRLModeFullChain)
			if err != nil {
				t.Fatal(err)
			}
			whole, anchored := *s, *s
			whole.anchors = nil
			anchored.anchors = s.anchor(tc.world.roots, tc.world.inters)
			if got := anchored.anchors != nil; got != tc.anchored {
				t.Fatalf("the intermediate is an anchor: %v, want %v", got, tc.anchored)
			}
			want, wantErr := whole.Verify(tc.chain, VerifyOptions{Now: tc.at, Purpose: tc.purpose})
			got, gotErr := anchored.Verify(tc.chain, VerifyOptions{Now: tc.at, Purpose: tc.purpose})
			if reasonOf(gotErr) != reasonOf(wantErr) {
				t.Fatalf("anchored: %v; whole paths: %v", gotErr, wantErr)
			}
			if wantErr == nil && !cmp.Equal(subjects(got.Chain), subjects(want.Chain)) {
				t.Errorf("anchored path %v, whole path %v", subjects(got.Chain), subjects(want.Chain))
			}
			opts := x509.VerifyOptions{CurrentTime: tc.at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			wantPaths, _ := whole.buildPaths(tc.chain, opts)
			gotPaths, _ := anchored.buildPaths(tc.chain, opts)
			if diff := cmp.Diff(pathSet(wantPaths), pathSet(gotPaths)); diff != "" {
				t.Errorf("paths (-whole +anchored):\n%s", diff)
			}
		})
	}
}

func reasonOf(err error) Reason {
	var te *Error
	if errors.As(err, &te) {
		return te.Reason
	}
	if err != nil {
		return "other"
	}
	return ""
}

// pathSet is every path by its subjects, sorted.
func pathSet(paths [][]*x509.Certificate) []string {
	var out []string
	for _, p := range paths {
		out = append(out, strings.Join(subjects(p), " < "))
	}
	slices.Sort(out)
	return out
}

func subjects(chain []*x509.Certificate) []string {
	out := make([]string, len(chain))
	for i, c := range chain {
		out[i] = c.Subject.CommonName
	}
	return slices.Clip(out)
}

// TestAnchorsServeOnceEveryCAIsValid: a CA that becomes valid only later
// (a root configured ahead of a rollover) could open ways up that are not
// there yet, so until it is valid the Store builds whole paths.
func TestAnchorsServeOnceEveryCAIsValid(t *testing.T) {
	w := anchorWorld{t: t, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	root := w.root("root")
	tomorrow := w.now.Add(24 * time.Hour)
	next := w.root("next root", func(o *pki.Options) { o.NotBefore, o.NotAfter = tomorrow, w.now.Add(365*24*time.Hour) })
	inter := w.child(root, "inter")
	alice := w.leaf(inter, "alice")
	s, err := NewStore([]*x509.Certificate{root.Cert, next.Cert}, []*x509.Certificate{inter.Cert}, nil, CRLModeOff)
	if err != nil {
		t.Fatal(err)
	}
	if s.anchors == nil || !s.anchors.since.Equal(tomorrow) {
		t.Fatalf("anchors %+v, want anchors from %v, when the next root is valid", s.anchors, tomorrow)
	}
	for _, at := range []time.Time{w.now, tomorrow.Add(time.Hour)} {
		if _, err := s.Verify([]*x509.Certificate{alice}, VerifyOptions{Now: at}); err != nil {
			t.Errorf("at %v: %v", at, err)
		}
	}
}
