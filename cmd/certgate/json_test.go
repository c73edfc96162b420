package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// jsonCase is one command whose output is JSON.
type jsonCase struct {
	name string
	args []string
	code int
	// volatile: the numbers of the output differ from run to run
	// (bench's timings and counts), so the golden file holds 0 for each
	// but the settings (jsonSettings).
	volatile bool
}

// TestJSONOutputsShareOneStyle runs every command that prints JSON (with
// --json, or always) against a `certgate dev`: each output is one JSON
// document with snake_case keys and integers as numbers, and matches its
// golden file in testdata/json (docs/json.md describes them), with times,
// digests, serials, ports and temporary paths masked.
func TestJSONOutputsShareOneStyle(t *testing.T) {
	s := startDev(t)
	ca, crl, cfg := filepath.Join(s.dir, "ca.pem"), filepath.Join(s.dir, "crl.pem"), filepath.Join(s.dir, "config.yaml")
	admin := []string{"--admin", s.admin, "--json"}
	viewerPOST := []string{"--cert", s.client("viewer"), "--method", "POST", "--path", "/api/v1/vm"}
	cases := []jsonCase{
		{name: "verify", args: []string{"verify", "--ca", ca, "--crl", crl, s.client("jenkins")}},
		{name: "decide", args: append([]string{"decide", "--config", cfg}, viewerPOST...), code: exitFail},
		{name: "decide-allow", args: []string{"decide", "--config", cfg, "--cert", s.client("jenkins"), "--method", "POST", "--path", "/api/v1/vm"}},
		{name: "check", args: append(append([]string{"check", "--grpc", s.grpc}, admin...), viewerPOST...), code: exitFail},
		{name: "check-allow", args: append([]string{"check", "--http", s.http, "--json", "--admin", s.admin}, "--cert", s.client("jenkins"), "--method", "POST", "--path", "/api/v1/vm")},
		{name: "status", args: append([]string{"status"}, admin...)},
		{name: "permissions", args: append([]string{"permissions"}, admin...)},
		{name: "explain", args: append(append([]string{"explain"}, admin...), viewerPOST...), code: exitFail},
		{name: "explain-allow", args: append(append([]string{"explain"}, admin...), "--cert", s.client("jenkins"), "--method", "POST", "--path", "/api/v1/vm")},
		{name: "reload", args: append([]string{"reload"}, admin...)},
		{name: "pki-inspect-cert", args: []string{"pki", "inspect", "--json", "--config", cfg, s.client("jenkins")}},
		{name: "pki-inspect-crl", args: []string{"pki", "inspect", "--json", crl}},
		{name: "bench", args: []string{"bench", "--timeout", "30s", "--serve", "--requests", "100", "--warmup", "0", "--concurrency", "2", "--crl-entries", "10", "--json"}, volatile: true},
	}
	masks := jsonMasks(s.dir)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("stdout is not one JSON document (%v):\n%s", err, stdout)
			}
			for _, problem := range jsonStyleProblems(v, "") {
				t.Errorf("%s\n%s", problem, stdout)
			}
			out, err := json.MarshalIndent(masks.apply(v, "", tc.volatile), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "json", tc.name+".json"), string(out)+"\n")
		})
	}
}

var (
	snakeCase     = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	quotedInteger = regexp.MustCompile(`^-?[0-9]+$`)
)

// Keys whose values are data, not fields: header names and values, HTTP
// status codes counted by bench.
var jsonDataMaps = map[string]bool{"headers": true, "upstream_headers": true, "status": true}

// Keys that hold integers as strings on purpose: certificate serials and
// CRL numbers are up to 20 octets (RFC 5280), more than a JSON number
// holds exactly, and serials are hex.
var jsonIntegerStrings = map[string]bool{"serial": true, "number": true}

// jsonStyleProblems lists each key that is not snake_case and each string
// that is an integer, with its path.
func jsonStyleProblems(v any, path string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		data := jsonDataMaps[lastKey(path)]
		for k, e := range v {
			if !data && !snakeCase.MatchString(k) {
				out = append(out, fmt.Sprintf("%s: key %q is not snake_case", path, k))
			}
			if data {
				continue // header values are strings whatever they hold
			}
			out = append(out, jsonStyleProblems(e, path+"."+k)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, jsonStyleProblems(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case string:
		if quotedInteger.MatchString(v) && !jsonIntegerStrings[lastKey(path)] {
			out = append(out, fmt.Sprintf("%s: the integer %q is a string", path, v))
		}
	}
	return out
}

func lastKey(path string) string {
	path = strings.TrimRight(path, "]0123456789[")
	return path[strings.LastIndex(path, ".")+1:]
}

// measured is a string of figures a volatile output measured.
var measured = regexp.MustCompile(`^[0-9][0-9. ]*$`)

// jsonSettings are the numbers of a volatile output that a run sets.
var jsonSettings = map[string]bool{"concurrency": true, "connections": true, "crl_entries": true, "rounds": true, "expect": true}

// jsonMask replaces what changes from run to run in a golden output.
type jsonMask struct {
	dir     string
	replace []struct {
		re   *regexp.Regexp
		with string
	}
}

func jsonMasks(dir string) *jsonMask {
	m := &jsonMask{dir: dir}
	for _, r := range []struct{ re, with string }{
		{`127\.0\.0\.1:[0-9]+`, "127.0.0.1:PORT"},
		{`\b[0-9A-Fa-f]{32,}\b`, "HEX"},
		{`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)`, "TIME"},
	} {
		m.replace = append(m.replace, struct {
			re   *regexp.Regexp
			with string
		}{regexp.MustCompile(r.re), r.with})
	}
	return m
}

func (m *jsonMask) apply(v any, key string, volatile bool) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = m.apply(e, k, volatile)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = m.apply(e, key, volatile)
		}
		if key == "policy_files" || key == "classes" {
			sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
		}
		return out
	case json.Number:
		if volatile && !jsonSettings[key] || key == "verdict_cache_entries" {
			return json.Number("0")
		}
		return v
	case string:
		if volatile && measured.MatchString(v) {
			return "MEASURED" // such as a load average, "0.52 0.58 0.59"
		}
		switch key {
		case "serial", "number", "version", "digest", "first_error", "x-certgate-decision-id":
			if v != "" {
				return strings.ToUpper(key)
			}
		}
		v = strings.ReplaceAll(v, m.dir, "$DIR")
		for _, r := range m.replace {
			v = r.re.ReplaceAllString(v, r.with)
		}
		return v
	}
	return v
}

// TestAdminJSONWritesIntegersAsNumbers: where protojson writes a uint64
// as a string and camelCase names, the admin commands write a number and
// the proto name.
func TestAdminJSONWritesIntegersAsNumbers(t *testing.T) {
	s := startDev(t)
	_, stdout, stderr := runCLI("status", "--admin", s.admin, "--json")
	var st struct {
		Snapshot struct {
			Revision *uint64 `json:"revision"`
			LoadedAt string  `json:"loaded_at"`
		} `json:"snapshot"`
		ReloadFailures *uint64 `json:"reload_failures"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if st.Snapshot.Revision == nil || *st.Snapshot.Revision != 1 || st.ReloadFailures == nil || *st.ReloadFailures != 0 {
		t.Errorf("revision and reload_failures are not the numbers 1 and 0:\n%s", stdout)
	}
	if _, err := time.Parse(time.RFC3339Nano, st.Snapshot.LoadedAt); err != nil {
		t.Errorf("loaded_at is no RFC 3339 time: %v\n%s", err, stdout)
	}
	if !bytes.Contains([]byte(stdout), []byte(`"reload_failures": 0`)) {
		t.Errorf("a zero count is left out:\n%s", stdout)
	}
}
