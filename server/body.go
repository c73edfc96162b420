package server

import (
	"encoding/json"
	"net/http"
)

// denyBody is the JSON a client sees on a deny. It carries no internal
// detail: the reason goes to the decision log only.
type denyBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Permission string `json:"permission,omitempty"`
}

// DenyBody returns the JSON body of DESIGN.md for a denied Result.
func DenyBody(res *Result) []byte {
	body := denyBody{Status: "FAIL", Message: denyMessage(res.Status)}
	if res.Status == http.StatusForbidden {
		body.Permission = res.Permission
	}
	out, err := json.Marshal(body)
	if err != nil { // cannot happen for this struct of strings
		return []byte(`{"status":"FAIL","message":"Internal Server Error"}`)
	}
	return out
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
