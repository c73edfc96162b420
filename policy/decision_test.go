package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDecodeDecision(t *testing.T) {
	const base = `"reason": "granted", "permission": "p", "headers": {"x-certgate-permission": "p"}, "response_headers": {}`
	tests := []struct {
		name    string
		rego    string
		want    Decision
		wantErr string
	}{
		{
			name: "a complete decision decodes",
			rego: `{"allow": true, "status": 200, ` + base + `}`,
			want: Decision{Allow: true, Status: 200, Reason: "granted", Permission: "p", Headers: map[string]string{"x-certgate-permission": "p"}},
		},
		{
			name: "a header name may use every token character, and a value any byte",
			rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"X-Team_1.b!#$%&'*+^` + "`" + `|~": "a\r\nb"}, "response_headers": {}}`,
			want: Decision{Allow: true, Status: 200, Reason: "r", Permission: "p", Headers: map[string]string{"X-Team_1.b!#$%&'*+^`|~": "a\r\nb"}},
		},
		{
			name: "response headers decode",
			rego: `{"allow": false, "status": 403, "reason": "r", "permission": "", "headers": {}, "response_headers": {"www-authenticate": "x"}}`,
			want: Decision{Status: 403, Reason: "r", ResponseHeaders: map[string]string{"www-authenticate": "x"}},
		},
		{name: "a decision that is not an object", rego: `true`, wantErr: "decision is boolean, want object"},
		{name: "allow as a string", rego: `{"allow": "true", "status": 200, ` + base + `}`, wantErr: "decision.allow is string, want boolean"},
		{name: "status as a string", rego: `{"allow": true, "status": "200", ` + base + `}`, wantErr: "decision.status is string, want number"},
		{name: "status as a fraction", rego: `{"allow": true, "status": 200.5, ` + base + `}`, wantErr: "want an HTTP status code"},
		{name: "status out of range", rego: `{"allow": true, "status": 42, ` + base + `}`, wantErr: "want an HTTP status code"},
		{name: "reason as a number", rego: `{"allow": true, "status": 200, "reason": 1, "permission": "p", "headers": {}, "response_headers": {}}`, wantErr: "decision.reason is number, want string"},
		{name: "permission as null", rego: `{"allow": true, "status": 200, "reason": "r", "permission": null, "headers": {}, "response_headers": {}}`, wantErr: "decision.permission is null, want string"},
		{name: "headers as a set", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"a"}, "response_headers": {}}`, wantErr: "decision.headers is set, want object"},
		{name: "a header value that is not a string", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"a": 1}, "response_headers": {}}`, wantErr: `decision.headers["a"] is number, want string`},
		{name: "a header name that is not a string", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {}, "response_headers": {1: "a"}}`, wantErr: "decision.response_headers has a non-string key"},
		{name: "a header name with CR/LF is refused", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"x-a\r\nx-injected": "1"}, "response_headers": {}}`, wantErr: `decision.headers has the name "x-a\r\nx-injected", which is not an HTTP header name`},
		{name: "a header name with a colon is refused", rego: `{"allow": false, "status": 403, "reason": "r", "permission": "", "headers": {}, "response_headers": {":status": "200"}}`, wantErr: `decision.response_headers has the name ":status"`},
		{name: "a header name with a space is refused", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"x team": "a"}, "response_headers": {}}`, wantErr: `not an HTTP header name`},
		{name: "an empty header name is refused", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"": "a"}, "response_headers": {}}`, wantErr: `not an HTTP header name`},
		{name: "a UTF-8 header name is refused", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"x-zoë": "a"}, "response_headers": {}}`, wantErr: `not an HTTP header name`},
		{name: "a policy may not set content-length upstream", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"Content-Length": "0"}, "response_headers": {}}`, wantErr: `decision.headers sets "Content-Length", a header that frames or routes the message`},
		{name: "a policy may not set transfer-encoding upstream", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"transfer-encoding": "chunked"}, "response_headers": {}}`, wantErr: `frames or routes the message`},
		{name: "a policy may not set host upstream", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {"host": "admin.internal"}, "response_headers": {}}`, wantErr: `frames or routes the message`},
		{name: "a policy may not set connection on a deny", rego: `{"allow": false, "status": 403, "reason": "r", "permission": "p", "headers": {}, "response_headers": {"Connection": "close, x-certgate-user"}}`, wantErr: `decision.response_headers sets "Connection"`},
		{name: "an unknown field", rego: `{"allow": true, "status": 200, "extra": 1, ` + base + `}`, wantErr: `unknown field "extra"`},
		{name: "a missing field", rego: `{"allow": true, "status": 200, "reason": "r", "permission": "p", "headers": {}}`, wantErr: "want all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDecision(ast.MustParseTerm(tt.rego).Value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("decodeDecision = %+v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeDecision: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeDecision mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
