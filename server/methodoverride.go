package server

import "strings"

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
