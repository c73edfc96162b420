package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/certgate/certgate/duration"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// The text forms of admin answers, for people; --json is for programs.

func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	t := ts.AsTime()
	d := time.Until(t).Round(time.Second)
	rel := "in " + duration.Format(d)
	switch {
	case d == 0:
		rel = "now"
	case d < 0:
		rel = duration.Format(-d) + " ago"
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

func printStatus(w io.Writer, st *adminv1.GetStatusResponse) {
	snap := st.GetSnapshot()
	if snap == nil {
		fmt.Fprintln(w, "no snapshot loaded")
	} else {
		fmt.Fprintf(w, "revision   %d, loaded %s\n", snap.GetRevision(), when(snap.GetLoadedAt()))
		fmt.Fprintf(w, "digest     %s\n", snap.GetDigest())
		fmt.Fprintf(w, "trust      crl_mode %s, on_stale_crl %s, %d cached verdicts\n", snap.GetCrlMode(), snap.GetOnStaleCrl(), snap.GetVerdictCacheEntries())
		for _, ca := range snap.GetCertificateAuthorities() {
			kind := "CA"
			if ca.GetIntermediate() {
				kind = "intermediate"
			}
			fmt.Fprintf(w, "%-10s %s, valid until %s, sha256 %s\n", kind, ca.GetSubject(), when(ca.GetNotAfter()), short(ca.GetFingerprintSha256()))
		}
		for _, crl := range snap.GetRevocationLists() {
			fmt.Fprintf(w, "CRL        %s #%s: %s, %d revoked, next update %s (%s)\n", crl.GetIssuer(), crl.GetNumber(),
				crlStateName(crl.GetState()), crl.GetRevokedCount(), when(crl.GetNextUpdate()), crl.GetFile())
		}
		fmt.Fprintf(w, "policy     %s\n", strings.Join(snap.GetPolicyFiles(), ", "))
		printShadow(w, snap.GetShadowPolicy())
	}
	printCRLFetch(w, st.GetCrlFetch())
	for _, b := range st.GetBundles() {
		printBundle(w, b)
	}
	fmt.Fprintf(w, "reloads    %d succeeded, %d failed\n", st.GetReloadSuccesses(), st.GetReloadFailures())
	if st.GetLastReload() != nil {
		fmt.Fprint(w, "last       ")
		printReload(w, st.GetLastReload())
	}
	fmt.Fprintf(w, "version    %s\n", st.GetVersion())
}

// printShadow is the shadow policy's line, none when none is configured.
func printShadow(w io.Writer, sh *adminv1.ShadowPolicyStatus) {
	switch {
	case sh == nil:
	case sh.GetLoaded():
		fmt.Fprintf(w, "shadow     loaded from %s, digest %s: %s\n", sh.GetDir(), short(sh.GetDigest()), strings.Join(sh.GetPolicyFiles(), ", "))
	default:
		fmt.Fprintf(w, "shadow     NOT loaded from %s (serving without a shadow): %s\n", sh.GetDir(), sh.GetLastError())
	}
}

func crlStateName(s adminv1.RevocationListState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "REVOCATION_LIST_STATE_"))
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16] + "…"
	}
	return fp
}

func printReload(w io.Writer, a *adminv1.ReloadAttempt) {
	result := strings.ToLower(strings.TrimPrefix(a.GetResult().String(), "RELOAD_RESULT_"))
	fmt.Fprintf(w, "reload (%s) at %s: %s, serving revision %d\n", a.GetTrigger(), when(a.GetAttemptedAt()), result, a.GetRevision())
	if a.GetError() != "" {
		fmt.Fprintf(w, "           error: %s\n", a.GetError())
	}
}

func printExplain(w io.Writer, req *adminv1.ExplainRequest, ex *adminv1.ExplainResponse) {
	fmt.Fprintf(w, "request    %s %s (snapshot revision %d)\n", req.GetMethod(), req.GetPath(), ex.GetRevision())
	if id := ex.GetIdentity(); id != nil {
		fmt.Fprintf(w, "identity   user %q, groups %q, org units %q\n", id.GetUser(), id.GetGroups(), id.GetOrgUnits())
		subject, issuer := namesOf(req.GetCertificatePem(), id)
		fmt.Fprintf(w, "           subject %s, issuer %s, serial %s\n", subject, issuer, id.GetSerial())
		if id.GetSpiffeId() != "" {
			fmt.Fprintf(w, "           spiffe %s\n", id.GetSpiffeId())
		}
	}
	ch := ex.GetChain()
	if ch.GetValid() {
		stale := ""
		if ch.GetStaleCrl() {
			stale = " (checked against a CRL past its nextUpdate)"
		}
		fmt.Fprintf(w, "chain      valid: %s%s\n", strings.Join(ch.GetPath(), " <- "), stale)
	} else {
		fmt.Fprintf(w, "chain      invalid (%s): %s\n", ch.GetReason(), ch.GetDetail())
	}
	d := ex.GetDecision()
	verdict := "DENY"
	if d.GetAllow() {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "decision   %s %d", verdict, d.GetStatus())
	if d.GetPermission() != "" {
		fmt.Fprintf(w, ", permission %s", d.GetPermission())
	}
	if d.GetReason() != "" {
		fmt.Fprintf(w, ": %s", d.GetReason())
	}
	fmt.Fprintln(w)
	for _, r := range d.GetMatchedRoutes() {
		fmt.Fprintf(w, "route      %s %s -> %s\n", r.GetMethod(), r.GetPath(), r.GetPermission())
	}
	for _, name := range sortedMapKeys(d.GetUpstreamHeaders()) {
		fmt.Fprintf(w, "upstream   %s: %s\n", name, d.GetUpstreamHeaders()[name])
	}
	if len(ex.GetTrace()) > 0 {
		fmt.Fprintln(w, "trace")
		for _, line := range ex.GetTrace() {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

func printPermissions(w io.Writer, list *adminv1.ListPermissionsResponse) {
	fmt.Fprintf(w, "%d permissions (snapshot revision %d)\n", len(list.GetPermissions()), list.GetRevision())
	for _, p := range list.GetPermissions() {
		fmt.Fprintf(w, "%s\n", p.GetName())
		for _, r := range p.GetRoutes() {
			fmt.Fprintf(w, "  route  %s %s\n", r.GetMethod(), r.GetPath())
		}
		if p.GetEveryAuthenticatedIdentity() {
			fmt.Fprintln(w, "  held by every authenticated identity")
		}
		if len(p.GetGroups()) > 0 {
			fmt.Fprintf(w, "  groups %s\n", strings.Join(p.GetGroups(), ", "))
		}
		if len(p.GetUsers()) > 0 {
			fmt.Fprintf(w, "  users  %s\n", strings.Join(p.GetUsers(), ", "))
		}
	}
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func printBundle(w io.Writer, b *adminv1.Bundle) {
	from := ""
	if b.GetFromDisk() {
		from = ", read from disk"
	}
	revision := b.GetRevision()
	if revision == "" {
		revision = "-"
	}
	fmt.Fprintf(w, "bundle     %s from %s: revision %s, ETag %s%s\n", b.GetName(), b.GetUrl(), revision, orDash(b.GetEtag()), from)
	fmt.Fprintf(w, "           activated %s, checked %s, %d activations, %d failures\n",
		when(b.GetActivatedAt()), when(b.GetCheckedAt()), b.GetActivations(), b.GetFailures())
	if b.GetLastError() != "" {
		fmt.Fprintf(w, "           error at %s: %s\n", when(b.GetLastErrorAt()), b.GetLastError())
	}
}
