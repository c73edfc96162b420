package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/pki"
)

// TestServeDecisionLogFollowsItsConfig: the decision_log settings reach
// the log certgate serve writes.
func TestServeDecisionLogFollowsItsConfig(t *testing.T) {
	for _, tt := range []struct {
		name        string
		queryValues bool
		lines       int
		secret      bool
	}{
		{"by default denials are limited and query values left out", false, 2, false},
		{"query_values logs the values", true, 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "decisions.log")
			c := config.Default().DecisionLog
			c.Output, c.DenyRate, c.DenyBurst, c.QueryValues = file, 0.001, 2, tt.queryValues
			d, closeLog, err := openDecisionLog(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			checker := NewChecker(nil, Options{DecisionLog: d})
			for range 5 {
				checker.Check(context.Background(), &Request{Method: "GET", Target: "/api/v1/vm?token=s3cr3t", Adapter: "grpc"})
			}
			closeLog()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(data), "\n"); got != tt.lines {
				t.Errorf("%d lines for 5 denials with deny_burst 2, want %d:\n%s", got, tt.lines, data)
			}
			if got := strings.Contains(string(data), "s3cr3t"); got != tt.secret {
				t.Errorf("query value logged: %v, want %v:\n%s", got, tt.secret, data)
			}
		})
	}
}

func TestServeWarnsOfUnboundNameConstrainedCAs(t *testing.T) {
	dir := t.TempDir()
	root, err := pki.NewRootCA(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	team, err := root.NewIntermediate(pki.Options{PermittedDNSDomains: []string{"team.example"}})
	if err != nil {
		t.Fatal(err)
	}
	rootFile, teamFile := filepath.Join(dir, "root.pem"), filepath.Join(dir, "team.pem")
	for f, pem := range map[string][]byte{rootFile: root.CertPEM(), teamFile: team.CertPEM()} {
		if err := os.WriteFile(f, pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		bindings []config.CABinding
		warned   bool
	}{
		{"an unbound constrained CA is warned about", nil, true},
		{"a bound one is not", []config.CABinding{{CAFile: teamFile, AllowedUsers: []string{"*"}, AllowedGroups: []string{"team-*"}}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles, cfg.Trust.IntermediateFiles, cfg.Trust.CABindings = []string{rootFile}, []string{teamFile}, tt.bindings
			snap, err := LoadSnapshot(context.Background(), cfg.TrustConfig(), "", 1)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			warnUnboundConstrainedCAs(slog.New(slog.NewJSONHandler(&out, nil)), snap)
			if got := strings.Contains(out.String(), "trust.ca_bindings"); got != tt.warned {
				t.Errorf("warned %v, want %v: %s", got, tt.warned, out.String())
			}
		})
	}
}
