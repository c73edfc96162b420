package trust_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// outcome is what Verify says of a chain: valid (reason ""), possibly
// marked stale, or refused with a reason.
type outcome struct {
	reason trust.Reason
	stale  bool
}

var (
	valid       = outcome{}
	validStale  = outcome{stale: true}
	revoked     = outcome{reason: trust.ReasonRevoked}
	unavailable = outcome{reason: trust.ReasonCRLUnavailable}
)

// byPolicy is the outcome under on_stale_crl deny and warn.
type byPolicy struct{ deny, warn outcome }

// both is the same outcome under either policy.
func both(o outcome) byPolicy { return byPolicy{o, o} }

var (
	modes    = []trust.CRLMode{trust.CRLModeFullChain, trust.CRLModeLeaf, trust.CRLModeOff}
	policies = []trust.StaleCRLPolicy{trust.StaleCRLDeny, trust.StaleCRLWarn}
)

// TestCRLModeAndStaleness runs every crl_mode × on_stale_crl combination
// over root → intermediate → leaf, with the root's CRL covering the
// intermediate and the intermediate's CRL covering the leaf, each of them
// current, revoking, stale, missing or unusable. It is the table of
// docs/validation.md §3. Beside the exact outcome it checks the class of
// bug it was written for: a stricter setting (deny over warn, full_chain
// over leaf over off) never allows what the looser one refuses.
func TestCRLModeAndStaleness(t *testing.T) {
	h := newHierarchy(t)
	leaf := h.alice
	revokedInter := h.root.ChildCA("revoked inter")
	underRevoked := revokedInter.Leaf("carol").Cert
	revokedLeaf := h.inter.Leaf("bob").Cert

	stale := pki.CRLOptions{ThisUpdate: now.Add(-10 * 24 * time.Hour), NextUpdate: now.Add(-time.Hour)}
	notYet := pki.CRLOptions{ThisUpdate: now.Add(time.Hour), NextUpdate: now.Add(48 * time.Hour)}
	idp := crlTemplate(5)
	idp.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: []byte{0x30, 0x00}}}

	rootCRL := h.root.CRL()
	interCRL := h.inter.CRL()
	// leaf is alice, under the intermediate; carol is under an
	// intermediate the root revoked (the root's CRLs below list it).
	tests := []struct {
		name  string
		chain *x509.Certificate
		inter *x509.Certificate
		crls  []*x509.RevocationList
		// want is by mode: full_chain, leaf, off.
		want [3]byPolicy
	}{
		{
			name: "current CRLs at both levels: valid", chain: leaf, inter: h.inter.Cert,
			crls: list(rootCRL, interCRL),
			want: [3]byPolicy{both(valid), both(valid), both(valid)},
		},
		{
			name: "a revoked leaf is revoked unless CRLs are off", chain: revokedLeaf, inter: h.inter.Cert,
			crls: list(rootCRL, h.inter.CRL(revokedLeaf)),
			want: [3]byPolicy{both(revoked), both(revoked), both(valid)},
		},
		{
			name: "a revoked intermediate is revoked unless CRLs are off", chain: underRevoked, inter: revokedInter.Cert,
			crls: list(h.root.CRL(revokedInter.Cert), revokedInter.CRL()),
			want: [3]byPolicy{both(revoked), both(revoked), both(valid)},
		},
		{
			name: "a stale root CRL: deny refuses, warn uses it", chain: leaf, inter: h.inter.Cert,
			crls: list(h.root.CRLWith(stale), interCRL),
			want: [3]byPolicy{{unavailable, validStale}, {unavailable, validStale}, both(valid)},
		},
		{
			name: "a stale root CRL that revokes the intermediate revokes under either policy", chain: underRevoked, inter: revokedInter.Cert,
			crls: list(h.root.CRLWith(stale, revokedInter.Cert), revokedInter.CRL()),
			want: [3]byPolicy{both(revoked), both(revoked), both(valid)},
		},
		{
			name: "a stale intermediate CRL: deny refuses, warn uses it", chain: leaf, inter: h.inter.Cert,
			crls: list(rootCRL, h.inter.CRLWith(stale)),
			want: [3]byPolicy{{unavailable, validStale}, {unavailable, validStale}, both(valid)},
		},
		{
			name: "a stale intermediate CRL that revokes the leaf revokes under either policy", chain: revokedLeaf, inter: h.inter.Cert,
			crls: list(rootCRL, h.inter.CRLWith(stale, revokedLeaf)),
			want: [3]byPolicy{both(revoked), both(revoked), both(valid)},
		},
		{
			name: "no root CRL: only full_chain needs one", chain: leaf, inter: h.inter.Cert,
			crls: list(interCRL),
			want: [3]byPolicy{both(unavailable), both(valid), both(valid)},
		},
		{
			name: "no intermediate CRL: the leaf is never covered", chain: leaf, inter: h.inter.Cert,
			crls: list(rootCRL),
			want: [3]byPolicy{both(unavailable), both(unavailable), both(valid)},
		},
		{
			name: "an unusable root CRL (issuing distribution point) covers the intermediate and fails closed", chain: leaf, inter: h.inter.Cert,
			crls: list(h.root.SignCRL(idp), interCRL),
			want: [3]byPolicy{both(unavailable), both(unavailable), both(valid)},
		},
		{
			name: "an unusable intermediate CRL fails closed", chain: leaf, inter: h.inter.Cert,
			crls: list(rootCRL, h.inter.SignCRL(idp)),
			want: [3]byPolicy{both(unavailable), both(unavailable), both(valid)},
		},
		{
			name: "a root CRL not yet valid covers the intermediate and fails closed", chain: leaf, inter: h.inter.Cert,
			crls: list(h.root.CRLWith(notYet), interCRL),
			want: [3]byPolicy{both(unavailable), both(unavailable), both(valid)},
		},
		{
			name: "a newer stale CRL supersedes an older current one", chain: revokedLeaf, inter: h.inter.Cert,
			crls: list(rootCRL,
				h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(1), ThisUpdate: now.Add(-20 * 24 * time.Hour), NextUpdate: now.Add(10 * 24 * time.Hour)}),
				h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(2), ThisUpdate: stale.ThisUpdate, NextUpdate: stale.NextUpdate}, revokedLeaf)),
			want: [3]byPolicy{both(revoked), both(revoked), both(valid)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[trust.CRLMode]map[trust.StaleCRLPolicy]outcome{}
			for m, mode := range modes {
				got[mode] = map[trust.StaleCRLPolicy]outcome{}
				for _, policy := range policies {
					store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{tt.inter}, tt.crls, mode)
					if err != nil {
						t.Fatalf("NewStore: %v", err)
					}
					if store, err = store.WithStaleCRLPolicy(policy); err != nil {
						t.Fatal(err)
					}
					v, err := store.Verify([]*x509.Certificate{tt.chain}, trust.VerifyOptions{Now: now})
					o := outcome{reason: reason(err), stale: v != nil && v.StaleCRL}
					got[mode][policy] = o
					want := tt.want[m].deny
					if policy == trust.StaleCRLWarn {
						want = tt.want[m].warn
					}
					if o != want {
						t.Errorf("crl_mode %s, on_stale_crl %s: got %+v (%v), want %+v", mode, policy, o, err, want)
					}
				}
			}
			stricter := func(strict, loose outcome, what string) {
				if strict.reason == "" && loose.reason != "" {
					t.Errorf("%s allows what the looser setting refuses (%s)", what, loose.reason)
				}
			}
			for _, mode := range modes {
				stricter(got[mode][trust.StaleCRLDeny], got[mode][trust.StaleCRLWarn], "crl_mode "+string(mode)+", on_stale_crl deny")
			}
			for _, policy := range policies {
				stricter(got[trust.CRLModeFullChain][policy], got[trust.CRLModeLeaf][policy], "full_chain under "+string(policy))
				stricter(got[trust.CRLModeLeaf][policy], got[trust.CRLModeOff][policy], "leaf under "+string(policy))
			}
		})
	}
}

func list[T any](items ...T) []T { return items }
