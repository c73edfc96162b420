package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// The identity headers certgate sets on allowed requests, each with a
// value encoded by headerValue. One without a value (a certificate without
// CN or O, an allow without a permission) is removed instead, like every
// other x-certgate-* header certgate does not set, so an upstream can trust
// them.
const (
	HeaderUser        = "x-certgate-user"
	HeaderGroups      = "x-certgate-groups"
	HeaderPermission  = "x-certgate-permission"
	HeaderFingerprint = "x-certgate-fingerprint"
)

// HeaderDecisionID is the HTTP adapter's response header naming the
// decision's line in the decision log, on allows and denies, so that the
// proxy can log it (NGINX: auth_request_set). It is for the proxy's log,
// not for the upstream: certgate-location.conf does not forward it.
const HeaderDecisionID = "x-certgate-decision-id"

// identityHeaders are set on every allow, in this order.
var identityHeaders = []string{HeaderUser, HeaderGroups, HeaderPermission, HeaderFingerprint}

// methodOverrideHeaders make frameworks that honour them treat a request
// as another method than the one certgate decided about (a POST allowed as
// create_item would be a DELETE). Every allow removes them, and a policy
// cannot set them.
var methodOverrideHeaders = []string{"x-http-method-override", "x-http-method", "x-method-override"}

// reservedPrefix is certgate's: no client-sent header with it reaches an
// upstream.
const reservedPrefix = "x-certgate-"

// Options configure a Checker. The zero value logs (decisions included) to
// slog.Default, caches up to DefaultVerdictCacheSize verdicts and
// DefaultVerdictCacheBytes, records no metrics and uses the wall clock.
type Options struct {
	// Identity holds the limits of what a presented certificate may cost.
	// Its Trust is ignored: which forwarded headers count is a property of
	// the listener and peer a request came from (Request.Trust).
	Identity identity.Options
	Logger   *slog.Logger
	// DecisionLog receives one line per decision; nil logs every decision
	// to Logger instead.
	DecisionLog *DecisionLog
	Metrics     *Metrics
	// VerdictCacheSize bounds the verdict cache's verified entries and
	// VerdictCacheBytes their estimated memory, failures getting a
	// sixteenth of each besides (see verdictCache); 0 is the default,
	// negative disables the cache.
	VerdictCacheSize  int
	VerdictCacheBytes int
	Now               func() time.Time
	// NameMissingPermission makes a 403's body name the permission the
	// request lacked. Off (the default), every 403 body is the same, so a
	// client cannot map the route table; the decision log names the
	// permission either way.
	NameMissingPermission bool
	// LearnCRLURLs, when set, is given the CRL distribution points of each
	// client certificate whose chain verified to a configured CA: on
	// success, and when only its CRL was missing (crl_unavailable). It
	// must not block. Never the URLs of a certificate that did not verify.
	LearnCRLURLs func(urls []string)
}

// Checker runs the decision pipeline for both adapters.
type Checker struct {
	state     atomic.Pointer[serving]
	identity  identity.Options
	log       *slog.Logger
	decisions *DecisionLog
	metrics   *Metrics
	ids       *decisionIDs
	cacheSize int
	byteLimit int // of the verdict cache
	now       func() time.Time
	// namePermission is Options.NameMissingPermission.
	namePermission bool
	learnCRLURLs   func([]string)
	// shadow evaluates the snapshot's shadow policy, if it has one.
	shadow *shadowRunner
}

// serving is everything a Checker publishes, in one atomic value: the
// snapshot, the verdict cache that belongs to it, the decision cache
// lookups of the engines it replaced, and what reloads have done so far.
// A request, a scrape and GetStatus each load it once, so none of them can
// see a reload's result beside the snapshot that reload replaced, and no
// lock is held across a swap to keep them consistent.
type serving struct {
	snap     *Snapshot
	verdicts *verdictCache
	// retired counts the decision cache lookups of the engines this one
	// replaced (see decisionCounts).
	retired decisionCounts
	// reload is the Reloader's record up to and including the attempt
	// that left snap serving.
	reload ReloadStatus
}

// NewChecker returns a Checker serving snap (which may be nil until the
// first successful load; requests are then denied with 500).
func NewChecker(snap *Snapshot, opts Options) *Checker {
	c := &Checker{identity: opts.Identity, log: opts.Logger, decisions: opts.DecisionLog, metrics: opts.Metrics,
		ids: newDecisionIDs(), cacheSize: opts.VerdictCacheSize, byteLimit: opts.VerdictCacheBytes, now: opts.Now, namePermission: opts.NameMissingPermission, learnCRLURLs: opts.LearnCRLURLs}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.decisions == nil {
		c.decisions = decisionLogTo(c.log)
	}
	if c.cacheSize == 0 {
		c.cacheSize = DefaultVerdictCacheSize
	}
	if c.byteLimit == 0 {
		c.byteLimit = DefaultVerdictCacheBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.shadow = newShadowRunner(c.log, c.metrics)
	c.metrics.watch(c)
	if snap != nil {
		c.swap(snap)
	}
	return c
}

// swap makes snap the snapshot that new requests use, with an empty
// verdict cache; requests in flight finish on the one they started with.
func (c *Checker) swap(snap *Snapshot) { c.publish(snap, nil) }

// publish replaces the serving state in one step: with snap set, by snap
// and an empty verdict cache (else the serving snapshot and its cache
// stay), and with attempt set, with attempt added to the reload record.
// Only the Reloader (and NewChecker) publish.
func (c *Checker) publish(snap *Snapshot, attempt *ReloadAttempt) {
	var verdicts *verdictCache
	if snap != nil {
		verdicts = newVerdictCache(c.cacheSize, c.byteLimit)
	}
	// Compare and swap, so that a state another publish stored meanwhile
	// is built upon (its snapshot retired with its counts, its reload
	// record kept) rather than overwritten.
	for {
		prev := c.state.Load()
		next := &serving{snap: snap, verdicts: verdicts}
		switch {
		case snap != nil:
			next.retired = retire(prev, snap)
		case prev != nil:
			next.snap, next.verdicts, next.retired = prev.snap, prev.verdicts, prev.retired
		}
		if prev != nil {
			next.reload = prev.reload
		}
		if attempt != nil {
			next.reload.add(*attempt)
		}
		if c.state.CompareAndSwap(prev, next) {
			return
		}
	}
}

// Snapshot returns the snapshot in use, or nil before the first load.
func (c *Checker) Snapshot() *Snapshot {
	if st := c.state.Load(); st != nil {
		return st.snap
	}
	return nil
}

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
	// Presented is a chain, leaf first, that the caller holds already
	// parsed: a TLS handshake's (admin API), a file's (decide), an
	// operator's question (Explain). When set it is the request's
	// certificate, held to the chain limit of Options.Identity, and
	// neither PeerCertificate nor a forwarded header is read.
	Presented *identity.Presented
	// Trust is the forwarded-header families believed for this request:
	// its listener's, when the peer is one of the listener's trusted
	// proxies, and none otherwise (ListenerTrust.For).
	Trust identity.Families
	// Adapter names the adapter for the decision log: "grpc" or "http".
	Adapter string
	// RemovesHeaders is set by an adapter whose proxy removes a Result's
	// RemoveHeaders from the upstream request (gRPC ext_authz). Without it
	// (HTTP: NGINX replaces only the headers its config names) an allow
	// for a request that carries an x-certgate-* header other than the
	// identity headers is refused with 400, since nothing would stop that
	// header from reaching the upstream.
	RemovesHeaders bool
}

// Header is one name/value pair, lower-case name.
type Header struct{ Name, Value string }

// Result is the decision and what the adapter must do with it.
type Result struct {
	// Status is the HTTP status of the decision: 200 on an allow; on a
	// deny 400, 401, 403, 500, or the 4xx/5xx a policy chose.
	Status int
	Allow  bool
	// Reason is the decision's explanation for the decision log.
	Reason string
	// Cause is the short code of Reason (decision log `cause`, metric
	// label `reason`).
	Cause      Cause
	Permission string
	Identity   *identity.Identity
	// UpstreamHeaders are set (overwriting) on an allowed request; every
	// value is non-empty and encoded by headerValue.
	UpstreamHeaders []Header
	// RemoveHeaders are headers to strip from an allowed request, whether
	// or not the client sent them; none of them is in UpstreamHeaders.
	RemoveHeaders []string
	// ResponseHeaders go to the client on a deny (policy's response_headers),
	// values encoded by headerValue.
	ResponseHeaders []Header
	// DecisionID names the decision's line in the decision log.
	DecisionID string
	// Revision is the snapshot the decision was made on (0: none loaded).
	Revision uint64
	// Claimed is what a certificate that did not verify says about its
	// holder: for the decision log only, never for the policy or upstream.
	Claimed *identity.Identity
	// StaleCRL is set when the chain was checked against a CRL past its
	// nextUpdate (trust.on_stale_crl: warn).
	StaleCRL bool
	// namePermission lets the deny body name Permission
	// (Options.NameMissingPermission).
	namePermission bool
}

// Check decides one request. It never panics on input and never allows on
// an error: every failure maps to a deny with the status of the contract.
func (c *Checker) Check(ctx context.Context, req *Request) Result {
	start := c.now()
	st := c.state.Load()
	var snap *Snapshot
	var verdicts *verdictCache
	if st != nil {
		snap, verdicts = st.snap, st.verdicts
	}
	var res Result
	var hit, cacheUsed bool
	var shadow *shadowJob
	if snap == nil {
		res = Result{Status: http.StatusInternalServerError, Reason: "no policy snapshot loaded", Cause: CauseNoSnapshot}
	} else {
		var v *verdict
		v, hit, cacheUsed = c.authenticate(snap, verdicts, req, start)
		res, shadow = c.decide(ctx, snap, v, req)
		res.Revision = snap.Revision
		res.namePermission = c.namePermission
	}
	c.record(ctx, snap, req, &res, start, hit, cacheUsed)
	if shadow != nil {
		// After the decision is made and recorded: the shadow never
		// changes it and the answer does not wait for it.
		shadow.decisionID, shadow.revision = res.DecisionID, res.Revision
		c.shadow.offer(shadow)
	}
	return res
}

// Reject records a deny that an adapter decided before the pipeline could
// run (a request it cannot read), so that it is logged and counted like
// every other decision.
func (c *Checker) Reject(ctx context.Context, req *Request, status int, cause Cause, reason string) Result {
	start := c.now()
	snap := c.Snapshot()
	res := Result{Status: status, Reason: reason, Cause: cause}
	if snap != nil {
		res.Revision = snap.Revision
	}
	c.record(ctx, snap, req, &res, start, false, false)
	return res
}

func (c *Checker) record(ctx context.Context, snap *Snapshot, req *Request, res *Result, start time.Time, hit, cacheUsed bool) {
	res.DecisionID = c.ids.next()
	source := requestSource(req, res.Identity)
	took := c.now().Sub(start)
	c.metrics.observeDecision(res, source, took, hit, cacheUsed)
	if write, limited, dropped := c.decisions.admit(res, start); write {
		c.decisions.write(ctx, snap, req, res, source, took, dropped)
	} else if limited {
		c.metrics.observeDroppedLine(res.Cause)
	}
}

// authenticate turns the presented certificate into a verdict, from the
// cache when the bytes that decide it were verified under this snapshot,
// with the same trust, before.
func (c *Checker) authenticate(snap *Snapshot, verdicts *verdictCache, req *Request, now time.Time) (v *verdict, hit, cacheUsed bool) {
	if verdicts == nil {
		return verify(snap.Trust, req, c.identity, now, c.learnCRLURLs), false, false
	}
	key := verdictKey(req, c.identity)
	if v, ok := verdicts.get(key, now); ok {
		return v, true, true
	}
	v = verify(snap.Trust, req, c.identity, now, c.learnCRLURLs)
	if v.until.After(now) {
		verdicts.put(key, v)
	}
	return v, false, true
}

// extractOptions are the limits of opts with the request's own trust.
func extractOptions(req *Request, opts identity.Options) identity.Options {
	opts.Trust = req.Trust
	return opts
}

// verdictKey is the digest of what presented reads of req. A parsed chain
// and a value read from the request have digests of different domains, so
// their verdicts never share a key.
func verdictKey(req *Request, opts identity.Options) identity.Digest {
	if req.Presented != nil {
		return identity.ChainDigest(*req.Presented, opts)
	}
	return identity.PresentedDigest(req.PeerCertificate, req.Headers, extractOptions(req, opts))
}

// chainOf is the chain of req: the one its caller parsed, or the one
// identity.Extract reads from the request.
func chainOf(req *Request, opts identity.Options) (identity.Presented, error) {
	if p := req.Presented; p != nil {
		if err := identity.CheckChain(*p, opts); err != nil {
			return identity.Presented{}, fmt.Errorf("presented chain: %w", err)
		}
		return *p, nil
	}
	return identity.Extract(req.PeerCertificate, req.Headers, extractOptions(req, opts))
}

// verify decodes and verifies the presented chain. Failures that cannot
// change while the snapshot stays (a malformed header, an unknown CA, a
// revoked serial) are remembered for failureTTL; the ones time may cure
// (not yet valid, no current CRL) are not remembered at all. learn, when
// set, gets the CRL distribution points of a leaf whose chain verified.
func verify(store *trust.Store, req *Request, opts identity.Options, now time.Time, learn func([]string)) *verdict {
	presented, err := chainOf(req, opts)
	if err != nil {
		return &verdict{reason: "certificate: " + err.Error(), cause: causeOfCertificate(err), err: err, from: now, until: now.Add(failureTTL)}
	}
	verified, err := store.Verify(presented.Chain, trust.VerifyOptions{Now: now})
	if err != nil {
		// trust.Error messages start with their Reason (revoked, expired, …).
		claimed, _ := identity.New(presented.Chain[0], presented.Source) // for the log; an ambiguous one names no user
		v := &verdict{reason: "chain: " + err.Error(), cause: causeOfCertificate(err), claimed: &claimed, err: err, from: now, until: now.Add(failureTTL)}
		var te *trust.Error
		if errors.As(err, &te) && (te.Reason == trust.ReasonNotYetValid || te.Reason == trust.ReasonCRLUnavailable) {
			v.until = now // not cached
		}
		// crl_unavailable comes only after a path to a configured CA
		// verified: the leaf's URLs are the CA's word, not the client's.
		if learn != nil && te != nil && te.Reason == trust.ReasonCRLUnavailable && len(presented.Chain[0].CRLDistributionPoints) > 0 {
			learn(presented.Chain[0].CRLDistributionPoints)
		}
		return v
	}
	if learn != nil && len(verified.Chain[0].CRLDistributionPoints) > 0 {
		learn(verified.Chain[0].CRLDistributionPoints)
	}
	id, err := identity.New(presented.Chain[0], presented.Source)
	if err != nil {
		// The chain is valid, the identity is not: refused like a bad chain.
		return &verdict{reason: "certificate: " + err.Error(), cause: causeOfCertificate(err), claimed: &id, err: err, chain: verified.Chain, from: now, until: now.Add(failureTTL)}
	}
	v := &verdict{id: &id, chain: verified.Chain, staleCRL: verified.StaleCRL, from: now, until: verified.ValidUntil}
	for _, cert := range verified.Chain {
		if cert.NotBefore.After(v.from) {
			v.from = cert.NotBefore
		}
	}
	if v.from.After(now) {
		v.from = now
	}
	if verified.StaleCRL && v.until.After(now.Add(failureTTL)) {
		// Re-check soon: a fresh CRL may arrive with the next snapshot,
		// and each stale decision must be visible.
		v.until = now.Add(failureTTL)
	}
	return v
}

// decide asks the policy; the job is the decision to shadow when the
// snapshot has a shadow policy.
func (c *Checker) decide(ctx context.Context, snap *Snapshot, v *verdict, req *Request) (Result, *shadowJob) {
	in, res, ok := policyInput(v, req)
	if !ok {
		return res, nil
	}
	d, err := snap.Policy.Decide(ctx, in)
	var job *shadowJob
	if snap.Shadow != nil {
		job = &shadowJob{engine: snap.Shadow, in: in, serving: d, servingErr: err}
	}
	return c.decided(d, err, v, req), job
}

// policyInput builds the policy's input for an authenticated request, or
// the deny when there is no identity or the path is malformed.
func policyInput(v *verdict, req *Request) (*policy.Input, Result, bool) {
	if v.id == nil {
		return nil, Result{Status: http.StatusUnauthorized, Reason: v.reason, Cause: v.cause, Claimed: v.claimed}, false
	}
	target, err := NormalizePath(req.Target)
	if err != nil {
		return nil, Result{Status: http.StatusBadRequest, Reason: err.Error(), Cause: CauseAmbiguousPath, Identity: v.id, StaleCRL: v.staleCRL}, false
	}
	return &policy.Input{
		Identity: v.id,
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
	}, Result{}, true
}

// decided turns the policy's answer into a Result; a policy error denies
// with 500.
func (c *Checker) decided(d policy.Decision, err error, v *verdict, req *Request) Result {
	if err != nil {
		return Result{Status: http.StatusInternalServerError, Reason: "policy: " + err.Error(), Cause: CausePolicyError, Identity: v.id, StaleCRL: v.staleCRL}
	}
	res := c.result(d, v.id, req)
	res.StaleCRL = v.staleCRL
	return res
}

// requestSource names where the certificate was taken from, for metrics
// and the decision log, even when it never became an identity: what was
// used, so a forwarded header the listener does not believe from this peer
// is identity.SourceUntrustedHeader, never the family it would have been.
func requestSource(req *Request, id *identity.Identity) string {
	switch {
	case id != nil:
		return string(id.Source)
	case req.Presented != nil:
		return string(req.Presented.Source)
	}
	return string(identity.SourceOf(req.PeerCertificate, req.Headers, req.Trust))
}

// result turns a policy decision into a Result. A decision that allows with
// a status other than 200, or denies with a status outside 4xx/5xx, is read
// conservatively: allow needs both allow=true and status 200.
func (c *Checker) result(d policy.Decision, id *identity.Identity, req *Request) Result {
	res := Result{Status: d.Status, Reason: d.Reason, Cause: policyCause(d.Reason), Permission: d.Permission, Identity: id}
	for name, value := range d.ResponseHeaders {
		if value != "" { // as Envoy and NGINX would drop it
			res.ResponseHeaders = append(res.ResponseHeaders, Header{strings.ToLower(name), headerValue(value)})
		}
	}
	sortHeaders(res.ResponseHeaders)
	if !d.Allow || d.Status != http.StatusOK {
		if res.Status < 400 || res.Status > 599 {
			res.Status = http.StatusForbidden
		}
		return res
	}
	set, remove, reserved := upstream(d, id, req.Headers, req.Trust)
	if name, value := overridingMethod(req.Headers, req.Method); name != "" && !req.RemovesHeaders {
		// Over gRPC the header is removed (upstream); here it would reach
		// an upstream that may run another method than the one decided.
		return Result{Status: http.StatusBadRequest, Cause: CauseMethodOverride, Permission: d.Permission, Identity: id,
			Reason: name + ": " + truncate(value, 32) + " names another method than " + truncate(req.Method, 32) + ", which was decided"}
	}
	if value, ok := overridingQueryMethod(req.Target, req.Method); ok {
		// No proxy removes a query parameter: refused over every adapter.
		return Result{Status: http.StatusBadRequest, Cause: CauseMethodOverride, Permission: d.Permission, Identity: id,
			Reason: "query parameter " + methodParam + "=" + truncate(value, 32) + " names another method than " + truncate(req.Method, 32) + ", which was decided"}
	}
	if reserved != "" && !req.RemovesHeaders {
		// The identity headers are exempt: every proxy config in front
		// of the HTTP adapter replaces them (nginx/certgate-location.conf,
		// ingress-nginx's auth-response-headers).
		return Result{Status: http.StatusBadRequest, Cause: CauseReservedHeader, Permission: d.Permission, Identity: id,
			Reason: "the request carries " + truncate(reserved, 64) + ", which this adapter cannot have the proxy remove"}
	}
	res.Allow = true
	res.UpstreamHeaders, res.RemoveHeaders = set, remove
	return res
}

// unbelievedCertHeaders names the forwarded certificate headers at these
// positions of identity.ForwardedCertHeaders, in its order: the client-sent
// copies an upstream must not see, which upstream finds among the
// request's headers that its listener does not believe from its peer. The
// believed ones are the proxy's own (Envoy's x-forwarded-client-cert under
// SANITIZE_SET) and stay.
func unbelievedCertHeaders(indexes []int) []string {
	slices.Sort(indexes)
	out := make([]string, len(indexes))
	for j, i := range indexes {
		out[j] = identity.ForwardedCertHeaders[i]
	}
	return out
}

// forwardedCertIndex is the position of each name in
// identity.ForwardedCertHeaders.
var forwardedCertIndex = func() map[string]int {
	m := make(map[string]int, len(identity.ForwardedCertHeaders))
	for i, name := range identity.ForwardedCertHeaders {
		m[name] = i
	}
	return m
}()

// upstream lists the headers an allowed request carries upstream, and the
// ones to remove from it: the identity headers and the policy's headers
// that have a value are set (certgate's identity values win over the
// policy's); the others are removed, and so are the forwarded certificate
// headers trust does not believe (first), the method override headers and
// every other client-sent x-certgate-* header. A header is
// either set or removed, never both, which is correct whatever order the
// proxy applies them in. reserved is the first (in sort order) client-sent
// x-certgate-* header that is not an identity header, "" when there is none.
func upstream(d policy.Decision, id *identity.Identity, sent map[string]string, trust identity.Families) (set []Header, remove []string, reserved string) {
	// Shared by every allow until an append copies it: nothing writes to
	// a Result's lists once it is returned.
	remove = methodOverrideHeaders[:len(methodOverrideHeaders):len(methodOverrideHeaders)]
	set = []Header{
		{HeaderUser, headerValue(id.User)},
		{HeaderGroups, joinGroups(id.Groups)},
		{HeaderPermission, headerValue(d.Permission)},
		{HeaderFingerprint, id.FingerprintSHA256}, // hex, made by certgate
	}
	if set[0].Value == "" || set[1].Value == "" || set[2].Value == "" || set[3].Value == "" {
		kept := set[:0]
		for _, h := range set {
			if h.Value == "" {
				remove = append(remove, h.Name)
				continue
			}
			kept = append(kept, h)
		}
		set = kept
	}
	// The policy's headers and the names to remove that come from a map
	// are sorted, so that a response does not depend on map order.
	identitySet := len(set)
	var others []string
	for name, value := range d.Headers {
		name = strings.ToLower(name)
		if isIdentityHeader(name) || slices.Contains(methodOverrideHeaders, name) {
			continue
		}
		if value == "" {
			others = append(others, name)
			continue
		}
		set = append(set, Header{name, headerValue(value)})
	}
	sortHeaders(set[identitySet:])
	others, unbelieved, reserved := scanSent(sent, set, others, trust)
	if len(others) > 0 {
		slices.Sort(others)
		remove = append(remove, others...)
	}
	if len(unbelieved) > 0 {
		remove = append(unbelieved, remove...)
	}
	return set, remove, reserved
}

// scanSent is upstream's one pass over the request's headers: it adds to
// others the client-sent x-certgate-* headers (and their underscore
// aliases) that are neither identity headers nor set, and finds the first
// of them in sort order (reserved) and the forwarded certificate headers
// trust does not believe (unbelievedCertHeaders).
func scanSent(sent map[string]string, set []Header, others []string, trust identity.Families) (_ []string, unbelieved []string, reserved string) {
	var found [8]int
	indexes := found[:0]
	for name := range sent {
		alias := underscoreAlias(name)
		if !alias && !strings.HasPrefix(name, reservedPrefix) {
			if i, ok := forwardedCertIndex[name]; ok && !trust.Believes(name) {
				indexes = append(indexes, i)
			}
			continue
		}
		if !alias && isIdentityHeader(name) {
			continue
		}
		if reserved == "" || name < reserved {
			reserved = name
		}
		if !isSet(set, name) && !slices.Contains(others, name) {
			others = append(others, name)
		}
	}
	if len(indexes) > 0 {
		unbelieved = unbelievedCertHeaders(indexes)
	}
	return others, unbelieved, reserved
}

func sortHeaders(hs []Header) {
	if len(hs) > 1 {
		slices.SortFunc(hs, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	}
}

func isSet(set []Header, name string) bool {
	for _, h := range set {
		if h.Name == name {
			return true
		}
	}
	return false
}

// underscoreAlias reports whether name spells an x-certgate-* or method
// override header with underscores for some of its dashes: CGI, PHP-FPM
// and Rack servers read X_Certgate_User as x-certgate-user
// (HTTP_X_CERTGATE_USER), and Envoy passes such names by default. No
// proxy config replaces them, so they count as reserved: removed, or
// refused where the proxy cannot remove them.
func underscoreAlias(name string) bool {
	if !strings.Contains(name, "_") {
		return false
	}
	dashed := strings.ReplaceAll(name, "_", "-")
	return strings.HasPrefix(dashed, reservedPrefix) || slices.Contains(methodOverrideHeaders, dashed)
}

func isIdentityHeader(name string) bool {
	for _, h := range identityHeaders {
		if name == h {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
