package server

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// DecisionLog writes one JSON line per decision. Allowed decisions are
// written with the probability SampleAllowed; denied ones up to a rate per
// Cause (DenyRate), the rest counted in
// certgate_decision_log_dropped_total. Every decision is counted in
// certgate_decisions_total whether or not its line is written.
type DecisionLog struct {
	// out writes the lines of NewDecisionLog (appendDecision); log,
	// when out is nil, takes them as slog records (decisionLogTo).
	out           *lineWriter
	log           *slog.Logger
	sampleAllowed float64
	denials       *denyLimiter
	queryValues   bool
}

// DecisionLogOption changes how a DecisionLog writes.
type DecisionLogOption func(*DecisionLog)

// DenyRate writes at most rate denial lines a second, and burst at once,
// per Cause (decision_log.deny_rate, deny_burst); a rate of 0 writes every
// one. Without it: DefaultDenyRate and DefaultDenyBurst.
func DenyRate(rate float64, burst int) DecisionLogOption {
	return func(d *DecisionLog) { d.denials = newDenyLimiter(rate, burst) }
}

// QueryValues logs the query of a request target with its values
// (decision_log.query_values); without it only the query's keys are
// logged, since values often carry tokens.
func QueryValues(on bool) DecisionLogOption {
	return func(d *DecisionLog) { d.queryValues = on }
}

// NewDecisionLog returns a decision log writing JSON lines to w; with a
// nil w it writes nothing (decision_log.output: off).
func NewDecisionLog(w io.Writer, sampleAllowed float64, opts ...DecisionLogOption) *DecisionLog {
	if w == nil {
		return &DecisionLog{}
	}
	d := newDecisionLog(nil, sampleAllowed, opts)
	d.out = &lineWriter{w: w}
	return d
}

// decisionLogTo logs decisions as "decision" records of an existing
// logger, every one of them: the behaviour when no DecisionLog is set
// (tests, one-shot tools). certgate serve always sets a DecisionLog, whose
// denials are limited.
func decisionLogTo(log *slog.Logger) *DecisionLog {
	return newDecisionLog(log, 1, []DecisionLogOption{DenyRate(0, 0)})
}

func newDecisionLog(log *slog.Logger, sampleAllowed float64, opts []DecisionLogOption) *DecisionLog {
	d := &DecisionLog{log: log, sampleAllowed: sampleAllowed, denials: newDenyLimiter(DefaultDenyRate, DefaultDenyBurst)}
	for _, opt := range opts {
		opt(d)
	}
	return d
}

// admit says whether res gets a line at now; limited is set when a denial
// is over its Cause's rate, droppedBefore is how many lines of that Cause
// were dropped since the last one written.
func (d *DecisionLog) admit(res *Result, now time.Time) (write, limited bool, droppedBefore uint64) {
	if d == nil || d.log == nil && d.out == nil {
		return false, false, 0
	}
	if res.Allow {
		return d.sampleAllowed >= 1 || d.sampleAllowed > 0 && rand.Float64() < d.sampleAllowed, false, 0
	}
	ok, n := d.denials.admit(res.Cause, now)
	return ok, !ok, n
}

// decisionIDs makes process-unique decision ids: a random prefix chosen at
// start and a counter, cheaper than a random id per request and still
// unique across restarts.
type decisionIDs struct {
	prefix string
	n      atomic.Uint64
}

func newDecisionIDs() *decisionIDs {
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	return &decisionIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *decisionIDs) next() string {
	return g.prefix + strconv.FormatUint(g.n.Add(1), 10)
}

// maxLoggedReasonBytes bounds the reason of a decision line: a chain
// error quotes the certificate's subject, which the client wrote.
const maxLoggedReasonBytes = 1024

// write logs one decision with the fields operators rely on (docs/architecture.md).
// Every field that echoes the client is cut short.
func (d *DecisionLog) write(ctx context.Context, snap *Snapshot, req *Request, res *Result, source string, took time.Duration, droppedBefore uint64) {
	level := slog.LevelInfo
	if res.Status >= 500 {
		level = slog.LevelError
	}
	if d.out != nil {
		writeLine(d.out, &decisionLine{time: time.Now(), level: level, snap: snap, req: req, res: res,
			source: source, took: took, dropped: droppedBefore, queryValues: d.queryValues})
		return
	}
	d.writeSlog(ctx, level, snap, req, res, source, took, droppedBefore)
}

// writeSlog is write to a logger: the same fields as appendDecision, in
// the same order, as slog attributes.
func (d *DecisionLog) writeSlog(ctx context.Context, level slog.Level, snap *Snapshot, req *Request, res *Result, source string, took time.Duration, droppedBefore uint64) {
	if !d.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 20)
	attrs = append(attrs,
		slog.String("decision_id", res.DecisionID),
		slog.Bool("allow", res.Allow),
		slog.Int("status", res.Status),
		slog.String("reason", truncate(res.Reason, maxLoggedReasonBytes)),
		slog.String("cause", string(res.Cause)),
		slog.String("method", truncate(req.Method, 64)),
		slog.String("path", loggedTarget(req.Target, d.queryValues)),
		slog.String("permission", res.Permission),
		slog.String("source", source),
		slog.String("adapter", req.Adapter),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	)
	switch {
	case res.Identity != nil:
		attrs = append(attrs,
			slog.String("user", truncate(res.Identity.User, maxLoggedNameBytes)),
			slog.Any("groups", loggedNames(res.Identity.Groups)),
			slog.String("serial", res.Identity.Serial),
			slog.String("fingerprint", res.Identity.FingerprintSHA256),
		)
	case res.Claimed != nil:
		// Who the rejected certificate says it is: what an operator
		// searches for after revoking it. Marked, as nothing vouches for it.
		attrs = append(attrs,
			slog.String("user", truncate(res.Claimed.User, maxLoggedNameBytes)),
			slog.String("serial", truncate(res.Claimed.Serial, maxClaimedSerialBytes)),
			slog.String("fingerprint", res.Claimed.FingerprintSHA256),
			slog.Bool("verified", false),
		)
	}
	if res.StaleCRL {
		attrs = append(attrs, slog.Bool("stale_crl", true))
	}
	if droppedBefore > 0 {
		attrs = append(attrs, slog.Uint64("dropped_before", droppedBefore))
	}
	if snap != nil {
		attrs = append(attrs, slog.Uint64("revision", snap.Revision))
	}
	d.log.LogAttrs(ctx, level, "decision", attrs...)
}
