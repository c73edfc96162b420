package bundles_test

import (
	"strings"
	"testing"

	"github.com/certgate/certgate/bundles"
)

// TestParseRefusesWhatCertgateDoesNotDo: OPA's schema allows more than
// certgate serves; each such configuration is an error naming the key,
// never ignored.
func TestParseRefusesWhatCertgateDoesNotDo(t *testing.T) {
	svc := `"services": {"fleet": {"url": "https://bundles.internal"}}`
	for _, tc := range []struct{ name, cfg, want string }{
		{"no bundle", `{` + svc + `}`, "name the bundle"},
		{"two bundles", `{` + svc + `, "bundles": {"a": {"service": "fleet"}, "b": {"service": "fleet"}}}`, "exactly one bundle"},
		{"an unknown service", `{` + svc + `, "bundles": {"a": {"service": "other"}}}`, "other"},
		{"a file resource", `{` + svc + `, "bundles": {"a": {"resource": "file:///etc/b.tar.gz"}}}`, "file://"},
		{"manual trigger", `{` + svc + `, "bundles": {"a": {"service": "fleet", "trigger": "manual"}}}`, "periodic"},
		{"an OPA key certgate does not read", `{` + svc + `, "bundles": {"a": {"service": "fleet"}}, "decision_logs": {}}`, "decision_logs"},
		{"min delay above max", `{` + svc + `, "bundles": {"a": {"service": "fleet", "polling": {"min_delay_seconds": 20, "max_delay_seconds": 10}}}}`, "max polling delay"},
		{"an OCI registry", `{"services": {"fleet": {"url": "https://ghcr.io", "type": "oci"}}, "bundles": {"a": {"service": "fleet"}}}`, "oci"},
		{"a signing key id without keys", `{` + svc + `, "bundles": {"a": {"service": "fleet", "signing": {"keyid": "k"}}}}`, "key id k not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bundles.Parse([]byte(tc.cfg), t.TempDir(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestParseTheIssuesExample: the example of the README parses, with
// certgate's size limit, and keys make signatures required.
func TestParseTheIssuesExample(t *testing.T) {
	cfg := `{"services": {"fleet": {"url": "https://bundles.internal"}},
		"bundles": {"certgate": {"service": "fleet", "resource": "/certgate.tar.gz",
			"polling": {"min_delay_seconds": 10, "max_delay_seconds": 20}, "persist": true}},
		"keys": {"fleet": {"algorithm": "RS256", "key": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"}}}`
	dir := t.TempDir()
	c, err := bundles.Parse([]byte(cfg), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := c.Bundles["certgate"]
	if src == nil || !src.Persist || src.Service != "fleet" || src.SizeLimitBytes != bundles.DefaultSizeLimitBytes || c.PersistDir != dir {
		t.Fatalf("parsed %+v, persist dir %s", src, c.PersistDir)
	}
	if !src.Signing.SignatureRequired() {
		t.Error("with keys configured, a signature is optional")
	}
	if p := bundles.New(c, nil); p.Status()[0].URL != "https://bundles.internal/certgate.tar.gz" {
		t.Errorf("URL %q", p.Status()[0].URL)
	}
}
