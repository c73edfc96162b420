package server

import (
	"net/url"
	"strings"
)

// CauseMethodOverride: an allowed request over an adapter that cannot have
// the proxy remove headers (HTTP) carries a method override header naming
// another method than the one decided. An upstream framework that honours
// it would run that method (a GET allowed as list_vms, run as a DELETE),
// so the request is refused with 400 instead.
const CauseMethodOverride Cause = "method_override"

// overridingMethod returns the first method override header of headers
// (lower-case names, repeats joined with ",") whose value names another
// method than method, and that value; "" when there is none. Frameworks
// upper-case the value before they use it, so case does not matter; a
// value that merely repeats the method changes nothing and passes.
func overridingMethod(headers map[string]string, method string) (name, value string) {
	for _, h := range methodOverrideHeaders {
		v, ok := headers[h]
		if ok && !strings.EqualFold(strings.TrimSpace(v), method) {
			return h, v
		}
	}
	return "", ""
}

// methodParam is the query parameter by which Laravel and Symfony (with
// http_method_parameter_override) run a POST as another method.
const methodParam = "_method"

// overridingQueryMethod returns the value of a _method query parameter of
// target that names another method than method, and true; no proxy can
// remove a query parameter, so over every adapter such an allowed request
// is refused. Parameter names are read as PHP reads them: percent-decoded
// ('+' a space), with ' ', '.' and '[' taken for '_', in any case (a
// reading that refuses more is the safe one).
func overridingQueryMethod(target, method string) (string, bool) {
	_, query, found := strings.Cut(target, "?")
	if !found {
		return "", false
	}
	query, _, _ = strings.Cut(query, "#")
	for pair := range strings.SplitSeq(query, "&") {
		key, value, _ := strings.Cut(pair, "=")
		if !strings.EqualFold(phpParamName(key), methodParam) {
			continue
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		if !strings.EqualFold(strings.TrimSpace(value), method) {
			return value, true
		}
	}
	return "", false
}

// phpParamName is key as PHP names the parameter.
func phpParamName(key string) string {
	if k, err := url.QueryUnescape(key); err == nil {
		key = k
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '[' {
			return '_'
		}
		return r
	}, key)
}
