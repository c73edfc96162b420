package server

import (
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// A decision line is written by appendDecision, byte for byte what
// slog's JSON handler wrote for the attributes of writeSlog (the same
// fields, names, types and order; decisionjson_test.go compares the two),
// without reflection, encoding/json or an allocation per line: at a few
// thousand decisions a second the slog path was a sixth of the CPU.

// lineWriter writes whole lines to w, one Write each, one at a time, as
// slog's handler did.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) write(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(p)
}

// maxPooledLineBytes keeps the buffers of unusually long lines out of
// linePool.
const maxPooledLineBytes = 16 << 10

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// decisionLine is what a decision line says, gathered by the caller.
type decisionLine struct {
	time        time.Time
	level       slog.Level
	snap        *Snapshot
	req         *Request
	res         *Result
	source      string
	took        time.Duration
	dropped     uint64
	queryValues bool
}

// appendDecision appends l's JSON line, newline included.
func appendDecision(b []byte, l *decisionLine) []byte {
	res, req := l.res, l.req
	b = append(b, `{"time":"`...)
	b = l.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendSlogString(b, l.level.String())
	b = append(b, `,"msg":"decision","decision_id":`...)
	b = appendSlogString(b, res.DecisionID)
	b = append(b, `,"allow":`...)
	b = strconv.AppendBool(b, res.Allow)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(res.Status), 10)
	b = appendStringField(b, "reason", truncate(res.Reason, maxLoggedReasonBytes))
	b = appendStringField(b, "cause", string(res.Cause))
	b = appendStringField(b, "method", truncate(req.Method, 64))
	b = appendStringField(b, "path", loggedTarget(req.Target, l.queryValues))
	b = appendStringField(b, "permission", res.Permission)
	b = appendStringField(b, "source", l.source)
	b = appendStringField(b, "adapter", req.Adapter)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, float64(l.took.Microseconds())/1000)
	switch {
	case res.Identity != nil:
		b = appendStringField(b, "user", truncate(res.Identity.User, maxLoggedNameBytes))
		b = append(b, `,"groups":`...)
		b = appendJSONStrings(b, loggedNames(res.Identity.Groups))
		b = appendStringField(b, "serial", res.Identity.Serial)
		b = appendStringField(b, "fingerprint", res.Identity.FingerprintSHA256)
	case res.Claimed != nil:
		b = appendStringField(b, "user", truncate(res.Claimed.User, maxLoggedNameBytes))
		b = appendStringField(b, "serial", truncate(res.Claimed.Serial, maxClaimedSerialBytes))
		b = appendStringField(b, "fingerprint", res.Claimed.FingerprintSHA256)
		b = append(b, `,"verified":false`...)
	}
	if res.StaleCRL {
		b = append(b, `,"stale_crl":true`...)
	}
	if l.dropped > 0 {
		b = append(b, `,"dropped_before":`...)
		b = strconv.AppendUint(b, l.dropped, 10)
	}
	if l.snap != nil {
		b = append(b, `,"revision":`...)
		b = strconv.AppendUint(b, l.snap.Revision, 10)
	}
	return append(b, "}\n"...)
}

// appendStringField appends `,"key":value`; key needs no escaping.
func appendStringField(b []byte, key, value string) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return appendSlogString(b, value)
}

// appendSlogString appends s quoted as slog's JSON handler quotes a
// string attribute.
func appendSlogString(b []byte, s string) []byte { return appendJSONString(b, s, false) }

// appendJSONStrings appends names as encoding/json marshals a []string
// without HTML escaping (slog.Any's encoder): null for nil.
func appendJSONStrings(b []byte, names []string) []byte {
	if names == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n, true)
	}
	return append(b, ']')
}

const jsonHex = "0123456789abcdef"

// appendJSONString appends s quoted, invalid UTF-8 as U+FFFD and U+2028,
// U+2029 escaped, as both encoders do. They differ only in two control
// bytes: encoding/json (stdlib) writes \b and \f, slog \u0008 and \u000c.
func appendJSONString(b []byte, s string, stdlib bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				if r == utf8.RuneError {
					b = append(b, `\ufffd`...)
				} else {
					b = append(b, `\u202`...)
					b = append(b, jsonHex[r&0xF])
				}
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		b = appendEscapedByte(b, c, stdlib)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscapedByte appends the escape of an ASCII byte that needs one.
func appendEscapedByte(b []byte, c byte, stdlib bool) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(b, '\\', c)
	case c == '\n':
		return append(b, `\n`...)
	case c == '\r':
		return append(b, `\r`...)
	case c == '\t':
		return append(b, `\t`...)
	case stdlib && c == '\b':
		return append(b, `\b`...)
	case stdlib && c == '\f':
		return append(b, `\f`...)
	}
	return append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
}

// appendJSONFloat appends f as encoding/json marshals a float64 (which is
// how slog writes one): like ES6, exponents only below 1e-6 and from 1e21.
// f is never NaN or infinite here.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// writeLine encodes l into a pooled buffer and writes it to out.
func writeLine(out *lineWriter, l *decisionLine) {
	bp := linePool.Get().(*[]byte)
	*bp = appendDecision((*bp)[:0], l)
	out.write(*bp)
	if cap(*bp) <= maxPooledLineBytes {
		linePool.Put(bp)
	}
}
