package identity_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
)

// sfBinary encodes DER as an RFC 8941 byte sequence, as RFC 9440 sends it.
func sfBinary(der []byte) string { return ":" + base64.StdEncoding.EncodeToString(der) + ":" }

func TestExtract(t *testing.T) {
	f := newFixture(t)
	alice := escapeNGINX(f.alice.CertPEM())
	aliceChain := escapeNGINX(f.aliceChainPEM())
	bob := escapeNGINX(f.bob.CertPEM())
	trusted := identity.Options{Trust: identity.AllFamilies}
	nginx := func(cert, verify string) map[string]string {
		return map[string]string{"ssl-client-cert": cert, "ssl-client-verify": verify}
	}
	xfcc := func(v string) map[string]string { return map[string]string{"x-forwarded-client-cert": v} }
	rfc9440 := func(cert, chain string) map[string]string {
		return map[string]string{"client-cert": cert, "client-cert-chain": chain}
	}
	longVerdict := "FAILED:" + strings.Repeat("unable to get local issuer certificate ", 5)

	tests := []struct {
		name       string
		envoy      string
		headers    map[string]string
		opts       identity.Options
		wantSource identity.Source
		wantChain  []string
		wantErr    error
		wantMsg    string
	}{
		// Envoy's peer certificate.
		{name: "Envoy's certificate escaped as NGINX escapes it is read", envoy: alice, wantSource: identity.SourceEnvoy, wantChain: []string{"alice"}},
		{name: "Envoy's certificate with a literal '+' is read", envoy: escapeEnvoy(f.plus.CertPEM()), wantSource: identity.SourceEnvoy, wantChain: []string{"plus"}},
		{name: "Envoy's certificate wins over trusted headers", envoy: alice, headers: nginx("garbage", "SUCCESS"), opts: trusted, wantSource: identity.SourceEnvoy, wantChain: []string{"alice"}},
		{name: "two certificates in Envoy's attribute are malformed", envoy: aliceChain, wantErr: identity.ErrMalformed, wantMsg: "envoy source.certificate: malformed client certificate: more than 1 certificate(s)"},
		{name: "a bad escape in Envoy's attribute is malformed", envoy: "%zz" + alice, wantErr: identity.ErrMalformed, wantMsg: `envoy source.certificate: malformed client certificate: invalid percent-escape "%zz" at byte 0`},
		{name: "an oversized Envoy attribute is refused before decoding", envoy: strings.Repeat("%", identity.DefaultMaxHeaderBytes+1), wantErr: identity.ErrMalformed, wantMsg: "value is 65537 bytes, over the limit of 65536"},
		{name: "a smaller MaxHeaderBytes is honoured", envoy: alice, opts: identity.Options{MaxHeaderBytes: 100}, wantErr: identity.ErrMalformed, wantMsg: "over the limit of 100"},
		{name: "no certificate at all is ErrNoCertificate", wantErr: identity.ErrNoCertificate, wantMsg: "no client certificate presented"},

		// Untrusted headers are not read at all.
		{name: "an untrusted ssl-client-cert is ignored", headers: nginx(alice, "SUCCESS"), wantErr: identity.ErrNoCertificate},
		{name: "an untrusted x-forwarded-client-cert is ignored", headers: xfcc(`Cert="` + alice + `"`), wantErr: identity.ErrNoCertificate},
		{name: "an untrusted client-cert is ignored", headers: rfc9440(sfBinary(f.alice.Cert.Raw), ""), wantErr: identity.ErrNoCertificate},
		{name: "an untrusted malformed header is ignored, not an error", headers: nginx("%zz", "FAILED"), wantErr: identity.ErrNoCertificate},

		// Each family is believed on its own.
		{name: "an x-forwarded-client-cert is ignored where only ssl_client_cert is trusted", headers: xfcc(`Cert="` + alice + `"`), opts: identity.Options{Trust: identity.SSLClientCert}, wantErr: identity.ErrNoCertificate},
		{name: "a client-cert is ignored where only ssl_client_cert is trusted", headers: rfc9440(sfBinary(f.alice.Cert.Raw), ""), opts: identity.Options{Trust: identity.SSLClientCert}, wantErr: identity.ErrNoCertificate},
		{name: "an ssl-client-cert is ignored where only xfcc is trusted", headers: nginx(alice, "SUCCESS"), opts: identity.Options{Trust: identity.XFCC}, wantErr: identity.ErrNoCertificate},
		{name: "an untrusted ssl-client-cert does not hide a trusted x-forwarded-client-cert", headers: map[string]string{"ssl-client-cert": bob, "ssl-client-verify": "SUCCESS", "x-forwarded-client-cert": `Cert="` + alice + `"`}, opts: identity.Options{Trust: identity.XFCC}, wantSource: identity.SourceXFCC, wantChain: []string{"alice"}},
		{name: "a trusted client-cert is read where only client_cert is trusted", headers: rfc9440(sfBinary(f.alice.Cert.Raw), ""), opts: identity.Options{Trust: identity.ClientCert}, wantSource: identity.SourceHeader, wantChain: []string{"alice"}},
		{name: "Envoy's certificate wins over a trusted x-forwarded-client-cert", envoy: alice, headers: xfcc(`Cert="` + bob + `"`), opts: identity.Options{Trust: identity.XFCC}, wantSource: identity.SourceEnvoy, wantChain: []string{"alice"}},

		// NGINX: ssl-client-cert and ssl-client-verify.
		{name: "a trusted ssl-client-cert verified by the proxy is read", headers: nginx(alice, "SUCCESS"), opts: trusted, wantSource: identity.SourceHeader, wantChain: []string{"alice"}},
		{name: "ssl-client-verify FAILED is a proxy verification failure", headers: nginx(alice, "FAILED:certificate has expired"), opts: trusted, wantErr: identity.ErrProxyVerifyFailed, wantMsg: `ssl-client-verify is "FAILED:certificate has expired"`},
		{name: "ssl-client-verify NONE is a proxy verification failure", headers: nginx(alice, "NONE"), opts: trusted, wantErr: identity.ErrProxyVerifyFailed, wantMsg: `ssl-client-verify is "NONE"`},
		{name: "a missing ssl-client-verify is a proxy verification failure", headers: map[string]string{"ssl-client-cert": alice}, opts: trusted, wantErr: identity.ErrProxyVerifyFailed, wantMsg: "ssl-client-verify is missing"},
		{name: "ssl-client-verify must be SUCCESS exactly", headers: nginx(alice, "success"), opts: trusted, wantErr: identity.ErrProxyVerifyFailed, wantMsg: `"success"`},
		{name: "a duplicated ssl-client-verify is not SUCCESS", headers: nginx(alice, "SUCCESS,SUCCESS"), opts: trusted, wantErr: identity.ErrProxyVerifyFailed},
		{name: "a long ssl-client-verify is cut short in the error", headers: nginx(alice, longVerdict), opts: trusted, wantErr: identity.ErrProxyVerifyFailed, wantMsg: `"` + longVerdict[:40] + `…"`},
		{name: "a duplicated ssl-client-cert is malformed", headers: nginx(alice+","+bob, "SUCCESS"), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "ssl-client-cert has a comma at byte " + strconv.Itoa(len(alice)) + ": the header was sent more than once"},
		{name: "a chain in ssl-client-cert is malformed", headers: nginx(aliceChain, "SUCCESS"), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "ssl-client-cert: malformed client certificate: more than 1 certificate(s)"},
		{name: "a private key in ssl-client-cert is malformed", headers: nginx(escapeNGINX(mustKeyPEM(t, f)), "SUCCESS"), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "is a private key"},
		{name: "an oversized ssl-client-cert is malformed", headers: nginx(alice, "SUCCESS"), opts: identity.Options{Trust: identity.AllFamilies, MaxHeaderBytes: 64}, wantErr: identity.ErrMalformed, wantMsg: "ssl-client-cert is " + strconv.Itoa(len(alice)) + " bytes, over the limit of 64"},
		{name: "ssl-client-cert wins over x-forwarded-client-cert", headers: map[string]string{"ssl-client-cert": alice, "ssl-client-verify": "SUCCESS", "x-forwarded-client-cert": `Cert="` + bob + `"`}, opts: trusted, wantSource: identity.SourceHeader, wantChain: []string{"alice"}},
		{name: "an empty ssl-client-cert falls through to x-forwarded-client-cert", headers: map[string]string{"ssl-client-cert": "", "ssl-client-verify": "NONE", "x-forwarded-client-cert": `Cert="` + bob + `"`}, opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"bob"}},

		// Envoy's x-forwarded-client-cert.
		{name: "the nearest hop of x-forwarded-client-cert is the last element", headers: xfcc(`By=spiffe://edge;Cert="` + bob + `",By=spiffe://gw;Cert="` + alice + `";Subject="CN=alice, O=DevOps"`), opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"alice"}},
		{name: "an XFCC Cert escaped the Envoy way is read", headers: xfcc(`Cert="` + escapeEnvoy(f.plus.CertPEM()) + `"`), opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"plus"}},
		{name: "an XFCC Chain carries the intermediates", headers: xfcc(`Cert="` + alice + `";Chain="` + aliceChain + `"`), opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"alice", "inter"}},
		{name: "an XFCC Chain without Cert is read", headers: xfcc(`Chain="` + aliceChain + `"`), opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"alice", "inter"}},
		{name: "an XFCC Chain that does not start with Cert is malformed", headers: xfcc(`Cert="` + bob + `";Chain="` + aliceChain + `"`), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "element 1: Chain does not start with Cert"},
		{name: "an XFCC Chain longer than MaxChainLength is malformed", headers: xfcc(`Chain="` + aliceChain + `"`), opts: identity.Options{Trust: identity.AllFamilies, MaxChainLength: 1}, wantErr: identity.ErrMalformed, wantMsg: "element 1 Chain: malformed client certificate: more than 1 certificate(s)"},
		{name: "two certificates in an XFCC Cert are malformed", headers: xfcc(`Cert="` + aliceChain + `"`), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "element 1 Cert: malformed client certificate: more than 1 certificate(s)"},
		{name: "a nearest hop without a certificate presents none", headers: xfcc(`Cert="` + alice + `",By=spiffe://gw;Hash=abc`), opts: trusted, wantErr: identity.ErrNoCertificate, wantMsg: "nearest hop (element 2) has no Cert or Chain"},
		{name: "a malformed x-forwarded-client-cert is malformed", headers: xfcc(`Cert="` + alice), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "x-forwarded-client-cert: malformed client certificate: x-forwarded-client-cert element 1: the quote at byte 5 is never closed"},
		{name: "an oversized x-forwarded-client-cert is malformed", headers: xfcc(`Cert="` + alice + `"`), opts: identity.Options{Trust: identity.AllFamilies, MaxHeaderBytes: 64}, wantErr: identity.ErrMalformed, wantMsg: "over the limit of 64"},
		{name: "x-forwarded-client-cert wins over client-cert", headers: map[string]string{"x-forwarded-client-cert": `Cert="` + alice + `"`, "client-cert": sfBinary(f.bob.Cert.Raw)}, opts: trusted, wantSource: identity.SourceXFCC, wantChain: []string{"alice"}},

		// RFC 9440 client-cert and client-cert-chain.
		{name: "an RFC 9440 client-cert is read", headers: rfc9440(sfBinary(f.alice.Cert.Raw), ""), opts: trusted, wantSource: identity.SourceHeader, wantChain: []string{"alice"}},
		{name: "an RFC 9440 client-cert-chain adds the intermediates", headers: rfc9440(sfBinary(f.alice.Cert.Raw), sfBinary(f.inter.Cert.Raw)+", "+sfBinary(f.root.Cert.Raw)), opts: trusted, wantSource: identity.SourceHeader, wantChain: []string{"alice", "inter", "root"}},
		{name: "an RFC 9440 byte sequence without padding is read", headers: rfc9440(":"+base64.RawStdEncoding.EncodeToString(f.alice.Cert.Raw)+":", ""), opts: trusted, wantSource: identity.SourceHeader, wantChain: []string{"alice"}},
		{name: "an RFC 9440 client-cert without colons is malformed", headers: rfc9440(base64.StdEncoding.EncodeToString(f.alice.Cert.Raw), ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "is not a structured-field byte sequence (:base64:)"},
		{name: "an RFC 9440 client-cert with parameters is malformed", headers: rfc9440(sfBinary(f.alice.Cert.Raw)+";a=1", ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "client-cert: malformed client certificate"},
		{name: "an RFC 9440 client-cert of bad base64 is malformed", headers: rfc9440(":@@@@:", ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "byte sequence is not base64"},
		{name: "an RFC 9440 client-cert that is not a certificate is malformed", headers: rfc9440(sfBinary([]byte("not DER")), ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "client-cert: malformed client certificate: x509:"},
		{name: "an empty RFC 9440 byte sequence is malformed", headers: rfc9440("::", ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "empty byte sequence"},
		{name: "a duplicated RFC 9440 client-cert is malformed", headers: rfc9440(sfBinary(f.alice.Cert.Raw)+","+sfBinary(f.bob.Cert.Raw), ""), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "client-cert has a comma at byte"},
		{name: "a bad item in client-cert-chain is malformed and named", headers: rfc9440(sfBinary(f.alice.Cert.Raw), sfBinary(f.inter.Cert.Raw)+",:@@@@:"), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: "client-cert-chain item 2: malformed client certificate: byte sequence is not base64"},
		{name: "a trailing comma in client-cert-chain is malformed", headers: rfc9440(sfBinary(f.alice.Cert.Raw), sfBinary(f.inter.Cert.Raw)+","), opts: trusted, wantErr: identity.ErrMalformed, wantMsg: `client-cert-chain item 2: malformed client certificate: "" is not a structured-field byte sequence`},
		{name: "an RFC 9440 chain longer than MaxChainLength is malformed", headers: rfc9440(sfBinary(f.alice.Cert.Raw), sfBinary(f.inter.Cert.Raw)+","+sfBinary(f.root.Cert.Raw)), opts: identity.Options{Trust: identity.AllFamilies, MaxChainLength: 2}, wantErr: identity.ErrMalformed, wantMsg: "client-cert-chain: more than 2 certificates with the leaf"},
		{name: "client-cert-chain without client-cert presents nothing", headers: rfc9440("", sfBinary(f.inter.Cert.Raw)), opts: trusted, wantErr: identity.ErrNoCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.Extract(tt.envoy, tt.headers, tt.opts)
			if tt.wantErr != nil {
				inputs := []string{tt.envoy}
				for _, v := range tt.headers {
					inputs = append(inputs, v)
				}
				checkErr(t, err, tt.wantErr, tt.wantMsg, inputs...)
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if got.Source != tt.wantSource {
				t.Errorf("Source = %q, want %q", got.Source, tt.wantSource)
			}
			if diff := cmp.Diff(tt.wantChain, commonNames(got.Chain)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExtractNamesTheSourceItUsed: the source Extract reports, failing or
// not, is what it read, and SourceOf agrees; a certificate header that is
// not believed is never reported as the source it would have been.
func TestExtractNamesTheSourceItUsed(t *testing.T) {
	f := newFixture(t)
	alice := escapeNGINX(f.alice.CertPEM())
	nginx := map[string]string{"ssl-client-cert": alice, "ssl-client-verify": "SUCCESS"}
	tests := []struct {
		name    string
		envoy   string
		headers map[string]string
		trust   identity.Families
		want    identity.Source
		wantErr error
	}{
		{name: "nothing presented is none", want: identity.SourceNone, wantErr: identity.ErrNoCertificate},
		{name: "headers that carry no certificate are none", headers: map[string]string{"user-agent": "curl"}, want: identity.SourceNone, wantErr: identity.ErrNoCertificate},
		{name: "an ssl-client-cert no family believes is an untrusted header", headers: nginx, want: identity.SourceUntrustedHeader, wantErr: identity.ErrNoCertificate},
		{name: "an x-forwarded-client-cert where only ssl_client_cert is believed is an untrusted header",
			headers: map[string]string{"x-forwarded-client-cert": `Cert="` + alice + `"`}, trust: identity.SSLClientCert, want: identity.SourceUntrustedHeader, wantErr: identity.ErrNoCertificate},
		{name: "a certificate header of no family is an untrusted header", headers: map[string]string{"x-amzn-mtls-clientcert": alice}, trust: identity.AllFamilies, want: identity.SourceUntrustedHeader, wantErr: identity.ErrNoCertificate},
		{name: "a believed ssl-client-verify without a certificate is none", headers: map[string]string{"ssl-client-verify": "NONE"}, trust: identity.SSLClientCert, want: identity.SourceNone, wantErr: identity.ErrNoCertificate},
		{name: "a believed ssl-client-cert the proxy did not verify is a header", headers: map[string]string{"ssl-client-cert": alice, "ssl-client-verify": "FAILED"}, trust: identity.SSLClientCert, want: identity.SourceHeader, wantErr: identity.ErrProxyVerifyFailed},
		{name: "a malformed believed x-forwarded-client-cert is xfcc", headers: map[string]string{"x-forwarded-client-cert": `Cert="junk"`}, trust: identity.XFCC, want: identity.SourceXFCC, wantErr: identity.ErrMalformed},
		{name: "a malformed Envoy certificate is envoy", envoy: "junk", headers: nginx, trust: identity.AllFamilies, want: identity.SourceEnvoy, wantErr: identity.ErrMalformed},
		{name: "a believed ssl-client-cert is a header", headers: nginx, trust: identity.SSLClientCert, want: identity.SourceHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.Extract(tt.envoy, tt.headers, identity.Options{Trust: tt.trust})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Extract error %v, want %v", err, tt.wantErr)
			}
			if got.Source != tt.want {
				t.Errorf("Extract's Source = %q, want %q", got.Source, tt.want)
			}
			if src := identity.SourceOf(tt.envoy, tt.headers, tt.trust); src != tt.want {
				t.Errorf("SourceOf = %q, want %q", src, tt.want)
			}
		})
	}
}

func TestExtractErrorsAreDistinct(t *testing.T) {
	// The server maps each sentinel on its own; none may imply another.
	sentinels := []error{identity.ErrNoCertificate, identity.ErrMalformed, identity.ErrProxyVerifyFailed}
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v wraps %v", a, b)
			}
		}
	}
}

func TestForwardedCertHeadersAreLowerCaseAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range identity.ForwardedCertHeaders {
		if h != strings.ToLower(h) || seen[h] {
			t.Errorf("header %q is not lower case or is listed twice", h)
		}
		seen[h] = true
	}
	for _, h := range []string{"ssl-client-cert", "ssl-client-verify", "ssl-client-s-dn", "ssl-client-i-dn", "ssl-client-serial", "ssl-client-fingerprint", "x-forwarded-client-cert", "client-cert", "client-cert-chain", "x-ssl-client-cert"} {
		if !seen[h] {
			t.Errorf("ForwardedCertHeaders lacks %q", h)
		}
	}
}

func mustKeyPEM(t *testing.T, f fixture) []byte {
	t.Helper()
	key, err := f.alice.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func BenchmarkExtract(b *testing.B) {
	f := newFixture(b)
	trusted := identity.Options{Trust: identity.AllFamilies}
	cases := []struct {
		name    string
		envoy   string
		headers map[string]string
	}{
		{"envoy", escapeNGINX(f.alice.CertPEM()), nil},
		{"ssl-client-cert", "", map[string]string{"ssl-client-cert": escapeNGINX(f.alice.CertPEM()), "ssl-client-verify": "SUCCESS"}},
		{"xfcc", "", map[string]string{"x-forwarded-client-cert": `By=spiffe://gw;Hash=abc;Cert="` + escapeNGINX(f.alice.CertPEM()) + `";Chain="` + escapeNGINX(f.aliceChainPEM()) + `";Subject="CN=alice"`}},
		{"rfc9440", "", map[string]string{"client-cert": sfBinary(f.alice.Cert.Raw), "client-cert-chain": sfBinary(f.inter.Cert.Raw)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := identity.Extract(c.envoy, c.headers, trusted); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPresentedDigestCoversExactlyWhatExtractReads: the verdict cache is
// keyed by PresentedDigest, so a change to anything Extract reads must
// change the digest (or two presentations would share a verdict), and a
// change to anything it ignores must not (or a client could fill the cache
// with one presentation under endless keys).
func TestPresentedDigestCoversExactlyWhatExtractReads(t *testing.T) {
	f := newFixture(t)
	alice := escapeNGINX(f.alice.CertPEM())
	bob := escapeNGINX(f.bob.CertPEM())
	all := identity.Options{Trust: identity.AllFamilies}
	base := func() map[string]string {
		return map[string]string{
			"ssl-client-cert": alice, "ssl-client-verify": "SUCCESS",
			"x-forwarded-client-cert": `Cert="` + alice + `"`,
			"client-cert":             sfBinary(f.alice.Cert.Raw), "client-cert-chain": sfBinary(f.inter.Cert.Raw),
			"x-client-cert": "junk", "user-agent": "curl",
		}
	}
	set := func(name, value string) func(map[string]string) {
		return func(h map[string]string) { h[name] = value }
	}
	del := func(name string) func(map[string]string) { return func(h map[string]string) { delete(h, name) } }
	oversized := strings.Repeat("a", identity.DefaultMaxHeaderBytes+1)
	tests := []struct {
		name    string
		envoy   string
		opts    identity.Options
		start   []func(map[string]string) // applied to both sides
		change  func(map[string]string)
		changes bool
	}{
		{name: "another ssl-client-cert changes it", opts: all, change: set("ssl-client-cert", bob), changes: true},
		{name: "another ssl-client-verify changes it", opts: all, change: set("ssl-client-verify", "FAILED"), changes: true},
		{name: "a missing ssl-client-verify is not an empty one", opts: all, start: []func(map[string]string){set("ssl-client-verify", "")}, change: del("ssl-client-verify"), changes: true},
		{name: "the boundary between ssl-client-cert and ssl-client-verify counts", opts: all, start: []func(map[string]string){set("ssl-client-cert", "ab"), set("ssl-client-verify", "c")}, change: func(h map[string]string) { h["ssl-client-cert"], h["ssl-client-verify"] = "a", "bc" }, changes: true},
		{name: "x-forwarded-client-cert behind an ssl-client-cert is ignored", opts: all, change: set("x-forwarded-client-cert", `Cert="`+bob+`"`)},
		{name: "client-cert behind an ssl-client-cert is ignored", opts: all, change: set("client-cert", "x")},
		{name: "an untrusted family's header is ignored", opts: identity.Options{Trust: identity.XFCC}, change: set("ssl-client-cert", bob)},
		{name: "a header of no family is ignored", opts: all, change: set("x-client-cert", strings.Repeat("j", 60000))},
		{name: "a header that is no certificate header is ignored", opts: all, change: set("user-agent", "evil")},
		{name: "an empty ssl-client-cert is no ssl-client-cert", opts: all, start: []func(map[string]string){del("ssl-client-cert")}, change: set("ssl-client-cert", "")},
		{name: "removing ssl-client-cert makes x-forwarded-client-cert count", opts: all, change: del("ssl-client-cert"), changes: true},
		{name: "x-forwarded-client-cert counts when it is the one read", opts: all, start: []func(map[string]string){del("ssl-client-cert")}, change: set("x-forwarded-client-cert", `Cert="`+bob+`"`), changes: true},
		{name: "client-cert-chain counts with client-cert", opts: identity.Options{Trust: identity.ClientCert}, change: set("client-cert-chain", ""), changes: true},
		{name: "client-cert-chain is ignored while another family is read", opts: all, change: set("client-cert-chain", "")},
		{name: "with a peer certificate every header is ignored", envoy: alice, opts: all, change: set("ssl-client-cert", bob)},
		{name: "with a peer certificate a dropped header is ignored too", envoy: alice, opts: all, change: del("ssl-client-cert")},
		{name: "another oversized value of the same length is refused alike", opts: all, start: []func(map[string]string){set("ssl-client-cert", oversized)}, change: set("ssl-client-cert", strings.Repeat("b", len(oversized)))},
		{name: "an oversized value of another length is refused with another message", opts: all, start: []func(map[string]string){set("ssl-client-cert", oversized)}, change: set("ssl-client-cert", oversized+"a"), changes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(), base()
			for _, s := range tt.start {
				s(a)
				s(b)
			}
			tt.change(b)
			da, db := identity.PresentedDigest(tt.envoy, a, tt.opts), identity.PresentedDigest(tt.envoy, b, tt.opts)
			if (da != db) != tt.changes {
				t.Fatalf("digest changed: %v, want %v", da != db, tt.changes)
			}
			if !tt.changes {
				// The same digest must mean the same answer from Extract.
				pa, ea := identity.Extract(tt.envoy, a, tt.opts)
				pb, eb := identity.Extract(tt.envoy, b, tt.opts)
				if fmt.Sprint(ea) != fmt.Sprint(eb) || pa.Source != pb.Source || !cmp.Equal(commonNames(pa.Chain), commonNames(pb.Chain)) {
					t.Fatalf("one digest, two answers: %v %v / %v %v", pa.Source, ea, pb.Source, eb)
				}
			}
		})
	}

	t.Run("the same bytes under other options have another digest", func(t *testing.T) {
		for _, envoy := range []string{"", alice} {
			seen := map[identity.Digest]identity.Options{}
			for _, opts := range []identity.Options{
				{}, {Trust: identity.SSLClientCert}, {Trust: identity.XFCC}, {Trust: identity.ClientCert}, all,
				{Trust: identity.AllFamilies, MaxHeaderBytes: 1 << 20}, {Trust: identity.AllFamilies, MaxChainLength: 3},
			} {
				d := identity.PresentedDigest(envoy, base(), opts)
				if prev, ok := seen[d]; ok {
					t.Errorf("envoy %t: %+v and %+v share a digest", envoy != "", prev, opts)
				}
				seen[d] = opts
			}
		}
	})
	t.Run("a digest of forwarded headers costs no allocation", func(t *testing.T) {
		h := base()
		if n := testing.AllocsPerRun(100, func() { identity.PresentedDigest("", h, all) }); n != 0 {
			t.Errorf("PresentedDigest allocates %v times, want 0", n)
		}
	})
}

func TestParseFamilies(t *testing.T) {
	got, err := identity.ParseFamilies([]string{"xfcc", "ssl_client_cert", "xfcc"})
	if err != nil || got != identity.SSLClientCert|identity.XFCC {
		t.Fatalf("ParseFamilies = %v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"ssl_client_cert", "xfcc"}, got.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if identity.Families(0).String() != "none" || identity.AllFamilies.String() != "ssl_client_cert,xfcc,client_cert" {
		t.Errorf("String: %q, %q", identity.Families(0), identity.AllFamilies)
	}
	if _, err := identity.ParseFamilies([]string{"ssl-client-cert"}); err == nil || !strings.Contains(err.Error(), "want ssl_client_cert, xfcc, client_cert") {
		t.Errorf("an unknown family: %v", err)
	}
	for header, fam := range map[string]identity.Families{
		"ssl-client-cert": identity.SSLClientCert, "ssl-client-verify": identity.SSLClientCert,
		"x-forwarded-client-cert": identity.XFCC, "client-cert": identity.ClientCert, "client-cert-chain": identity.ClientCert,
	} {
		if !fam.Believes(header) || (identity.AllFamilies &^ fam).Believes(header) {
			t.Errorf("%s is not believed by exactly %v", header, fam)
		}
	}
	if identity.AllFamilies.Believes("x-client-cert") || identity.AllFamilies.Believes("ssl-client-s-dn") {
		t.Error("a header certgate never reads is believed")
	}
}
