package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestCRLCheckReadsDaysAndPrintsThemBack(t *testing.T) {
	dir := newPKIDir(t)
	pkiCLI(t, "crl", "--dir", dir, "--days", "7")
	crl := filepath.Join(dir, "crl.pem")
	tests := []struct {
		name, min string
		code      int
		prefix    string
		contains  string
	}{
		{"a week's CRL passes --min 6d", "6d", 0, "OK", "threshold 6d)"},
		{"a week's CRL fails --min 8d", "8d", 1, "FAIL", "threshold 8d)"},
		{"a week's CRL fails --min 1w2d3h", "1w2d3h", 1, "FAIL", "threshold 9d3h)"},
		{"hours still work", "48h", 0, "OK", "threshold 2d)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("pki", "crl", "--check", "--dir", dir, "--file", crl, "--min", tt.min)
			if code != tt.code || !strings.HasPrefix(stdout, tt.prefix) || !strings.Contains(stdout, "valid for 6d23h5") || !strings.Contains(stdout, tt.contains) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
	if code, _, stderr := runCLI("pki", "crl", "--check", "--dir", dir, "--min", "8days"); code != 2 || !strings.Contains(stderr, "want a duration such as") {
		t.Errorf("--min 8days: exit %d, stderr %q", code, stderr)
	}
}

func TestStatusPrintsLongDurationsInDays(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"a CA valid for ten years", 86159*time.Hour + 58*time.Minute + 10*time.Second, "(in 3589d23h58m)"},
		{"a snapshot loaded minutes ago", -(4*time.Minute + 5*time.Second), "(4m5s ago)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// when reads the clock a moment later, which rounding to the
			// second absorbs.
			got := when(timestamppb.New(time.Now().Add(tt.in)))
			if !strings.HasSuffix(got, tt.want) {
				t.Errorf("when = %q, want it to end in %q", got, tt.want)
			}
		})
	}
}
