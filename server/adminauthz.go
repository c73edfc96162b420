package server

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/policy"
)

// Causes of admin API decisions (the decision log's `cause`, the `reason`
// label of certgate_decisions_total).
const (
	CauseAdminGranted Cause = "admin_granted"
	CauseAdminDenied  Cause = "admin_denied"
	// CauseNoAdminRule: the policy does not define policy.AdminQuery, so
	// no admin call over TLS is allowed.
	CauseNoAdminRule Cause = "no_admin_rule"
)

// adminMethodPrefix is what every admin API full method name starts with.
var adminMethodPrefix = "/" + adminv1.AdminService_ServiceDesc.ServiceName + "/"

// AuthorizeAdmin decides one call of the admin API over TLS. The client's
// certificate chain (chain: the TLS handshake's, leaf first, with the
// intermediates the client sent) is verified as for a check, with the
// snapshot's CAs and CRLs; the verified identity is then judged by policy.AdminQuery
// alone, with the short method name ("Reload" for
// /certgate.admin.v1.AdminService/Reload). The route table is never
// consulted, so no data-plane route or grant widens the admin API. The
// decision is logged and counted like a check, with adapter "admin".
//
// The Result is a 200 allow, a 401 (no verified identity), a 403 (the
// policy does not allow it, does not define the rule, or the method is not
// an admin method) or a 500 (no snapshot, a policy error).
func (c *Checker) AuthorizeAdmin(ctx context.Context, chain []*x509.Certificate, fullMethod string) Result {
	start := c.now()
	req := &Request{
		Method: http.MethodPost, Target: fullMethod, Scheme: "https", Protocol: "HTTP/2",
		Headers: map[string]string{}, Presented: &identity.Presented{Chain: chain, Source: identity.SourceAdminTLS}, Adapter: "admin",
	}
	st := c.state.Load()
	if st == nil || st.snap == nil {
		res := Result{Status: http.StatusInternalServerError, Reason: "no policy snapshot loaded", Cause: CauseNoSnapshot}
		c.record(ctx, nil, req, &res, start, false, false)
		return res
	}
	snap := st.snap
	v, hit, cacheUsed := c.authenticate(snap, st.verdicts, req, start)
	res := c.adminDecision(ctx, snap, v, fullMethod)
	res.Revision = snap.Revision
	c.record(ctx, snap, req, &res, start, hit, cacheUsed)
	return res
}

func (c *Checker) adminDecision(ctx context.Context, snap *Snapshot, v *verdict, fullMethod string) Result {
	if v.id == nil {
		return Result{Status: http.StatusUnauthorized, Reason: v.reason, Cause: v.cause, Claimed: v.claimed}
	}
	res := Result{Identity: v.id, StaleCRL: v.staleCRL}
	method, ok := strings.CutPrefix(fullMethod, adminMethodPrefix)
	if !ok || method == "" || strings.Contains(method, "/") {
		res.Status, res.Reason, res.Cause = http.StatusForbidden, "admin: not an admin API method", CauseAdminDenied
		return res
	}
	allowed, err := snap.Policy.AllowAdmin(ctx, v.id, method)
	switch {
	case err == nil && allowed:
		res.Status, res.Allow, res.Reason, res.Cause = http.StatusOK, true, "admin: "+method+" granted by "+policy.AdminQuery, CauseAdminGranted
	case err == nil:
		res.Status, res.Reason, res.Cause = http.StatusForbidden, "admin: "+method+" not granted by "+policy.AdminQuery, CauseAdminDenied
	case errors.Is(err, policy.ErrUndefined) && !snap.Policy.AdminDefined():
		res.Status, res.Reason, res.Cause = http.StatusForbidden, "admin: the policy does not define "+policy.AdminQuery+": every admin call over TLS is denied", CauseNoAdminRule
	case errors.Is(err, policy.ErrUndefined):
		res.Status, res.Reason, res.Cause = http.StatusForbidden, "admin: "+method+": "+err.Error(), CauseAdminDenied
	default:
		res.Status, res.Reason, res.Cause = http.StatusInternalServerError, "policy: "+err.Error(), CausePolicyError
	}
	return res
}
