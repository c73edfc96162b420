package server

import (
	"encoding/json"
	"net/http"
	"testing"
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
		{"a 502 reads as a 500", http.StatusBadGateway, ""},
		{"a 403 without a permission", http.StatusForbidden, ""},
		{"a 403 with a plain permission", http.StatusForbidden, "registry_distribute"},
		{"a 403 with characters JSON escapes", http.StatusForbidden, `a"b\c<d>&e` + "\n\u2028é"},
		{"a 403 with invalid UTF-8", http.StatusForbidden, "bad\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{Status: tt.status, Permission: tt.permission}
			want := denyBody{Status: "FAIL", Message: denyMessage(tt.status)}
			if tt.status == http.StatusForbidden {
				want.Permission = tt.permission
			}
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := DenyBody(res); string(got) != string(wantJSON) {
				t.Errorf("DenyBody = %s, want %s", got, wantJSON)
			}
		})
	}
}
