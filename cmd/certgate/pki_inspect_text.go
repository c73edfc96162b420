package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certgate/certgate/duration"
)

// printReport writes an inspectReport for people.
func printReport(w io.Writer, r *inspectReport, now time.Time) {
	for i, c := range r.Certificates {
		id := c.Identity
		kind := "certificate"
		if c.IsCA {
			kind = "CA certificate"
		}
		fmt.Fprintf(w, "%s %d of %d in %s\n", kind, i+1, len(r.Certificates), r.File)
		row := func(k, v string) { fmt.Fprintf(w, "  %-14s %s\n", k+":", v) }
		row("subject", c.Subject)
		row("issuer", c.Issuer)
		if c.IdentityError != "" {
			row("user", "REFUSED: "+c.IdentityError)
		} else {
			row("user", orDash(id.User))
		}
		row("groups", joinOr(id.Groups))
		row("org units", joinOr(id.OrgUnits))
		var sans []string
		for _, s := range id.SANs.DNS {
			sans = append(sans, "DNS:"+s)
		}
		for _, s := range id.SANs.IP {
			sans = append(sans, "IP:"+s)
		}
		for _, s := range id.SANs.Email {
			sans = append(sans, "email:"+s)
		}
		for _, s := range id.SANs.URI {
			sans = append(sans, "URI:"+s)
		}
		row("SANs", joinOr(sans))
		if id.SPIFFEID != "" {
			row("SPIFFE ID", id.SPIFFEID)
		}
		row("serial", strings.ToUpper(id.Serial))
		row("valid", fmt.Sprintf("%s to %s (%s)", id.NotBefore.Format(time.RFC3339), id.NotAfter.Format(time.RFC3339), validity(id.NotBefore, id.NotAfter, now)))
		row("sha256", id.FingerprintSHA256)
		row("key", c.Key)
		row("signature", c.SignatureAlgorithm)
		row("key usage", joinOr(c.KeyUsage))
		row("ext key usage", joinOr(c.ExtKeyUsage))
	}
	for i, c := range r.CRLs {
		fmt.Fprintf(w, "CRL %d of %d in %s\n", i+1, len(r.CRLs), r.File)
		row := func(k, v string) { fmt.Fprintf(w, "  %-14s %s\n", k+":", v) }
		row("issuer", c.Issuer)
		row("number", c.Number)
		row("this update", c.ThisUpdate.Format(time.RFC3339))
		next := "none"
		if !c.NextUpdate.IsZero() {
			next = c.NextUpdate.Format(time.RFC3339)
			if left := c.NextUpdate.Sub(now); left >= 0 {
				next += " (in " + duration.Format(left) + ")"
			} else {
				next += " (STALE since " + duration.Format(-left) + ")"
			}
		}
		row("next update", next)
		row("sha256", c.SHA256)
		row("revoked", fmt.Sprint(len(c.Entries)))
		for _, e := range c.Entries {
			fmt.Fprintf(w, "    %s  %s  %s\n", e.Serial, e.RevokedAt.Format(time.RFC3339), e.Reason)
		}
	}
	if v := r.Verification; v != nil {
		fmt.Fprintf(w, "against %s\n", v.Config)
		if v.Verified {
			fmt.Fprintln(w, "  verified:      yes")
			fmt.Fprintf(w, "  permissions:   %s\n", joinOr(v.Permissions))
		} else {
			fmt.Fprintf(w, "  verified:      no: %s\n", v.Detail)
		}
	}
}

func validity(from, to, now time.Time) string {
	switch {
	case now.Before(from):
		return "NOT YET VALID"
	case now.After(to):
		return "EXPIRED"
	}
	d := to.Sub(now)
	if d > 48*time.Hour {
		return fmt.Sprintf("%d days left", int(d/(24*time.Hour)))
	}
	return duration.Format(d) + " left"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
