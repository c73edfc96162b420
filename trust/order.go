package trust

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// The order of CRLs. A CA numbers its CRLs (RFC 5280 §5.2.3: a
// monotonically increasing sequence per issuer), and each new CRL has a
// later thisUpdate. certgate holds every issuer key to that: among the CRLs
// of one key the newest is the one with the highest number, then the latest
// thisUpdate (a CRL without a number, which RFC 5280 does not allow but old
// tools write, is placed by its thisUpdate alone). A set of CRLs in which
// number and thisUpdate disagree, or one number stands for two different
// CRLs, has no newest: it is refused at load. A reload is refused when it
// would replace an issuer's newest CRL by an older one. docs/validation.md
// §3 and SECURITY.md ("CRL ordering and cross-signed twins") say why.

// CRLOrderProblem is what is wrong with two CRLs of one issuer key.
type CRLOrderProblem string

// The problems.
const (
	// CRLNumberAgainstTime: the CRL with the higher number has the older
	// thisUpdate.
	CRLNumberAgainstTime CRLOrderProblem = "number_against_this_update"
	// CRLNumberReused: the two carry the same number and differ.
	CRLNumberReused CRLOrderProblem = "number_reused"
	// CRLSameThisUpdate: the two, not both numbered, carry the same
	// thisUpdate and differ.
	CRLSameThisUpdate CRLOrderProblem = "same_this_update"
	// CRLOlderThanServing: a reload brings an issuer's CRL older than the
	// one serving (a lower number, or, without numbers, an earlier
	// thisUpdate).
	CRLOlderThanServing CRLOrderProblem = "older_than_serving"
)

// CRLOrderError is a set of CRLs, or a reload, that breaks the order of
// one issuer key's CRLs. Load returns it, and CheckSuccessor.
type CRLOrderError struct {
	Problem CRLOrderProblem
	// New is the CRL that should be the newer one and is not: at load the
	// one placed first, in a reload the one loaded. Old is the other: in a
	// reload the one serving.
	New, Old CRLStatus
	// Reload is set when Old is the serving store's CRL.
	Reload bool
}

func (e *CRLOrderError) Error() string {
	var what string
	switch e.Problem {
	case CRLNumberAgainstTime:
		what = "the higher number has the older thisUpdate"
	case CRLNumberReused:
		what = "one CRL number with different contents"
	case CRLSameThisUpdate:
		what = "one thisUpdate, no numbers to tell them apart, and different contents"
	case CRLOlderThanServing:
		what = "the loaded CRL is the older one"
	default:
		what = string(e.Problem)
	}
	if e.Reload {
		return fmt.Sprintf("CRL of %q goes back: the loaded %s would replace the serving %s: %s", e.New.Issuer, describeCRL(e.New), describeCRL(e.Old), what)
	}
	return fmt.Sprintf("CRLs of %q out of order: %s and %s: %s", e.New.Issuer, describeCRL(e.New), describeCRL(e.Old), what)
}

func describeCRL(c CRLStatus) string {
	n := c.Number
	if n == "" {
		n = "none"
	}
	where := "CRL"
	if c.File != "" {
		where = c.File
	}
	return fmt.Sprintf("%s (number %s, thisUpdate %s)", where, n, c.ThisUpdate.UTC().Format(time.RFC3339))
}

// compareCRLs orders two CRLs of one issuer key, newest last: by thisUpdate,
// then a numbered CRL after an unnumbered one, then by number. Once
// checkOrder has passed, this is "by number, then thisUpdate": it refuses
// the sets where numbers and thisUpdates disagree. Unlike comparing numbers
// first, it is a total order even across keys (the CRLs of two CAs of one
// name sit in one list), so one sort serves them all.
func compareCRLs(a, b *crlEntry) int {
	if c := a.crl.ThisUpdate.Compare(b.crl.ThisUpdate); c != 0 {
		return c
	}
	an, bn := a.crl.Number, b.crl.Number
	switch {
	case an != nil && bn != nil:
		return an.Cmp(bn)
	case an != nil:
		return 1
	case bn != nil:
		return -1
	}
	return 0
}

// sortNewestFirst sorts CRLs newest first; equal ones keep their order.
func sortNewestFirst(list []*crlEntry) {
	slices.SortStableFunc(list, func(a, b *crlEntry) int { return compareCRLs(b, a) })
}

// orderProblem says what is wrong with next coming after prev in one
// issuer key's sequence of CRLs, or "" when next is prev or supersedes it.
// In a reload next is the loaded CRL and prev the serving one; at load next
// is the one sortNewestFirst placed first, so a lower number there means
// that number and thisUpdate disagree.
func orderProblem(next, prev *crlEntry, reload bool) CRLOrderProblem {
	nn, pn := next.crl.Number, prev.crl.Number
	nt, pt := next.crl.ThisUpdate, prev.crl.ThisUpdate
	same := func() bool { return bytes.Equal(next.crl.RawTBSRevocationList, prev.crl.RawTBSRevocationList) }
	if nn != nil && pn != nil {
		switch c := nn.Cmp(pn); {
		case c < 0 && reload:
			return CRLOlderThanServing
		case c < 0, c > 0 && nt.Before(pt):
			return CRLNumberAgainstTime
		case c == 0 && !same():
			return CRLNumberReused
		}
		return ""
	}
	switch {
	case nt.Before(pt):
		return CRLOlderThanServing
	case nt.Equal(pt) && !same():
		return CRLSameThisUpdate
	}
	return ""
}

// checkOrder refuses a group (the CRLs of one issuer key, sorted newest
// first) that has no consistent newest CRL. Neighbours suffice: problems
// between numbered CRLs show between neighbours of the numbered ones, the
// others only between CRLs of one thisUpdate, which the sort keeps together.
func checkOrder(group []*crlEntry) error {
	var numbered *crlEntry
	for i, e := range group {
		if i > 0 {
			if err := orderError(group[i-1], e, false); err != nil {
				return err
			}
		}
		if e.crl.Number == nil {
			continue
		}
		if numbered != nil && numbered != group[i-1] {
			if err := orderError(numbered, e, false); err != nil {
				return err
			}
		}
		numbered = e
	}
	return nil
}

func orderError(next, prev *crlEntry, reload bool) error {
	p := orderProblem(next, prev, reload)
	if p == "" {
		return nil
	}
	return &CRLOrderError{Problem: p, New: next.status(), Old: prev.status(), Reload: reload}
}

// CheckSuccessor reports whether s may replace old, the store serving now:
// for every issuer key that both hold CRLs for, the newest CRL of s must be
// the newest of old or supersede it (a higher number whose thisUpdate is
// not earlier; without numbers, a later thisUpdate). Otherwise it returns a
// *CRLOrderError, and the reload must keep old serving: a CRL that goes
// back could drop a revocation. An issuer whose CRLs s no longer holds is
// no reason to refuse (its certificates are then not covered, which the CRL
// mode decides on), nor is a new one.
func (s *Store) CheckSuccessor(old *Store) error {
	if s == nil || old == nil {
		return nil
	}
	for _, key := range old.groupOrder {
		next, ok := s.newest[key]
		if !ok {
			continue
		}
		if err := orderError(next, old.newest[key], true); err != nil {
			return err
		}
	}
	return nil
}

// groupKey says whose sequence a CRL belongs to: its issuer's name and the
// key it verified with at load, or, for an issuer not configured (an
// intermediate that clients present), the authority key identifier the CRL
// names. Two CAs of one name (a rollover) thus keep separate sequences,
// and a CA certificate renewed with the same key keeps its own.
func groupKey(e *crlEntry) string {
	if len(e.signers) > 0 {
		return string(e.crl.RawIssuer) + "\x00key\x00" + string(e.signers[0].RawSubjectPublicKeyInfo)
	}
	return string(e.crl.RawIssuer) + "\x00aki\x00" + string(e.crl.AuthorityKeyId)
}

// orderCRLs sorts each issuer name's CRLs newest first, checks the order of
// each issuer key's usable CRLs and remembers the newest of each. A CRL that
// is never used (unsupported) takes no part: a delta CRL shares its base's
// numbers.
func (s *Store) orderCRLs() error {
	for _, list := range s.crls {
		sortNewestFirst(list)
	}
	groups := map[string][]*crlEntry{}
	for _, e := range s.all {
		if e.unsupported != "" {
			continue
		}
		key := groupKey(e)
		if _, ok := groups[key]; !ok {
			s.groupOrder = append(s.groupOrder, key)
		}
		groups[key] = append(groups[key], e)
	}
	s.newest = make(map[string]*crlEntry, len(groups))
	for _, key := range s.groupOrder {
		g := groups[key]
		sortNewestFirst(g)
		if err := checkOrder(g); err != nil {
			return err
		}
		s.newest[key] = g[0]
	}
	return nil
}
