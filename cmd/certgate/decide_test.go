package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// TestDecideReadsALeafWithItsIntermediate: a --cert file with the leaf and
// the intermediate that issued it, which the trust files do not hold, is
// decided as the leaf: the intermediate comes from the file, as a TLS
// client sends it.
func TestDecideReadsALeafWithItsIntermediate(t *testing.T) {
	dir := t.TempDir()
	root := pkitest.New(t, "decide root")
	inter := root.ChildCA("decide intermediate")
	leaf := inter.Leaf("viewer", pkitest.Orgs("viewers"))
	ca, chain := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(ca, pki.EncodeCertsPEM(root.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chain, pki.EncodeCertsPEM(leaf.Cert, inter.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("decide", "--ca", ca, "--cert", chain, "--method", "GET", "--path", "/api/v1/vm")
	if code != exitOK {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, exitOK, stdout, stderr)
	}
	var got decision
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not the decision JSON: %v\n%s", err, stdout)
	}
	if !got.Allow || got.Status != 200 || got.Permission != "list_vms" || got.Identity == nil || got.Identity.User != "viewer" {
		t.Errorf("decision = %+v, want viewer allowed list_vms", got)
	}
}

// TestDecideLogsItsDecisionAsACertificateFile: the decision line of
// `certgate decide` (on stderr) and the identity it prints name the
// source as what it is, the --cert file, never Envoy.
func TestDecideLogsItsDecisionAsACertificateFile(t *testing.T) {
	dir := t.TempDir()
	root := pkitest.New(t, "decide root")
	leaf := root.Leaf("viewer", pkitest.Orgs("viewers"))
	ca, cert := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "viewer.pem")
	if err := os.WriteFile(ca, pki.EncodeCertsPEM(root.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, leaf.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("decide", "--ca", ca, "--cert", cert, "--method", "GET", "--path", "/api/v1/vm")
	if code != exitOK {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, exitOK, stdout, stderr)
	}
	var lines []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err == nil && m["msg"] == "decision" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 || lines[0]["source"] != "cert_file" || lines[0]["adapter"] != "cli" {
		t.Errorf("decision lines %v, want one with source cert_file and adapter cli\nstderr: %s", lines, stderr)
	}
	var got decision
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not the decision JSON: %v\n%s", err, stdout)
	}
	if got.Identity == nil || got.Identity.Source != identity.SourceCertFile {
		t.Errorf("identity %+v, want source cert_file", got.Identity)
	}
}

// TestDecideRefusesABundleConfig: with policy.opa, decide would otherwise
// answer from the embedded policy, not the bundle serve downloads; it
// refuses, and --policy-dir replaces the bundle.
func TestDecideRefusesABundleConfig(t *testing.T) {
	dir := t.TempDir()
	root := pkitest.New(t, "decide root")
	leaf := root.Leaf("viewer", pkitest.Orgs("viewers"))
	ca, cert, cfg := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "certgate.yaml")
	for name, data := range map[string][]byte{
		ca: pki.EncodeCertsPEM(root.Cert), cert: leaf.CertPEM(),
		cfg: []byte("trust: {ca_files: [ca.pem]}\npolicy:\n  opa:\n    services: {fleet: {url: \"https://b\"}}\n    bundles: {certgate: {service: fleet}}\n"),
	} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runCLI("decide", "--config", cfg, "--cert", cert, "--method", "GET", "--path", "/api/v1/vm")
	if code != exitUsage || !strings.Contains(stderr, "policy.opa") {
		t.Errorf("exit code %d, stderr %q; want %d naming policy.opa", code, stderr, exitUsage)
	}
	code, stdout, stderr := runCLI("decide", "--config", cfg, "--policy-dir", "../../rego", "--cert", cert, "--method", "GET", "--path", "/api/v1/vm")
	if code != exitOK || !strings.Contains(stdout, `"allow": true`) {
		t.Errorf("with --policy-dir: exit code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
