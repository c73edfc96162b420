package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// The identity headers certgate sets on allowed requests. Any copy a client
// sent is overwritten, so an upstream can trust them.
const (
	HeaderUser        = "x-certgate-user"
	HeaderGroups      = "x-certgate-groups"
	HeaderPermission  = "x-certgate-permission"
	HeaderFingerprint = "x-certgate-fingerprint"
)

// identityHeaders are set on every allow, in this order.
var identityHeaders = []string{HeaderUser, HeaderGroups, HeaderPermission, HeaderFingerprint}

// Snapshot is one immutable generation of everything loaded from disk: the
// trust store and the compiled policy. A request runs entirely on the
// snapshot it started with.
type Snapshot struct {
	Trust    *trust.Store
	Policy   *policy.Engine
	Revision uint64
	LoadedAt time.Time
}

// Options configure a Checker. The zero value trusts no forwarded header,
// logs to slog.Default and uses the wall clock.
type Options struct {
	Identity identity.Options
	Logger   *slog.Logger
	Now      func() time.Time
}

// Checker runs the decision pipeline for both adapters.
type Checker struct {
	snapshot atomic.Pointer[Snapshot]
	identity identity.Options
	log      *slog.Logger
	now      func() time.Time
}

// NewChecker returns a Checker serving snap (which may be nil until the
// first successful load; requests are then denied with 500).
func NewChecker(snap *Snapshot, opts Options) *Checker {
	c := &Checker{identity: opts.Identity, log: opts.Logger, now: opts.Now}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if snap != nil {
		c.snapshot.Store(snap)
	}
	return c
}

// Swap makes snap the snapshot that new requests use; requests in flight
// finish on the one they started with.
func (c *Checker) Swap(snap *Snapshot) { c.snapshot.Store(snap) }

// Snapshot returns the snapshot in use, or nil before the first load.
func (c *Checker) Snapshot() *Snapshot { return c.snapshot.Load() }

// Request is a proxy's question in adapter-neutral form.
type Request struct {
	Method string
	// Target is the origin-form request target, query included.
	Target   string
	Host     string
	Scheme   string
	Protocol string
	// Headers has lower-case names.
	Headers map[string]string
	// PeerCertificate is Envoy's attributes.source.certificate (URL-encoded PEM).
	PeerCertificate string
	// Adapter names the adapter for the decision log: "grpc" or "http".
	Adapter string
}

// Header is one name/value pair, lower-case name.
type Header struct{ Name, Value string }

// Result is the decision and what the adapter must do with it.
type Result struct {
	// Status is the HTTP status of the decision: 200, 400, 401, 403 or 500.
	Status     int
	Allow      bool
	Reason     string
	Permission string
	Identity   *identity.Identity
	// UpstreamHeaders are set (overwriting) on an allowed request.
	UpstreamHeaders []Header
	// RemoveHeaders are client-sent headers to strip from an allowed request.
	RemoveHeaders []string
	// ResponseHeaders go to the client on a deny (policy's response_headers).
	ResponseHeaders []Header
}

// Check decides one request. It never panics on input and never allows on
// an error: every failure maps to a deny with the status of the contract.
func (c *Checker) Check(ctx context.Context, req *Request) Result {
	start := c.now()
	snap := c.snapshot.Load()
	res := c.decide(ctx, snap, req, start)
	c.logDecision(ctx, snap, req, &res, start)
	return res
}

func (c *Checker) decide(ctx context.Context, snap *Snapshot, req *Request, now time.Time) Result {
	if snap == nil {
		return Result{Status: http.StatusInternalServerError, Reason: "no policy snapshot loaded"}
	}
	presented, err := identity.Extract(req.PeerCertificate, req.Headers, c.identity)
	if err != nil {
		return Result{Status: http.StatusUnauthorized, Reason: "certificate: " + err.Error()}
	}
	if _, err := snap.Trust.Verify(presented.Chain, trust.VerifyOptions{Now: now}); err != nil {
		// trust.Error messages start with their Reason (revoked, expired, …).
		return Result{Status: http.StatusUnauthorized, Reason: "chain: " + err.Error()}
	}
	id := identity.New(presented.Chain[0], presented.Source)
	target, err := NormalizePath(req.Target)
	if err != nil {
		return Result{Status: http.StatusBadRequest, Reason: err.Error(), Identity: &id}
	}
	in := &policy.Input{
		Identity: &id,
		Request: policy.Request{
			Method:   req.Method,
			Path:     target.Path,
			RawPath:  target.RawPath,
			Query:    ParseQuery(target.RawQuery),
			Headers:  req.Headers,
			Host:     req.Host,
			Scheme:   req.Scheme,
			Protocol: req.Protocol,
		},
	}
	d, err := snap.Policy.Decide(ctx, in)
	if err != nil {
		return Result{Status: http.StatusInternalServerError, Reason: "policy: " + err.Error(), Identity: &id}
	}
	return c.result(d, &id, req.Headers)
}

// result turns a policy decision into a Result. A decision that allows with
// a status other than 200, or denies with a status outside 4xx/5xx, is read
// conservatively: allow needs both allow=true and status 200.
func (c *Checker) result(d policy.Decision, id *identity.Identity, sent map[string]string) Result {
	res := Result{Status: d.Status, Reason: d.Reason, Permission: d.Permission, Identity: id}
	for name, value := range d.ResponseHeaders {
		res.ResponseHeaders = append(res.ResponseHeaders, Header{strings.ToLower(name), value})
	}
	if !d.Allow || d.Status != http.StatusOK {
		if res.Status < 400 || res.Status > 599 {
			res.Status = http.StatusForbidden
		}
		return res
	}
	res.Allow = true
	res.UpstreamHeaders = []Header{
		{HeaderUser, id.User},
		{HeaderGroups, strings.Join(id.Groups, ",")},
		{HeaderPermission, d.Permission},
		{HeaderFingerprint, id.FingerprintSHA256},
	}
	for name, value := range d.Headers {
		name = strings.ToLower(name)
		if isIdentityHeader(name) {
			continue // certgate's own values win over the policy's
		}
		res.UpstreamHeaders = append(res.UpstreamHeaders, Header{name, value})
	}
	res.RemoveHeaders = c.headersToRemove(sent)
	return res
}

// headersToRemove lists the client-sent headers an upstream must not see:
// certificate headers certgate was not told to trust, and certgate-prefixed
// headers it does not set itself (the ones it sets are overwritten instead,
// which is correct whatever order the proxy applies removals in).
func (c *Checker) headersToRemove(sent map[string]string) []string {
	var out []string
	if !c.identity.TrustForwardedHeaders {
		for _, name := range identity.ForwardedCertHeaders {
			if _, ok := sent[name]; ok {
				out = append(out, name)
			}
		}
	}
	for name := range sent {
		if strings.HasPrefix(name, "x-certgate-") && !isIdentityHeader(name) {
			out = append(out, name)
		}
	}
	return out
}

func isIdentityHeader(name string) bool {
	for _, h := range identityHeaders {
		if name == h {
			return true
		}
	}
	return false
}

func (c *Checker) logDecision(ctx context.Context, snap *Snapshot, req *Request, res *Result, start time.Time) {
	level := slog.LevelInfo
	if res.Status >= 500 {
		level = slog.LevelError
	}
	if !c.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.Bool("allow", res.Allow),
		slog.Int("status", res.Status),
		slog.String("reason", res.Reason),
		slog.String("method", req.Method),
		slog.String("path", truncate(req.Target, 512)),
		slog.String("permission", res.Permission),
		slog.String("adapter", req.Adapter),
		slog.Duration("duration", c.now().Sub(start)),
	}
	if res.Identity != nil {
		attrs = append(attrs,
			slog.String("user", res.Identity.User),
			slog.Any("groups", res.Identity.Groups),
			slog.String("source", string(res.Identity.Source)),
			slog.String("serial", res.Identity.Serial),
			slog.String("fingerprint", res.Identity.FingerprintSHA256),
		)
	}
	if snap != nil {
		attrs = append(attrs, slog.Uint64("revision", snap.Revision))
	}
	c.log.LogAttrs(ctx, level, "decision", attrs...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
