package server

import "strings"

// maxLoggedTargetBytes bounds the path field of a decision line.
const maxLoggedTargetBytes = 512

// maxLoggedQueryKeyBytes bounds each query key of a logged path.
const maxLoggedQueryKeyBytes = 64

// loggedTarget is the request target as the decision log shows it: the
// path and the query's keys, without their values, which often carry
// tokens and signatures ("/api/v1/vm?token=…&page=2" is logged as
// "/api/v1/vm?token&page"); with values, the target as sent. A component
// without "=" is a key, as ParseQuery reads it. Either way it is cut to
// maxLoggedTargetBytes. A target without a query costs nothing.
func loggedTarget(target string, values bool) string {
	path, query, ok := strings.Cut(target, "?")
	if !ok || values {
		return truncate(target, maxLoggedTargetBytes)
	}
	if len(path) >= maxLoggedTargetBytes {
		return truncate(path, maxLoggedTargetBytes)
	}
	var b strings.Builder
	b.Grow(min(len(target), maxLoggedTargetBytes) + len("…"))
	b.WriteString(path)
	b.WriteByte('?')
	first := true
	for query != "" && b.Len() <= maxLoggedTargetBytes {
		var part string
		part, query, _ = strings.Cut(query, "&")
		key, _, _ := strings.Cut(part, "=")
		if key == "" {
			continue
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(truncate(key, maxLoggedQueryKeyBytes))
	}
	return truncate(b.String(), maxLoggedTargetBytes)
}

// The bounds of the names a decision line quotes from a certificate: a CA
// (a team's name-constrained one too) may write long CNs and many O's.
const (
	maxLoggedNameBytes = 256
	maxLoggedNames     = 64
)

// loggedNames is names cut to maxLoggedNames of maxLoggedNameBytes each,
// with "…" standing for the rest; names already within bounds are
// returned as they are, without copying.
func loggedNames(names []string) []string {
	short := len(names) <= maxLoggedNames
	for i := 0; short && i < len(names); i++ {
		short = len(names[i]) <= maxLoggedNameBytes
	}
	if short {
		return names
	}
	out := make([]string, 0, min(len(names), maxLoggedNames)+1)
	for _, n := range names[:min(len(names), maxLoggedNames)] {
		out = append(out, truncate(n, maxLoggedNameBytes))
	}
	if len(names) > maxLoggedNames {
		out = append(out, "…")
	}
	return out
}
