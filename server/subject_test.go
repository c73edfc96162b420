package server

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// envoyCheck is the Request of an Envoy check of method and target by
// the holder of cert.
func envoyCheck(cert *pki.Certificate, method, target string) *Request {
	req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: cert.CertPEM(), Method: method, Target: target, Host: "anka.example"}))
	req.Adapter = "grpc"
	return req
}

func TestCheckRefusesAmbiguousSubjects(t *testing.T) {
	c, inter := newTestChecker(t)
	var lines bytes.Buffer
	c.decisions = NewDecisionLog(&lines, 1)
	cn := func(v string) pkix.RelativeDistinguishedNameSET {
		return pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDCommonName, Value: v}}
	}
	o := func(v string) pkix.RelativeDistinguishedNameSET {
		return pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDOrganization, Value: v}}
	}
	// jenkins' user entry grants registry_distribute; no group does.
	const method, target = "POST", "/api/v1/registry/vm/distribute"
	tests := []struct {
		name   string
		cert   *pki.Certificate
		status int
		cause  Cause
	}{
		{"jenkins itself may distribute", inter.Leaf("jenkins"), http.StatusOK, "granted"},
		{"a second CN naming jenkins is refused", inter.Leaf("", pkitest.CommonNames(t, "mallory", "jenkins")), http.StatusUnauthorized, CauseAmbiguousSubject},
		{"a second CN among groups is refused", inter.Leaf("", pkitest.Subject(t, o("ci"), cn("mallory"), o("viewers"), cn("jenkins"))), http.StatusUnauthorized, CauseAmbiguousSubject},
		{"a CN in a multi-valued RDN is refused", inter.Leaf("", pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{
			{Type: pkitest.OIDCommonName, Value: "jenkins"}, {Type: pkitest.OIDOrganization, Value: "ci"}})), http.StatusUnauthorized, CauseAmbiguousSubject},
		{"two SPIFFE IDs are refused", inter.Leaf("jenkins", pkitest.With(func(o *pki.Options) {
			o.URIs = append(o.URIs, mustParseURL(t, "spiffe://example.org/a"), mustParseURL(t, "spiffe://example.org/b"))
		})), http.StatusUnauthorized, CauseAmbiguousSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := envoyCheck(tt.cert, method, target)
			for _, pass := range []string{"verified", "cached"} {
				lines.Reset()
				res := c.Check(context.Background(), req)
				if res.Status != tt.status || res.Cause != tt.cause || res.Allow != (tt.status == http.StatusOK) {
					t.Fatalf("%s Check = %d %q (%s); want %d %q", pass, res.Status, res.Cause, res.Reason, tt.status, tt.cause)
				}
				var line struct {
					Cause string `json:"cause"`
					User  string `json:"user"`
				}
				if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
					t.Fatalf("decision log %q: %v", lines.String(), err)
				}
				if line.Cause != string(tt.cause) || tt.cause == CauseAmbiguousSubject && line.User != "" {
					t.Errorf("decision log cause %q user %q; want %q and no user for a refusal", line.Cause, line.User, tt.cause)
				}
			}
			ex := c.Explain(context.Background(), req, false)
			if ex.Result.Status != tt.status || ex.Result.Cause != tt.cause || !ex.Chain.Valid {
				t.Errorf("Explain = %d %q, chain valid %v; want %d %q on a valid chain", ex.Result.Status, ex.Result.Cause, ex.Chain.Valid, tt.status, tt.cause)
			}
		})
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
