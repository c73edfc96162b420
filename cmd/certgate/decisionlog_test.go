package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/server"
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
			checker := server.NewChecker(nil, server.Options{DecisionLog: d})
			for range 5 {
				checker.Check(context.Background(), &server.Request{Method: "GET", Target: "/api/v1/vm?token=s3cr3t", Adapter: "grpc"})
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
