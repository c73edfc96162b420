package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/certgate/certgate/pki/pkitest"
)

func TestDenyBodyIsWhatJSONMarshalGives(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		permission string
	}{
		{"a 401", http.StatusUnauthorized, ""},
		{"a 401 ignores a permission", http.StatusUnauthorized, "list_vms"},
		{"a 400", http.StatusBadRequest, ""},
		{"a 500", http.StatusInternalServerError, ""},
		{"a 502", http.StatusBadGateway, ""},
		{"a 429", http.StatusTooManyRequests, ""},
		{"a 404 ignores a permission", http.StatusNotFound, "list_vms"},
		{"a 4xx without a name", 460, ""},
		{"a 5xx without a name", 599, ""},
		{"a status no deny has", 302, ""},
		{"a 403 without a permission", http.StatusForbidden, ""},
		{"a 403 with a plain permission", http.StatusForbidden, "registry_distribute"},
		{"a 403 with characters JSON escapes", http.StatusForbidden, `a"b\c<d>&e` + "\n\u2028é"},
		{"a 403 with invalid UTF-8", http.StatusForbidden, "bad\xff"},
	}
	for _, tt := range tests {
		for _, name := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				res := &Result{Status: tt.status, Permission: tt.permission, namePermission: name}
				want := denyBody{Status: "FAIL", Message: denyMessage(tt.status)}
				if tt.status == http.StatusForbidden && name {
					want.Permission = tt.permission
				}
				wantJSON, err := json.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				if got := DenyBody(res); string(got) != string(wantJSON) {
					t.Errorf("DenyBody (naming the permission: %v) = %s, want %s", name, got, wantJSON)
				}
			})
		}
	}
}

// TestEveryDenyStatusHasItsOwnFixedMessage: a policy may deny with any
// status from 400 to 599; the body names that status (certgate's words
// for 401), or its class when the status has no name, and nothing else.
func TestEveryDenyStatusHasItsOwnFixedMessage(t *testing.T) {
	for status, want := range map[int]string{
		400: "Bad Request", 401: "Authentication Required", 403: "Forbidden", 404: "Not Found",
		405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests", 451: "Unavailable For Legal Reasons",
		460: "Client Error", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
		599: "Server Error", 200: "Internal Server Error", 302: "Internal Server Error", 600: "Internal Server Error",
	} {
		if got := denyMessage(status); got != want {
			t.Errorf("denyMessage(%d) = %q, want %q", status, got, want)
		}
		var body denyBody
		if err := json.Unmarshal(DenyBody(&Result{Status: status, Permission: "p", namePermission: true}), &body); err != nil || body != (denyBody{Status: "FAIL", Message: want, Permission: body.Permission}) {
			t.Errorf("DenyBody of %d = %+v %v, want message %q", status, body, err, want)
		}
	}
}

// TestA403NamesThePermissionOnlyWhenToldTo: by default every 403 body is
// the same, so a client cannot map the route table; the Result (and so
// the decision log) keeps the permission either way.
func TestA403NamesThePermissionOnlyWhenToldTo(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	snap, err := LoadSnapshot(t.Context(), w.trustConfig(dir), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	for _, tt := range []struct {
		name bool
		want string
	}{
		{false, `{"status":"FAIL","message":"Forbidden"}`},
		{true, `{"status":"FAIL","message":"Forbidden","permission":"start_vm"}`},
	} {
		c := NewChecker(snap, Options{Logger: slog.New(slog.DiscardHandler), NameMissingPermission: tt.name})
		req := envoyRequest(viewer)
		req.Method = http.MethodPost
		res := c.Check(t.Context(), req)
		if res.Status != http.StatusForbidden || res.Permission != "start_vm" {
			t.Fatalf("viewer POST /api/v1/vm: %d %q, want 403 missing start_vm", res.Status, res.Permission)
		}
		if got := string(DenyBody(&res)); got != tt.want {
			t.Errorf("NameMissingPermission %v: body %s, want %s", tt.name, got, tt.want)
		}
		if got := checkResponse(&res).GetDeniedResponse().GetBody(); got != tt.want {
			t.Errorf("NameMissingPermission %v: gRPC body %s, want %s", tt.name, got, tt.want)
		}
	}
}
