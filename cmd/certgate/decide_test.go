package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

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
