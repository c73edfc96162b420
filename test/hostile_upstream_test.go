package test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// What an allowed request carries to the upstream, over each way in. The
// contract (SECURITY.md, "Identity headers sent upstream"): every identity
// header has certgate's non-empty, visible-ASCII value or is not there at
// all; no x-certgate-* header and no method override header the client
// sent reaches the upstream.

var (
	identityHeaderNames   = []string{"x-certgate-user", "x-certgate-groups", "x-certgate-permission", "x-certgate-fingerprint"}
	methodOverrideHeaders = []string{"x-http-method-override", "x-http-method", "x-method-override"}
)

// visibleValue reports whether v is a value certgate may send: non-empty,
// bytes 0x20–0x7E, no space at either end.
func visibleValue(v string) bool {
	if v == "" || v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkIdentityHeader compares one identity header with what tc wants:
// "-" for none, "" for anything.
func checkIdentityHeader(t *testing.T, name string, got []string, want string) {
	t.Helper()
	switch {
	case want == "":
	case want == "-" && len(got) > 0:
		t.Errorf("%s %q, want none", name, got)
	case want != "-" && (len(got) != 1 || got[0] != want):
		t.Errorf("%s %q, want exactly %q", name, got, want)
	}
}

// checkAllowOverGRPC checks an allowed CheckResponse: each header is set to
// a valid value or removed, never both; every identity header certgate does
// not set, every x-certgate-* header the client sent and every method
// override header is removed, whether or not the client sent it.
func checkAllowOverGRPC(t *testing.T, tc hostileCase, ok *authv3.OkHttpResponse) {
	t.Helper()
	set := map[string][]string{}
	for _, h := range ok.GetHeaders() {
		set[h.GetHeader().GetKey()] = append(set[h.GetHeader().GetKey()], h.GetHeader().GetValue())
	}
	removed := ok.GetHeadersToRemove()
	for name, values := range set {
		for _, v := range values {
			if !visibleValue(v) {
				t.Errorf("header %s is set to %q, not a non-empty visible-ASCII value", name, v)
			}
		}
		if slices.Contains(removed, name) {
			t.Errorf("header %s is both set and removed", name)
		}
	}
	mustRemove := slices.Clone(methodOverrideHeaders)
	for _, name := range identityHeaderNames {
		if _, ok := set[name]; !ok {
			mustRemove = append(mustRemove, name)
		}
	}
	for _, kv := range tc.extra {
		if name := strings.ToLower(kv[0]); strings.HasPrefix(name, "x-certgate-") && set[name] == nil {
			mustRemove = append(mustRemove, name)
		}
	}
	for _, name := range mustRemove {
		if !slices.Contains(removed, name) {
			t.Errorf("%s is neither set nor in headers_to_remove %q", name, removed)
		}
	}
	checkIdentityHeader(t, "x-certgate-user", set["x-certgate-user"], tc.user)
	checkIdentityHeader(t, "x-certgate-groups", set["x-certgate-groups"], tc.groups)
}

// checkAllowOverHTTP checks an allowed answer of the HTTP adapter, which
// NGINX copies upstream: no empty or invalid x-certgate-* value.
func checkAllowOverHTTP(t *testing.T, tc hostileCase, h http.Header) {
	t.Helper()
	for name, values := range h {
		if !strings.HasPrefix(strings.ToLower(name), "x-certgate-") {
			continue
		}
		for _, v := range values {
			if !visibleValue(v) {
				t.Errorf("%s: %q, not a non-empty visible-ASCII value", name, v)
			}
		}
	}
	checkIdentityHeader(t, "X-Certgate-User", h.Values("X-Certgate-User"), tc.user)
	checkIdentityHeader(t, "X-Certgate-Groups", h.Values("X-Certgate-Groups"), tc.groups)
}

// checkUpstreamThroughNGINX checks what the upstream behind NGINX received
// for an allowed request whose client sent sent.
func checkUpstreamThroughNGINX(t *testing.T, tc hostileCase, sent [][2]string, saw upstreamSaw) {
	t.Helper()
	for name, values := range saw {
		lower := strings.ToLower(name)
		switch {
		case slices.Contains(methodOverrideHeaders, lower):
			t.Errorf("the upstream saw %s: %q", name, values)
		case lower == "x-injected":
			t.Errorf("the upstream saw a header made of a certificate field: %s: %q", name, values)
		case strings.HasPrefix(lower, "x-certgate-"):
			if !slices.Contains(identityHeaderNames, lower) {
				t.Errorf("the upstream saw %s: %q, which certgate never sets", name, values)
			}
			if len(values) != 1 || !visibleValue(values[0]) {
				t.Errorf("the upstream saw %s: %q, want one non-empty visible-ASCII value", name, values)
			}
		}
	}
	for _, kv := range sent {
		lower := strings.ToLower(kv[0])
		if !strings.HasPrefix(lower, "x-certgate-") {
			continue
		}
		if slices.Contains(saw[http.CanonicalHeaderKey(lower)], kv[1]) {
			t.Errorf("the upstream saw the client's own %s: %q", kv[0], kv[1])
		}
	}
	checkIdentityHeader(t, "X-Certgate-User", saw["X-Certgate-User"], tc.user)
	checkIdentityHeader(t, "X-Certgate-Groups", saw["X-Certgate-Groups"], tc.groups)
}
