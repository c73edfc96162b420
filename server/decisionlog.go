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

// DecisionLog writes one JSON line per decision. Denied decisions are
// always written; allowed ones with the probability SampleAllowed.
type DecisionLog struct {
	log           *slog.Logger
	sampleAllowed float64
}

// NewDecisionLog returns a decision log writing JSON lines to w; with a
// nil w it writes nothing (decision_log.output: off).
func NewDecisionLog(w io.Writer, sampleAllowed float64) *DecisionLog {
	if w == nil {
		return &DecisionLog{}
	}
	return &DecisionLog{log: slog.New(slog.NewJSONHandler(w, nil)), sampleAllowed: sampleAllowed}
}

// decisionLogTo logs decisions as "decision" records of an existing
// logger, every one of them: the behaviour when no DecisionLog is set.
func decisionLogTo(log *slog.Logger) *DecisionLog {
	return &DecisionLog{log: log, sampleAllowed: 1}
}

func (d *DecisionLog) wants(res *Result) bool {
	if d == nil || d.log == nil {
		return false
	}
	if !res.Allow || d.sampleAllowed >= 1 {
		return true
	}
	return d.sampleAllowed > 0 && rand.Float64() < d.sampleAllowed
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

// write logs one decision with the fields DESIGN.md and operators rely on.
func (d *DecisionLog) write(ctx context.Context, snap *Snapshot, req *Request, res *Result, source string, took time.Duration) {
	level := slog.LevelInfo
	if res.Status >= 500 {
		level = slog.LevelError
	}
	if !d.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 20)
	attrs = append(attrs,
		slog.String("decision_id", res.DecisionID),
		slog.Bool("allow", res.Allow),
		slog.Int("status", res.Status),
		slog.String("reason", res.Reason),
		slog.String("cause", string(res.Cause)),
		slog.String("method", truncate(req.Method, 64)),
		slog.String("path", truncate(req.Target, 512)),
		slog.String("permission", res.Permission),
		slog.String("source", source),
		slog.String("adapter", req.Adapter),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	)
	switch {
	case res.Identity != nil:
		attrs = append(attrs,
			slog.String("user", res.Identity.User),
			slog.Any("groups", res.Identity.Groups),
			slog.String("serial", res.Identity.Serial),
			slog.String("fingerprint", res.Identity.FingerprintSHA256),
		)
	case res.Claimed != nil:
		// Who the rejected certificate says it is: what an operator
		// searches for after revoking it. Marked, as nothing vouches for it.
		attrs = append(attrs,
			slog.String("user", truncate(res.Claimed.User, 256)),
			slog.String("serial", res.Claimed.Serial),
			slog.String("fingerprint", res.Claimed.FingerprintSHA256),
			slog.Bool("verified", false),
		)
	}
	if res.StaleCRL {
		attrs = append(attrs, slog.Bool("stale_crl", true))
	}
	if snap != nil {
		attrs = append(attrs, slog.Uint64("revision", snap.Revision))
	}
	d.log.LogAttrs(ctx, level, "decision", attrs...)
}
