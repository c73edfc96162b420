package nginx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki"
)

// directive is one NGINX directive: its name and arguments, and the
// blocks it sits in ("http", "server", "location = /_certgate_auth").
type directive struct {
	block string
	name  string
	args  []string
}

// parse reads an NGINX config into its directives. It knows comments,
// quoted arguments and blocks: enough to check what the shipped files set,
// not a full NGINX parser.
func parse(t *testing.T, path string) []directive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out    []directive
		words  []string
		stack  []string
		word   strings.Builder
		inWord bool
		quote  rune
	)
	flush := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	src := []rune(string(data))
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				continue
			}
			if c == '\\' && i+1 < len(src) {
				i++
				c = src[i]
			}
			word.WriteRune(c)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == ';':
			flush()
			if len(words) > 0 {
				out = append(out, directive{block: strings.Join(stack, " > "), name: words[0], args: words[1:]})
			}
			words = nil
		case c == '{':
			flush()
			stack = append(stack, strings.Join(words, " "))
			words = nil
		case c == '}':
			flush()
			if len(stack) == 0 {
				t.Fatalf("%s: unbalanced }", path)
			}
			stack = stack[:len(stack)-1]
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 || len(stack) != 0 || len(words) != 0 {
		t.Fatalf("%s: unterminated quote, block or directive", path)
	}
	return out
}

// headersSet returns what proxy_set_header sets in the block named block
// (matched at the end of the block path). A header set twice is an error:
// NGINX would send both values.
func headersSet(t *testing.T, ds []directive, block string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, d := range ds {
		if d.name != "proxy_set_header" || !strings.HasSuffix(d.block, block) {
			continue
		}
		if len(d.args) != 2 {
			t.Fatalf("proxy_set_header %q: want a name and a value", d.args)
		}
		name := strings.ToLower(d.args[0])
		if _, dup := got[name]; dup {
			t.Errorf("%s sets %s twice", block, d.args[0])
		}
		got[name] = d.args[1]
	}
	return got
}

func TestSnippetOverwritesEveryCertificateHeader(t *testing.T) {
	ds := parse(t, "certgate.conf")
	want := map[string]string{
		// What certgate decides from, always NGINX's own values.
		"ssl-client-cert":   "$ssl_client_escaped_cert",
		"ssl-client-verify": "$ssl_client_verify",
		"x-original-method": "$request_method",
		"x-original-uri":    "$request_uri",
		"x-forwarded-host":  "$host",
		"x-forwarded-proto": "$scheme",
		// Everything else certgate could believe, removed.
		"x-original-url":          "",
		"x-forwarded-client-cert": "",
		"client-cert":             "",
		"client-cert-chain":       "",
		"x-certgate-user":         "",
		"x-certgate-groups":       "",
		"x-certgate-permission":   "",
		"x-certgate-fingerprint":  "",
		// Keepalive to certgate, no body.
		"connection":     "",
		"content-length": "",
	}
	if diff := cmp.Diff(want, headersSet(t, ds, "location = /_certgate_auth")); diff != "" {
		t.Errorf("proxy_set_header in /_certgate_auth (-want +got):\n%s", diff)
	}

	settings := map[string][]string{}
	for _, d := range ds {
		if d.block == "location = /_certgate_auth" && d.name != "proxy_set_header" {
			settings[d.name] = d.args
		}
	}
	for name, args := range map[string][]string{
		"internal":                {},
		"proxy_pass":              {"http://certgate/v1/check"},
		"proxy_http_version":      {"1.1"},
		"proxy_pass_request_body": {"off"},
		"proxy_connect_timeout":   {"1s"},
		"proxy_read_timeout":      {"2s"},
		"proxy_send_timeout":      {"2s"},
	} {
		got, ok := settings[name]
		if !ok {
			t.Errorf("/_certgate_auth lacks %s", name)
			continue
		}
		if diff := cmp.Diff(args, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// withLocationSnippet returns ds with each `include certgate-location.conf`
// replaced by that file's directives, in the block that includes it.
func withLocationSnippet(t *testing.T, ds []directive) []directive {
	t.Helper()
	var out []directive
	for _, d := range ds {
		if d.name != "include" || len(d.args) != 1 || d.args[0] != "certgate-location.conf" {
			out = append(out, d)
			continue
		}
		for _, in := range parse(t, "certgate-location.conf") {
			in.block = strings.TrimSuffix(d.block+" > "+in.block, " > ")
			out = append(out, in)
		}
	}
	return out
}

func TestLocationSnippetPassesOnlyCertgatesVerdictUpstream(t *testing.T) {
	ds := parse(t, "certgate-location.conf")
	want := map[string]string{
		// certgate's verdict: its value, or none when certgate sends none.
		"x-certgate-user":        "$certgate_user",
		"x-certgate-groups":      "$certgate_groups",
		"x-certgate-permission":  "$certgate_permission",
		"x-certgate-fingerprint": "$certgate_fingerprint",
		// Method override headers, removed.
		"x-http-method-override": "",
		"x-http-method":          "",
		"x-method-override":      "",
		// Certificate headers, removed.
		"ssl-client-cert":         "",
		"ssl-client-verify":       "",
		"x-forwarded-client-cert": "",
		"client-cert":             "",
		"client-cert-chain":       "",
	}
	if diff := cmp.Diff(want, headersSet(t, ds, "")); diff != "" {
		t.Errorf("proxy_set_header in certgate-location.conf (-want +got):\n%s", diff)
	}
	got := map[string][]string{}
	for _, d := range ds {
		if d.block != "" {
			t.Errorf("%s inside %q: the snippet is included in a location and has no blocks", d.name, d.block)
		}
		got[d.name] = append(got[d.name], strings.Join(d.args, " "))
	}
	for name, want := range map[string][]string{
		"auth_request": {"/_certgate_auth"},
		"auth_request_set": {
			"$certgate_user $upstream_http_x_certgate_user",
			"$certgate_groups $upstream_http_x_certgate_groups",
			"$certgate_permission $upstream_http_x_certgate_permission",
			"$certgate_fingerprint $upstream_http_x_certgate_fingerprint",
			// For NGINX's log only: no proxy_set_header forwards it.
			"$certgate_decision_id $upstream_http_x_certgate_decision_id",
		},
	} {
		if diff := cmp.Diff(want, got[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestExamplePassesOnlyCertgatesVerdictUpstream(t *testing.T) {
	ds := parse(t, "example.conf")
	want := map[string]string{
		"host":              "$host",
		"x-forwarded-proto": "$scheme",
		"connection":        "",
	}
	if diff := cmp.Diff(want, headersSet(t, ds, "location /")); diff != "" {
		t.Errorf("proxy_set_header in location / (-want +got):\n%s", diff)
	}
	// With the snippet, no header is set twice and certgate's verdict is there.
	effective := headersSet(t, withLocationSnippet(t, ds), "location /")
	for _, name := range []string{"x-certgate-user", "x-certgate-groups", "x-certgate-permission", "x-certgate-fingerprint", "x-http-method-override", "ssl-client-cert"} {
		if _, ok := effective[name]; !ok {
			t.Errorf("location / does not set %s", name)
		}
	}

	got := map[string][]string{}
	for _, d := range ds {
		got[d.name] = append(got[d.name], strings.Join(d.args, " "))
	}
	for name, want := range map[string][]string{
		"auth_request":      nil, // in certgate-location.conf
		"ssl_verify_client": {"optional_no_ca"},
		"ssl_verify_depth":  {"3"},
		"include":           {"certgate-upstream.conf", "certgate.conf", "certgate-location.conf"},
		"ssl_crl":           nil, // certgate checks CRLs; NGINX would need a reload for each
	} {
		if diff := cmp.Diff(want, got[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// nginxBinary finds nginx. Locally a missing nginx skips loudly; in CI
// (CI=true) it fails, because .ci/run installs it.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("nginx"); err == nil {
		return path
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed, and CI must check the shipped NGINX configs (apt-get install -y nginx-light)")
	}
	t.Skip("SKIPPING nginx -t of the shipped configs: nginx is not installed (apt-get install -y nginx-light)")
	return ""
}

// TestExampleRunsAsShipped lays out a repository root in a temp dir (the
// shipped nginx/*.conf, unchanged, and a demo PKI where `certgate dev`
// puts it) and runs nginx -t exactly as the README says.
func TestExampleRunsAsShipped(t *testing.T) {
	bin := nginxBinary(t)
	root := exampleRoot(t)
	nginxTest(t, bin, root, "nginx/example.conf")
}

// TestExampleRunsOnOtherPorts runs the sed command that example.conf's
// comment gives for other ports, and nginx -t on the copy it writes.
func TestExampleRunsOnOtherPorts(t *testing.T) {
	bin := nginxBinary(t)
	root := exampleRoot(t)
	var sed string
	for _, line := range strings.Split(readFile(t, "example.conf"), "\n") {
		if cmd, ok := strings.CutPrefix(line, "#     sed "); ok {
			sed = "sed " + cmd
		}
	}
	if sed == "" {
		t.Fatal("example.conf no longer says how to change its ports")
	}
	cmd := exec.Command("sh", "-c", sed)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", sed, err, out)
	}
	conf := readFile(t, filepath.Join(root, "nginx", "example.local.conf"))
	for _, want := range []string{"listen 127.0.0.1:9443 ssl;", "server 127.0.0.1:9080;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("the copy lacks %q", want)
		}
	}
	if strings.Contains(conf, ":8443") || strings.Contains(conf, "127.0.0.1:8080;") {
		t.Error("the copy still uses port 8443 or 8080")
	}
	nginxTest(t, bin, root, "nginx/example.local.conf")
}

// exampleRoot lays out a repository root in a temp dir: the shipped
// nginx/*.conf, unchanged, and a demo PKI where `certgate dev` puts it.
func exampleRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"example.conf", "certgate.conf", "certgate-upstream.conf", "certgate-location.conf"} {
		if err := os.WriteFile(filepath.Join(root, "nginx", name), []byte(readFile(t, name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pki.EnsureDemo(filepath.Join(root, ".certgate-dev"), time.Now); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, ".certgate-dev", "nginx"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

// nginxTest runs nginx -t on conf under root as the README says.
func nginxTest(t *testing.T, bin, root, conf string) {
	t.Helper()
	cmd := exec.Command(bin, "-t", "-p", root, "-e", ".certgate-dev/nginx/error.log", "-c", conf)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t did not report success:\n%s", out)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
