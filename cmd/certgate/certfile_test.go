package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// TestACertFileCutShortIsRefused: a --cert file (check, decide, verify)
// whose chain ends in a block cut short is an error naming the file, not
// a request with the leaf alone.
func TestACertFileCutShortIsRefused(t *testing.T) {
	root := pkitest.New(t, "certfile root")
	inter := root.ChildCA("certfile intermediate")
	leaf := inter.Leaf("viewer")
	interPEM := pki.EncodeCertsPEM(inter.Cert)
	path := filepath.Join(t.TempDir(), "chain.pem")
	if err := os.WriteFile(path, append(pki.EncodeCertsPEM(leaf.Cert), interPEM[:len(interPEM)/2]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readClientCert(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("readClientCert = %v, want an error naming %s and a cut", err, path)
	}
	if _, err := readClientChain(path); err == nil {
		t.Error("readClientChain read a chain cut short")
	}
}
