package server

import (
	"encoding/json"
	"net/http"
)

// denyBody is the JSON a client sees on a deny. It carries no internal
// detail: the reason goes to the decision log only, and the permission a
// 403 lacked only when the Checker was told to name it
// (Options.NameMissingPermission).
type denyBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Permission string `json:"permission,omitempty"`
}

// The deny bodies without a permission are the same on every request, so
// they are rendered once; a 403 that names its permission is concatenated
// from these parts. Both give exactly what json.Marshal of denyBody gives.
var (
	body400 = marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(http.StatusBadRequest)})
	body401 = marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(http.StatusUnauthorized)})
	body403 = marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(http.StatusForbidden)})
	body500 = marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(http.StatusInternalServerError)})
)

const body403Prefix = `{"status":"FAIL","message":"Forbidden","permission":"`

// DenyBody returns the JSON body of a denied Result (docs/architecture.md,
// "Status codes").
func DenyBody(res *Result) []byte {
	return []byte(denyBodyText(res))
}

// denyBodyText is DenyBody as a string, without marshalling JSON for the
// bodies every deny repeats.
func denyBodyText(res *Result) string {
	switch res.Status {
	case http.StatusUnauthorized:
		return body401
	case http.StatusBadRequest:
		return body400
	case http.StatusForbidden:
		switch {
		case res.Permission == "" || !res.namePermission:
			return body403
		case plainJSONString(res.Permission):
			return body403Prefix + res.Permission + `"}`
		}
		return marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(res.Status), Permission: res.Permission})
	default:
		return body500
	}
}

// plainJSONString reports whether json.Marshal writes s unchanged between
// quotes: printable ASCII without the characters it escapes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func marshalDenyBody(body denyBody) string {
	out, err := json.Marshal(body)
	if err != nil { // cannot happen for this struct of strings
		return `{"status":"FAIL","message":"Internal Server Error"}`
	}
	return string(out)
}

func denyMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Authentication Required"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusBadRequest:
		return "Bad Request"
	default:
		return "Internal Server Error"
	}
}
