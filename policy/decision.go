package policy

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Decision is the policy's answer for one request, decoded from
// data.certgate.authz.decision.
type Decision struct {
	// Allow reports whether the request may proceed.
	Allow bool `json:"allow"`
	// Status is the HTTP status of the decision (100–599): 200 for the
	// shipped policy's allows, the status to answer with when Allow is false.
	Status int `json:"status"`
	// Reason is a short machine-readable word for the decision log
	// ("granted", "missing_permission", "no_route", …).
	Reason string `json:"reason"`
	// Permission is the permission granted, or the one missing.
	Permission string `json:"permission"`
	// Headers are added to the request sent upstream; nil when there are
	// none. Every name is an HTTP token (checked when decoded); values are
	// any string, which the server encodes.
	Headers map[string]string `json:"headers"`
	// ResponseHeaders are added to the response sent to the client; nil when
	// there are none. Names are HTTP tokens, like Headers'.
	ResponseHeaders map[string]string `json:"response_headers"`
}

// decodeDecision reads a Decision from the AST value the query produced. It is
// strict: every field must be present with its exact type, and no other field
// may be, so that a typo in a policy ("response_header") or a status written
// as a string fails at load time instead of being silently ignored.
func decodeDecision(v ast.Value) (Decision, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return Decision{}, fmt.Errorf("decision is %s, want object", ast.ValueName(v))
	}
	var (
		d    Decision
		seen int
		err  error
	)
	obj.Until(func(k, v *ast.Term) bool {
		key, ok := k.Value.(ast.String)
		if !ok {
			err = fmt.Errorf("decision has a non-string key %v", k)
			return true
		}
		switch string(key) {
		case "allow":
			b, ok := v.Value.(ast.Boolean)
			if !ok {
				err = typeError("allow", v.Value, "boolean")
				return true
			}
			d.Allow = bool(b)
		case "status":
			n, ok := v.Value.(ast.Number)
			if !ok {
				err = typeError("status", v.Value, "number")
				return true
			}
			i, ok := n.Int()
			if !ok || i < 100 || i > 599 {
				err = fmt.Errorf("decision.status is %v, want an HTTP status code", n)
				return true
			}
			d.Status = i
		case "reason":
			d.Reason, err = stringField("reason", v.Value)
		case "permission":
			d.Permission, err = stringField("permission", v.Value)
		case "headers":
			d.Headers, err = headerField("headers", v.Value)
		case "response_headers":
			d.ResponseHeaders, err = headerField("response_headers", v.Value)
		default:
			err = fmt.Errorf("decision has an unknown field %q", string(key))
		}
		seen++
		return err != nil
	})
	if err != nil {
		return Decision{}, err
	}
	if seen != 6 {
		return Decision{}, fmt.Errorf("decision has %d of the fields allow, status, reason, permission, headers, response_headers; want all", seen)
	}
	return d, nil
}

func typeError(name string, v ast.Value, want string) error {
	return fmt.Errorf("decision.%s is %s, want %s", name, ast.ValueName(v), want)
}

func stringField(name string, v ast.Value) (string, error) {
	s, ok := v.(ast.String)
	if !ok {
		return "", typeError(name, v, "string")
	}
	return string(s), nil
}

func headerField(name string, v ast.Value) (map[string]string, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, typeError(name, v, "object")
	}
	if obj.Len() == 0 {
		return nil, nil
	}
	h := make(map[string]string, obj.Len())
	var err error
	obj.Until(func(k, v *ast.Term) bool {
		key, ok := k.Value.(ast.String)
		if !ok {
			err = fmt.Errorf("decision.%s has a non-string key %v", name, k)
			return true
		}
		if !isToken(string(key)) {
			err = fmt.Errorf("decision.%s has the name %.64q, which is not an HTTP header name", name, string(key))
			return true
		}
		if isFramingHeader(string(key)) {
			err = fmt.Errorf("decision.%s sets %q, a header that frames or routes the message, which a policy may not set", name, string(key))
			return true
		}
		val, ok := v.Value.(ast.String)
		if !ok {
			err = fmt.Errorf("decision.%s[%q] is %s, want string", name, string(key), ast.ValueName(v.Value))
			return true
		}
		h[string(key)] = string(val)
		return false
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// framingHeaders frame, route or carry the connection of an HTTP message
// (RFC 9110 sections 7.2, 7.6.1, 8.6; RFC 9112 section 6.1): a policy
// value there could split or redirect the request, so none may be set.
var framingHeaders = []string{"content-length", "transfer-encoding", "host", "connection", "keep-alive",
	"proxy-connection", "te", "trailer", "upgrade"}

// isFramingHeader reports whether name (any case) is one of framingHeaders.
func isFramingHeader(name string) bool {
	for _, h := range framingHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), the
// syntax of a header name: a policy that copies identity data into a name
// cannot make certgate emit a header it does not mean.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
