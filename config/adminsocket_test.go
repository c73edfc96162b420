package config_test

import (
	"testing"

	"github.com/certgate/certgate/config"
)

func TestDefaultAdminListenIsOneAnOrdinaryUserMayCreate(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	tests := []struct {
		name string
		uid  int
		env  map[string]string
		want string
	}{
		{"root listens under /run/certgate", 0, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, "unix:/run/certgate/admin.sock"},
		{"a user listens under XDG_RUNTIME_DIR", 1000, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "unix:/run/user/1000/certgate/admin.sock"},
		{"a user without XDG_RUNTIME_DIR gets a directory of their own under the temp dir", 1000, nil, "unix:/var/tmp/x/certgate-1000/admin.sock"},
		{"a relative XDG_RUNTIME_DIR is ignored, as the specification says", 1000, map[string]string{"XDG_RUNTIME_DIR": "run"}, "unix:/var/tmp/x/certgate-1000/admin.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.DefaultAdminListen(tt.uid, env(tt.env), "/var/tmp/x"); got != tt.want {
				t.Errorf("DefaultAdminListen(%d) = %q, want %q", tt.uid, got, tt.want)
			}
		})
	}
}
