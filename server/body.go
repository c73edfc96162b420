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
// they are rendered once, one for each status from 400 to 599 (a policy
// may deny with any of them: 404, 429, 503); a 403 that names its
// permission is concatenated from these parts. Both give exactly what
// json.Marshal of denyBody gives.
var (
	denyBodies = renderDenyBodies()
	body403    = denyBodies[http.StatusForbidden-minDenyStatus]
	body500    = denyBodies[http.StatusInternalServerError-minDenyStatus]
)

// The statuses a deny may have; result maps a policy's other statuses
// to 403.
const (
	minDenyStatus = 400
	maxDenyStatus = 599
)

func renderDenyBodies() []string {
	out := make([]string, maxDenyStatus-minDenyStatus+1)
	for i := range out {
		out[i] = marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(minDenyStatus + i)})
	}
	return out
}

const body403Prefix = `{"status":"FAIL","message":"Forbidden","permission":"`

// DenyBody returns the JSON body of a denied Result (docs/architecture.md,
// "Status codes").
func DenyBody(res *Result) []byte {
	return []byte(denyBodyText(res))
}

// denyBodyText is DenyBody as a string, without marshalling JSON for the
// bodies every deny repeats.
func denyBodyText(res *Result) string {
	switch st := res.Status; {
	case st == http.StatusForbidden && res.Permission != "" && res.namePermission:
		if plainJSONString(res.Permission) {
			return body403Prefix + res.Permission + `"}`
		}
		return marshalDenyBody(denyBody{Status: "FAIL", Message: denyMessage(st), Permission: res.Permission})
	case st >= minDenyStatus && st <= maxDenyStatus:
		return denyBodies[st-minDenyStatus]
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

// denyMessage is the fixed message of a deny body: its status's name
// (certgate's own words for 401), or the class of a status without one;
// never anything of the request.
func denyMessage(status int) string {
	text := http.StatusText(status)
	switch {
	case status == http.StatusUnauthorized:
		return "Authentication Required"
	case status < minDenyStatus || status > maxDenyStatus:
		return "Internal Server Error"
	case text != "":
		return text
	case status < 500:
		return "Client Error"
	default:
		return "Server Error"
	}
}
