package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// Explanation is what the pipeline found out about one request, step by
// step, for operators asking why a client is allowed or denied.
type Explanation struct {
	Revision uint64
	// Identity is what the certificate says (verified or not); nil when
	// no certificate could be read.
	Identity *identity.Identity
	Chain    ChainVerdict
	Result   Result
	// Routes are the routes that matched the request.
	Routes []policy.MatchedRoute
	// Trace is the policy's evaluation trace, when asked for and the chain
	// was valid.
	Trace []string
}

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
	v := verify(snap.Trust, req, c.identity, c.now(), nil)
	ex := Explanation{Revision: snap.Revision, Identity: v.id, Chain: chainVerdict(v)}
	if v.id == nil {
		ex.Identity = v.claimed
	}
	in, res, ok := policyInput(v, req)
	if ok {
		d, matched, lines, err := snap.Policy.Explain(ctx, in, trace)
		res = c.decided(d, err, v, req)
		ex.Routes, ex.Trace = matched, lines
	}
	ex.Result = res
	ex.Result.Revision = snap.Revision
	return ex
}

// chainVerdict describes the verification behind v.
func chainVerdict(v *verdict) ChainVerdict {
	if v.id != nil || v.chain != nil { // a valid chain, its identity perhaps refused (Result says)
		cv := ChainVerdict{Valid: true, StaleCRL: v.staleCRL}
		for _, cert := range v.chain {
			cv.Path = append(cv.Path, cert.Subject.String())
		}
		return cv
	}
	cv := ChainVerdict{Reason: "certificate", Detail: v.err.Error()}
	var te *trust.Error
	switch {
	case errors.As(v.err, &te):
		cv.Reason = string(te.Reason)
	case v.claimed != nil: // parsed, but the chain did not verify
		cv.Reason = string(trust.ReasonInvalid)
	}
	return cv
}
