package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"net/http"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

func TestCheckRefusesIdentitiesACABindingDoesNotAllow(t *testing.T) {
	root := pkitest.New(t, "root")
	team := root.ChildCA("team CA", pkitest.PermittedDNS("team.example"))
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{team.Cert}, nil, trust.CRLModeOff)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(team.Cert.Raw)
	if store, err = store.WithBindings([]trust.Binding{{FingerprintSHA256: hex.EncodeToString(sum[:]), AllowedUsers: []string{"team-*"}, AllowedGroups: []string{"viewers"}}}); err != nil {
		t.Fatal(err)
	}
	engine, err := policy.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	c := NewChecker(&Snapshot{Trust: store, Policy: engine, Revision: 1}, Options{Logger: slog.New(slog.DiscardHandler)})
	sans := pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"api.team.example"} })
	for _, tt := range []struct {
		name   string
		cert   *pki.Certificate
		status int
		cause  Cause
	}{
		{"the team's own viewer may list VMs", team.Leaf("team-vera", pkitest.Orgs("viewers"), sans), http.StatusOK, "granted"},
		{"CN=admin, O=admins from the team CA is refused", team.Leaf("admin", pkitest.Orgs("admins"), sans), http.StatusUnauthorized, CauseIdentityNotAllowedForCA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := envoyCheck(tt.cert, "GET", "/api/v1/vm")
			if res := c.Check(context.Background(), req); res.Status != tt.status || res.Cause != tt.cause {
				t.Errorf("Check = %d %q (%s), want %d %q", res.Status, res.Cause, res.Reason, tt.status, tt.cause)
			}
			if ex := c.Explain(context.Background(), req, false); ex.Result.Cause != tt.cause {
				t.Errorf("Explain cause %q, want %q", ex.Result.Cause, tt.cause)
			}
		})
	}
}
