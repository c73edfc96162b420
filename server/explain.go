package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/trust"
)

// Explanation is what the pipeline found out about one request, step by
// step, for operators asking why a client is allowed or denied.
type Explanation struct {
	Revision uint64
	// Identity is nil when no certificate could be read.
	Identity *identity.Identity
	Chain    ChainVerdict
	Result   Result
	// Routes are the routes that matched the request.
	Routes []MatchedRoute
	// Trace is the policy's evaluation trace, when asked for and the chain
	// was valid.
	Trace []string
}

// MatchedRoute is a route of the policy data that matched the request.
type MatchedRoute struct{ Permission, Method, Path string }

// ChainVerdict is the outcome of chain verification.
type ChainVerdict struct {
	Valid bool
	// Reason is the trust.Reason of a failure ("revoked", "expired", …),
	// or "certificate" when the presented certificate could not be read.
	Reason string
	Detail string
	// Path lists the subjects of the verified path, leaf first.
	Path     []string
	StaleCRL bool
}

// Explain runs the pipeline on req as Check does, on the serving snapshot,
// but bypasses the verdict cache and writes no decision log line: asking
// why must not change what is counted.
func (c *Checker) Explain(ctx context.Context, req *Request, trace bool) Explanation {
	snap := c.Snapshot()
	if snap == nil {
		return Explanation{Result: Result{Status: http.StatusInternalServerError, Reason: "no policy snapshot loaded"}}
	}
	now := c.now()
	ex := Explanation{Revision: snap.Revision}
	presented, err := identity.Extract(req.PeerCertificate, req.Headers, c.identity)
	if err != nil {
		ex.Chain = ChainVerdict{Reason: "certificate", Detail: err.Error()}
		ex.Result = Result{Status: http.StatusUnauthorized, Reason: "certificate: " + err.Error(), Revision: snap.Revision}
		return ex
	}
	id := identity.New(presented.Chain[0], presented.Source)
	ex.Identity = &id
	verified, err := snap.Trust.Verify(presented.Chain, trust.VerifyOptions{Now: now})
	if err != nil {
		ex.Chain = ChainVerdict{Reason: string(trust.ReasonInvalid), Detail: err.Error()}
		var te *trust.Error
		if errors.As(err, &te) {
			ex.Chain.Reason = string(te.Reason)
		}
		ex.Result = Result{Status: http.StatusUnauthorized, Reason: "chain: " + err.Error(), Identity: &id, Revision: snap.Revision}
		return ex
	}
	ex.Chain = ChainVerdict{Valid: true, StaleCRL: verified.StaleCRL}
	for _, cert := range verified.Chain {
		ex.Chain.Path = append(ex.Chain.Path, cert.Subject.String())
	}
	v := &verdict{id: &id, staleCRL: verified.StaleCRL, from: now, until: verified.ValidUntil}
	in, res, ok := policyInput(v, req)
	if ok {
		d, matched, lines, err := snap.Policy.Explain(ctx, in, trace)
		res = c.decided(d, err, v, req)
		ex.Routes, ex.Trace = parseRoutes(matched), lines
	}
	ex.Result = res
	ex.Result.Revision = snap.Revision
	return ex
}

// parseRoutes reads policy.Engine.Explain's "METHOD path -> permission"
// lines; a line of another shape is kept whole as the path.
func parseRoutes(lines []string) []MatchedRoute {
	out := make([]MatchedRoute, 0, len(lines))
	for _, l := range lines {
		route, perm, _ := strings.Cut(l, " -> ")
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			method, path = "", route
		}
		out = append(out, MatchedRoute{Permission: perm, Method: method, Path: path})
	}
	return out
}
