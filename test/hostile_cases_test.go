package test

import (
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
)

// hostileCase is one hostile request and the answer each way of asking
// certgate must give. Every case runs against the gRPC and the HTTP adapter
// (real listeners) and, when nginx is set, through a real NGINX.
type hostileCase struct {
	name string
	// cert names a hostileWorld value presented as the client certificate:
	// Envoy's peer certificate over gRPC, Ssl-Client-Cert over HTTP. Empty
	// presents none.
	cert string
	// header, when set, carries cert in that header on both adapters
	// instead ("ssl-client-cert", "x-forwarded-client-cert").
	header string
	// extra headers, sent as they are (name case, repeats and bytes kept).
	extra [][2]string
	// verify is Ssl-Client-Verify: "" is SUCCESS with a certificate and
	// NONE without, "-" leaves it out.
	verify         string
	method, target string
	// status is certgate's decision on both adapters. On an allow, user
	// and groups are x-certgate-user and x-certgate-groups as the upstream
	// receives them, over every way in: "-" for none at all (and removed
	// over gRPC), "" (groups only) for not checked.
	status int
	user   string
	groups string
	// grpcStatus and httpStatus override status for one adapter.
	grpcStatus, httpStatus int
	// grpcRefused and httpRefused are set when the transport refuses the
	// request before certgate decides (no decision is logged).
	grpcRefused codes.Code
	httpRefused int
	// nginx is the status a client of the real NGINX sees, presenting the
	// TLS client certificate nginxClient; 0 skips NGINX.
	nginx       int
	nginxClient string
	// checkTarget is the HTTP adapter's own request target ("" is
	// /v1/check).
	checkTarget string
	// nginxOnly cases are about what NGINX does with client-sent headers;
	// the adapters would take the same headers as the proxy's.
	nginxOnly bool
	// everyForm also asks the HTTP adapter with the target in an
	// ingress-nginx X-Original-URL and below /v1/check (Envoy's HTTP
	// mode), besides X-Original-URI.
	everyForm bool
	// originalURL, when set, is sent to the HTTP adapter as X-Original-URL
	// instead of target in X-Original-URI.
	originalURL string
	// rule, for a refused path, is the part of the logged reason that
	// names the path rule hit; the cause is then ambiguous_path.
	rule string
	// The adapters' certgate believes every header family on both
	// listeners from 127.0.0.1, the tests' proxy. dev runs the case
	// against `certgate dev`'s trust instead (HTTP: ssl_client_cert from
	// this host; gRPC: no header); otherPeer sends it from 127.0.0.2, a
	// peer that is no trusted proxy.
	dev, otherPeer bool
	// headerMap sends Envoy's headers in header_map (raw values) rather
	// than the plain map, as Envoy may.
	headerMap bool
}

const (
	ok        = http.StatusOK
	badReq    = http.StatusBadRequest
	unauth    = http.StatusUnauthorized
	forbidden = http.StatusForbidden
)

var longPath = "/api/v1/vm/" + strings.Repeat("a", 9000)

var hostileCases = []hostileCase{
	// A baseline the others differ from.
	{name: "the viewer may list VMs", cert: "viewer", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},

	// Header smuggling.
	{name: "ssl-client-cert sent twice is malformed", cert: "viewer", header: "ssl-client-cert", extra: [][2]string{{"ssl-client-cert", "VIEWER"}}, method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "ssl-client-cert of two clients is malformed", cert: "viewer", header: "ssl-client-cert", extra: [][2]string{{"Ssl-Client-Cert", "ADMIN"}}, method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a mixed-case certificate header name is the same header", cert: "viewer", header: "SSL-Client-CERT", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer"},
	{name: "the same header in two cases is a duplicate", cert: "viewer", header: "ssl-client-cert", extra: [][2]string{{"SSL-CLIENT-CERT", "ADMIN"}}, method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a lower-case success verdict is no success", cert: "viewer", header: "ssl-client-cert", verify: "success", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a verdict sent twice is no success", cert: "viewer", header: "ssl-client-cert", extra: [][2]string{{"Ssl-Client-Verify", "SUCCESS"}}, method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a missing verdict is no success", cert: "viewer", header: "ssl-client-cert", verify: "-", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a verdict without a certificate authenticates nobody", verify: "SUCCESS", method: "GET", target: "/api/v1/status", status: unauth},
	{name: "CR/LF and a forged header inside the certificate value", cert: "crlf-injected", header: "ssl-client-cert", method: "GET", target: "/api/v1/vm", status: unauth,
		// On the wire the CR/LF ends the value: the forged header is a
		// header of its own, which certgate overwrites.
		httpStatus: ok, user: "viewer"},
	{name: "a raw PEM with newlines in a header value", cert: "raw-pem", header: "ssl-client-cert", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer", httpRefused: badReq},
	{name: "'+' for a space is not a space", cert: "plus-for-space", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "Envoy's escaping with raw '+', '/' and '=' is read", cert: "envoy-style", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer"},
	{name: "a double-encoded certificate is decoded once and refused", cert: "double-encoded", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a NUL byte in the PEM is refused", cert: "nul", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a bad percent-escape is refused", cert: "bad-escape", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a 200 KB certificate value is refused", cert: "huge", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a 1 MB header is refused by the transport", cert: "megabyte", header: "ssl-client-cert", method: "GET", target: "/api/v1/vm", status: unauth,
		grpcRefused: codes.ResourceExhausted, httpRefused: http.StatusRequestHeaderFieldsTooLarge},
	{name: "a chain of 50 certificates is refused", cert: "fifty", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "an XFCC chain of 50 certificates is refused", cert: "xfcc-fifty", header: "x-forwarded-client-cert", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a PEM with trailing garbage is refused", cert: "trailing-garbage", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a second certificate after the leaf is refused", cert: "two-certs", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a private key instead of a certificate is refused", cert: "private-key", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "DER instead of PEM is refused", cert: "der", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "base64 without PEM armour is refused", cert: "bare-base64", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a truncated certificate is refused", cert: "truncated", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a certificate block with PEM headers is refused", cert: "pem-headers", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "forged identity headers are overwritten", cert: "viewer", extra: [][2]string{{"X-Certgate-User", "admin"}, {"X-Certgate-Groups", "admins"}}, method: "GET", target: "/api/v1/vm", status: ok, user: "viewer"},
	{name: "a forged certificate header through NGINX is replaced by NGINX's", cert: "viewer", extra: [][2]string{{"Ssl-Client-Cert", "ADMIN"}, {"Ssl-Client-Verify", "SUCCESS"}}, method: "DELETE", target: "/api/v1/node", status: forbidden,
		grpcStatus: forbidden, httpStatus: unauth, nginx: forbidden, nginxClient: "viewer"},
	{name: "forged headers without a TLS certificate through NGINX", extra: [][2]string{{"Ssl-Client-Cert", "ADMIN"}, {"Ssl-Client-Verify", "SUCCESS"}, {"X-Forwarded-Client-Cert", "Cert=x"}, {"Client-Cert", "ADMIN-CLIENT-CERT"}}, method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxOnly: true},
	{name: "an RFC 9440 Client-Cert is read when forwarded headers are trusted", cert: "admin-client-cert", header: "client-cert", verify: "-", method: "GET", target: "/api/v1/vm", status: ok, user: "admin"},
	{name: "a client-sent X-Original-URI and method are replaced by NGINX's", extra: [][2]string{{"X-Original-URI", "/api/v1/vm"}, {"X-Original-Method", "GET"}}, method: "DELETE", target: "/api/v1/node", status: forbidden, nginx: forbidden, nginxClient: "viewer", nginxOnly: true},
	{name: "a client-sent X-Original-URL is dropped by NGINX", extra: [][2]string{{"X-Original-URL", "https://anka.example/api/v1/vm"}}, method: "DELETE", target: "/api/v1/node", status: forbidden, nginx: forbidden, nginxClient: "viewer", nginxOnly: true},
	{name: "a 1 MB header is refused by NGINX itself", extra: [][2]string{{"X-Padding", "MEGABYTE"}}, method: "GET", target: "/api/v1/vm", status: badReq, nginx: badReq, nginxClient: "viewer", nginxOnly: true},
	{name: "a second X-Original-URI makes one path that matches nothing", cert: "viewer", extra: [][2]string{{"X-Original-URI", "/api/v1/node"}}, method: "GET", target: "/api/v1/vm", status: forbidden,
		// Envoy's path is :path; the header means nothing there.
		grpcStatus: ok, user: "viewer"},
	{name: "a second X-Original-Method makes one method that matches nothing", cert: "viewer", extra: [][2]string{{"X-Original-Method", "DELETE"}}, method: "GET", target: "/api/v1/vm", status: forbidden,
		grpcStatus: ok, user: "viewer"},
	{name: "an absolute-form request line to the check endpoint is read", cert: "viewer", checkTarget: "http://certgate.internal/v1/check", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer"},
	{name: "an absolute-form request line cannot move the decided path", cert: "viewer", checkTarget: "http://certgate.internal/v1/check", method: "DELETE", target: "/api/v1/node", status: forbidden},
	{name: "Envoy HTTP mode: a dot-dot path below the check path is decided, not redirected", cert: "viewer", checkTarget: "/v1/check/api/v1/vm/../node", method: "GET", target: "/api/v1/vm/../node", status: ok, user: "viewer"},
	{name: "Envoy HTTP mode: a double slash below the check path is decided, not redirected", cert: "viewer", checkTarget: "/v1/check//api/v1/vm", method: "GET", target: "//api/v1/vm", status: ok, user: "viewer"},
	{name: "Envoy HTTP mode: an encoded dot-dot above the root below the check path is refused", cert: "viewer", checkTarget: "/v1/check/%2e%2e/api/v1/vm", method: "GET", target: "/%2e%2e/api/v1/vm", status: badReq},

	// Header trust per listener, as admin on an admins-only route: a
	// header is believed only on a listener that trusts its family, and
	// only from a trusted proxy; a peer certificate always wins.
	{name: "a forged ssl-client-cert without a peer certificate is nobody on gRPC under certgate dev", cert: "admin", header: "ssl-client-cert", dev: true, method: "DELETE", target: "/api/v1/node", status: unauth,
		httpStatus: ok, user: "admin"},
	{name: "a forged ssl-client-cert in header_map is nobody on gRPC under certgate dev", cert: "admin", header: "ssl-client-cert", headerMap: true, dev: true, method: "DELETE", target: "/api/v1/node", status: unauth,
		httpStatus: ok, user: "admin"},
	{name: "a forged XFCC Cert is nobody under certgate dev", cert: "xfcc-admin", header: "x-forwarded-client-cert", dev: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "a forged XFCC Cert in header_map is nobody under certgate dev", cert: "xfcc-admin", header: "x-forwarded-client-cert", headerMap: true, dev: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "a forged RFC 9440 client-cert is nobody under certgate dev", cert: "admin-client-cert", header: "client-cert", verify: "-", dev: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "a forged RFC 9440 client-cert in header_map is nobody under certgate dev", cert: "admin-client-cert", header: "client-cert", verify: "-", headerMap: true, dev: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "ssl-client-cert from a peer that is no trusted proxy is nobody under certgate dev", cert: "admin", header: "ssl-client-cert", dev: true, otherPeer: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "an XFCC Cert from a trusted proxy that sets it is believed", cert: "xfcc-admin", header: "x-forwarded-client-cert", method: "DELETE", target: "/api/v1/node", status: ok, user: "admin"},
	{name: "ssl-client-cert from a peer that is no trusted proxy is nobody", cert: "admin", header: "ssl-client-cert", otherPeer: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "ssl-client-cert in header_map from a peer that is no trusted proxy is nobody", cert: "admin", header: "ssl-client-cert", headerMap: true, otherPeer: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "an XFCC Cert from a peer that is no trusted proxy is nobody", cert: "xfcc-admin", header: "x-forwarded-client-cert", otherPeer: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "an RFC 9440 client-cert from a peer that is no trusted proxy is nobody", cert: "admin-client-cert", header: "client-cert", verify: "-", otherPeer: true, method: "DELETE", target: "/api/v1/node", status: unauth},
	{name: "a peer certificate wins over a believed XFCC", cert: "viewer", extra: [][2]string{{"X-Forwarded-Client-Cert", "XFCC-ADMIN"}}, method: "DELETE", target: "/api/v1/node", status: forbidden},
	{name: "a peer certificate wins over a believed client-cert", cert: "viewer", extra: [][2]string{{"Client-Cert", "ADMIN-CLIENT-CERT"}}, method: "DELETE", target: "/api/v1/node", status: forbidden},

	// Certificate tricks.
	{name: "a CA certificate is no client", cert: "ca-as-client", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "ca-as-client"},
	{name: "a serverAuth-only certificate is no client", cert: "server-only", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "server-only"},
	{name: "a self-signed CA with the issuing CA's subject is unknown", cert: "impostor-ca", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "impostor-ca"},
	{name: "a leaf of the impostor CA is unknown", cert: "impostor", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "impostor"},
	{name: "an intermediate without CA:TRUE cannot issue", cert: "xfcc-below-not-ca", header: "x-forwarded-client-cert", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a leaf issued by a leaf is unknown", cert: "below-not-ca", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a name outside the CA's name constraints is refused", cert: "outside-constraints", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a name inside the CA's name constraints is accepted", cert: "inside-constraints", method: "GET", target: "/api/v1/vm", status: ok, user: "good"},
	{name: "a SHA-1 signature is refused", cert: "sha1", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "an RSA-1024 key is refused", cert: "rsa1024", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a zero serial is refused", cert: "zero-serial", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "zero-serial"},
	{name: "a negative serial is refused", cert: "negative-serial", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "a serial revoked by another CA is not revoked", cert: "twin", method: "GET", target: "/api/v1/vm", status: ok, user: "twin", nginx: ok, nginxClient: "twin"},
	{name: "a revoked certificate is refused", cert: "revoked", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "revoked"},
	{name: "a certificate below a revoked CA is refused", cert: "under-revoked-ca", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "under-revoked-ca"},
	{name: "a key usage without digitalSignature is refused", cert: "no-digital-signature", method: "GET", target: "/api/v1/vm", status: unauth},
	{name: "an unknown critical extension is refused", cert: "critical-extension", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "critical-extension"},
	{name: "a CN with a comma and O= is one user, not a group", cert: "comma-cn", method: "GET", target: "/api/v1/vm", status: ok, user: "mallory, O=admins", nginx: ok, nginxClient: "comma-cn"},
	{name: "a CN with O= grants no admin permission", cert: "comma-cn", method: "DELETE", target: "/api/v1/node", status: forbidden, nginx: forbidden, nginxClient: "comma-cn"},
	{name: "a CN spelled like a DN grants no admin permission", cert: "equals-cn", method: "PUT", target: "/api/v1/config", status: forbidden},
	{name: "a UTF-8 subject is read, and percent-encoded upstream", cert: "utf8", method: "GET", target: "/api/v1/vm", status: ok, user: "Zo%C3%AB %C3%9Cn%C3%AFc%C3%B8d%C3%A9", groups: "viewers", nginx: ok, nginxClient: "utf8"},
	{name: "a BMPString subject is read, and percent-encoded upstream", cert: "bmp", method: "GET", target: "/api/v1/vm", status: ok, user: "Zo%C3%AB BMP", nginx: ok, nginxClient: "bmp"},

	// What reaches the upstream: identity headers are certgate's, encoded,
	// or absent; client-sent x-certgate-* and method override headers never
	// get through.
	{name: "a certificate without O sends no x-certgate-groups", cert: "no-o", method: "GET", target: "/api/v1/status", status: ok, user: "no-o", groups: "-", nginx: ok, nginxClient: "no-o"},
	{name: "a certificate without O: a client-sent X-Certgate-Groups never reaches the upstream", cert: "no-o", extra: [][2]string{{"X-Certgate-Groups", "admins"}}, method: "GET", target: "/api/v1/status", status: ok, user: "no-o", groups: "-", nginx: ok, nginxClient: "no-o"},
	{name: "a certificate without CN: a client-sent X-Certgate-User never reaches the upstream", cert: "no-cn", extra: [][2]string{{"X-Certgate-User", "admin"}}, method: "GET", target: "/api/v1/vm", status: ok, user: "-", groups: "viewers", nginx: ok, nginxClient: "no-cn"},
	{name: "client-sent identity headers in other cases are the same headers", cert: "no-o", extra: [][2]string{{"x-CERTGATE-groups", "admins"}, {"X-CERTGATE-USER", "admin"}, {"x-certgate-permission", "delete_node"}}, method: "GET", target: "/api/v1/status", status: ok, user: "no-o", groups: "-", nginx: ok, nginxClient: "no-o"},
	{name: "a client-sent X-Certgate-Anything is removed, or refused where it cannot be", cert: "no-o", extra: [][2]string{{"X-Certgate-Anything", "admin"}}, method: "GET", target: "/api/v1/status", status: ok, user: "no-o", groups: "-",
		// NGINX can only replace headers it names: certgate refuses
		// (400, which auth_request turns into 500).
		httpStatus: badReq, nginx: http.StatusInternalServerError, nginxClient: "no-o"},
	{name: "a client-sent x-CERTGATE-role is removed, or refused where it cannot be", cert: "viewer", extra: [][2]string{{"x-CERTGATE-role", "admin"}}, method: "GET", target: "/api/v1/vm", status: ok, user: "viewer", groups: "viewers",
		httpStatus: badReq, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	// A method override naming another method would make an upstream that
	// honours it run what was not decided: removed over gRPC, refused over
	// HTTP, where certgate cannot have the proxy remove it (400, which
	// auth_request turns into 500; ingress-nginx without snippets too).
	{name: "method override headers never reach the upstream", cert: "jenkins", extra: [][2]string{{"X-HTTP-Method-Override", "DELETE"}, {"X-HTTP-Method", "DELETE"}, {"X-Method-Override", "DELETE"}}, method: "POST", target: "/api/v1/vm", status: ok, user: "jenkins", groups: "ci",
		httpStatus: badReq, nginx: http.StatusInternalServerError, nginxClient: "jenkins"},
	{name: "method override headers in other cases never reach the upstream", cert: "jenkins", extra: [][2]string{{"x-http-method-override", "DELETE"}, {"X-Http-Method", "PUT"}, {"X-METHOD-OVERRIDE", "DELETE"}}, method: "POST", target: "/api/v1/vm", status: ok, user: "jenkins", groups: "ci",
		httpStatus: badReq, nginx: http.StatusInternalServerError, nginxClient: "jenkins"},
	{name: "a lower-case method override is the method it names", cert: "jenkins", extra: [][2]string{{"X-HTTP-Method-Override", "delete"}}, method: "POST", target: "/api/v1/vm", status: ok, user: "jenkins", groups: "ci",
		httpStatus: badReq, nginx: http.StatusInternalServerError, nginxClient: "jenkins"},
	{name: "a method override that repeats the method changes nothing", cert: "jenkins", extra: [][2]string{{"X-HTTP-Method-Override", "POST"}}, method: "POST", target: "/api/v1/vm", status: ok, user: "jenkins", groups: "ci", nginx: ok, nginxClient: "jenkins"},
	{name: "CR/LF in the CN cannot make a header of its own", cert: "crlf-cn", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer%0D%0Ax-injected: 1", groups: "viewers", nginx: ok, nginxClient: "crlf-cn"},
	{name: "a NUL in the CN is percent-encoded", cert: "nul-cn", method: "GET", target: "/api/v1/vm", status: ok, user: "viewer%00admin", groups: "viewers", nginx: ok, nginxClient: "nul-cn"},
	{name: "a space at the end of the CN is kept", cert: "space-cn", method: "GET", target: "/api/v1/vm", status: ok, user: "admin%20", groups: "viewers", nginx: ok, nginxClient: "space-cn"},
	{name: "CR/LF in an O cannot make a header of its own", cert: "crlf-o", method: "GET", target: "/api/v1/vm", status: ok, user: "crlf-o", groups: "viewers%0D%0Ax-injected: 1,viewers", nginx: ok, nginxClient: "crlf-o"},
	{name: "a NUL in an O is percent-encoded", cert: "nul-o", method: "GET", target: "/api/v1/vm", status: ok, user: "nul-o", groups: "admins%00,viewers", nginx: ok, nginxClient: "nul-o"},
	{name: "a UTF-8 O, a comma and a leading space in an O are percent-encoded", cert: "utf8-o", method: "GET", target: "/api/v1/vm", status: ok, user: "utf8-o", groups: "Jos%C3%A9%2C Ltd,%20admins,viewers", nginx: ok, nginxClient: "utf8-o"},

	// Ambiguous identities (Security II, item 2): a certificate names at
	// most one user and one SPIFFE ID; jenkins' user entry grants
	// registry_distribute, the viewers group may list VMs.
	{name: "a second CN naming jenkins is refused", cert: "two-cns", method: "POST", target: "/api/v1/registry/vm/distribute", status: unauth, nginx: unauth, nginxClient: "two-cns"},
	{name: "two CNs are refused even where the group alone would do", cert: "two-cns-and-a-group", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "two-cns-and-a-group"},
	{name: "two CNs in one multi-valued RDN are refused", cert: "two-cns-in-one-rdn", method: "POST", target: "/api/v1/registry/vm/distribute", status: unauth, nginx: unauth, nginxClient: "two-cns-in-one-rdn"},
	{name: "a CN sharing an RDN with an O is refused", cert: "cn-beside-an-o", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "cn-beside-an-o"},
	{name: "a second CN as a BMPString is refused", cert: "second-cn-as-bmp", method: "POST", target: "/api/v1/registry/vm/distribute", status: unauth, nginx: unauth, nginxClient: "second-cn-as-bmp"},
	{name: "two SPIFFE URI SANs are refused", cert: "two-spiffe-ids", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "two-spiffe-ids"},
	{name: "a certificate without a CN gets its groups' grants", cert: "no-cn", method: "GET", target: "/api/v1/vm", status: ok, user: "", nginx: ok, nginxClient: "no-cn"},
	{name: "a certificate without a CN gets no user's grants", cert: "no-cn", method: "POST", target: "/api/v1/registry/vm/distribute", status: forbidden, nginx: forbidden, nginxClient: "no-cn"},

	// Name constraints and identity (Security II, item 3): the constrained
	// CA's binding allows users good and team-*, and the group viewers.
	{name: "a name-constrained CA cannot make an admin", cert: "constrained-admin", method: "DELETE", target: "/api/v1/node", status: unauth, nginx: unauth, nginxClient: "constrained-admin"},
	{name: "a name-constrained CA cannot add a group it is not bound to", cert: "constrained-extra-group", method: "GET", target: "/api/v1/vm", status: unauth, nginx: unauth, nginxClient: "constrained-extra-group"},
	{name: "a name-constrained CA cannot name another team's user", cert: "constrained-jenkins", method: "POST", target: "/api/v1/registry/vm/distribute", status: unauth, nginx: unauth, nginxClient: "constrained-jenkins"},
	{name: "a name-constrained CA's own users and groups are accepted", cert: "constrained-team-user", method: "GET", target: "/api/v1/vm", status: ok, user: "team-bob", nginx: ok, nginxClient: "constrained-team-user"},

	// Secrets in logs (Security II, item 7): query values are decided on
	// but the decision log keeps only the keys.
	{name: "a token in the query is not logged", cert: "viewer", method: "GET", target: "/api/v1/vm?token=" + querySecret + "&page=2", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},
	{name: "a token in the query of a denial is not logged", cert: "viewer", method: "DELETE", target: "/api/v1/node?access_token=" + querySecret, status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "a token as a bare encoded value is not logged", cert: "viewer", method: "GET", target: "/api/v1/vm?sig=" + querySecret + "%26x", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},
	{name: "a token in the query of an unauthenticated request is not logged", method: "GET", target: "/api/v1/vm?token=" + querySecret, status: unauth, nginx: unauth},
	{name: "a token in a refused check target is not logged", cert: "viewer", checkTarget: "/v1/%63heck?token=" + querySecret, method: "GET", target: "/api/v1/vm", status: ok, user: "viewer", httpStatus: badReq},

	// Path tricks, as the viewer.
	{name: "an encoded dot-dot is resolved", cert: "viewer", method: "GET", target: "/api/v1/vm/%2e%2e/node", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},
	{name: "an encoded dot-dot cannot reach a forbidden route", cert: "viewer", method: "DELETE", target: "/api/v1/vm/%2E%2E/node", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "an encoded dot-dot above the root is refused", cert: "viewer", method: "GET", target: "/%2e%2e/api/v1/vm", status: badReq, nginx: badReq, nginxClient: "viewer"},
	{name: "a double-encoded dot-dot stays literal", cert: "viewer", method: "GET", target: "/api/v1/%252e%252e/vm", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "a backslash is refused", cert: "viewer", method: "GET", target: "/api/v1\\vm", status: badReq},
	{name: "an encoded backslash is refused", cert: "viewer", method: "GET", target: "/api/v1/%5Cvm", status: badReq, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "an encoded lower-case slash is refused", cert: "viewer", method: "GET", target: "/api/v1%2fvm", status: badReq, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a trailing slash is another route", cert: "viewer", method: "GET", target: "/api/v1/vm/", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "a trailing dot segment keeps the slash", cert: "viewer", method: "GET", target: "/api/v1/vm/.", status: forbidden},
	{name: "paths are case-sensitive", cert: "viewer", method: "GET", target: "/API/V1/VM", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "a '?' ends the path", cert: "viewer", method: "GET", target: "/api/v1/vm?/../node", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},
	{name: "an encoded '?' is part of the path", cert: "viewer", method: "GET", target: "/api/v1/vm%3F", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "an absolute-form target is refused", cert: "viewer", method: "GET", target: "https://anka.example/api/v1/vm", status: badReq},
	{name: "an asterisk target is refused", cert: "viewer", method: "OPTIONS", target: "*", status: badReq},
	{name: "an overlong path is refused", cert: "viewer", method: "GET", target: longPath, status: badReq, nginx: http.StatusRequestURITooLong, nginxClient: "viewer"},
	{name: "an encoded NUL is refused", cert: "viewer", method: "GET", target: "/api/v1/vm%00", status: badReq, nginx: badReq, nginxClient: "viewer"},
	{name: "an overlong UTF-8 dot stays encoded", cert: "viewer", method: "GET", target: "/api/v1/vm/%C0%AE%C0%AE/node", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "repeated slashes are merged", cert: "viewer", method: "GET", target: "//api//v1//vm", status: ok, user: "viewer", nginx: ok, nginxClient: "viewer"},

	// '#' in the target: NGINX ends the path (and the query) there, so the
	// policy must not read past it. Refused, never forwarded (SECURITY.md,
	// "Path rules"). NGINX turns certgate's 400 into 500.
	{name: "a '#' before dot-dot is refused", cert: "viewer", method: "GET", target: "/api/v1/config#/../logs/x", status: badReq, rule: "'#' at byte 14",
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a '#' cannot make a PUT on the config an update_vm", cert: "jenkins", method: "PUT", target: "/api/v1/config#/../vm", status: badReq, rule: "'#' at byte 14",
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "jenkins"},
	{name: "a '#' in the query is refused", cert: "viewer", method: "GET", target: "/api/v1/vm?x=1#/../../logs", status: badReq, rule: "'#' at byte 14",
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a '#' alone at the end is refused", cert: "viewer", method: "GET", target: "/api/v1/vm#", status: badReq, rule: "'#' at byte 10",
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "an encoded '#' is data inside its segment", cert: "viewer", method: "GET", target: "/api/v1/logs/a%23b", status: ok, user: "viewer",
		everyForm: true, nginx: ok, nginxClient: "viewer"},
	{name: "an encoded '#' cannot reach a route outside its segment's", cert: "viewer", method: "GET", target: "/api/v1/vm%23/../../logs/x", status: forbidden,
		everyForm: true, nginx: forbidden, nginxClient: "viewer"},
	{name: "a '#' in the authority of X-Original-URL is refused", cert: "viewer", method: "GET", target: "/api/v1/vm", originalURL: "https://anka.example#/api/v1/logs/x",
		// gRPC has no X-Original-URL: it decides the target.
		status: ok, user: "viewer", httpStatus: badReq, rule: "'#' at byte 1"},

	// ';' in the path: Tomcat, Jetty and Spring cut ";…" off each segment
	// before they route, NGINX and the policy do not. Refused, never
	// forwarded.
	{name: "a dot-dot behind ;parameters is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/..;/config", status: badReq, rule: `dot-segment "..;"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a dot behind ;parameters is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/.;/x", status: badReq, rule: `dot-segment ".;"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a dot-dot behind a session id is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/..;jsessionid=1/config", status: badReq, rule: `dot-segment "..;jsessionid=1"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "an encoded dot-dot behind ;parameters is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/%2e%2e;/config", status: badReq, rule: `dot-segment "..;"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "mixed-case encoded dots behind ;parameters are refused", cert: "viewer", method: "GET", target: "/api/v1/logs/.%2E;x/config", status: badReq, rule: `dot-segment "..;x"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a dot-dot before an encoded ';' is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/..%3b/config", status: badReq, rule: `dot-segment "..%3B"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a ;param on the last segment is refused", cert: "viewer", method: "GET", target: "/api/v1/vm;jsessionid=1", status: badReq, rule: `';' in segment "vm;jsessionid=1"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a ;param in a middle segment is refused", cert: "viewer", method: "GET", target: "/api/v1/logs;x=1/controller", status: badReq, rule: `';' in segment "logs;x=1"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a ;param segment before dot-dot is refused", cert: "viewer", method: "GET", target: "/api/v1/vm;x/../node", status: badReq, rule: `';' in segment "vm;x"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "an encoded ';' in a segment is refused", cert: "viewer", method: "GET", target: "/api/v1/logs/a%3Bb", status: badReq, rule: `encoded ';' in segment "a%3Bb"`,
		everyForm: true, nginx: http.StatusInternalServerError, nginxClient: "viewer"},
	{name: "a ';' in the query is the query's", cert: "viewer", method: "GET", target: "/api/v1/vm?a=1;b=2", status: ok, user: "viewer",
		everyForm: true, nginx: ok, nginxClient: "viewer"},

	// Method tricks, as the viewer on a route it may GET.
	{name: "a lower-case method matches no route", cert: "viewer", method: "get", target: "/api/v1/vm", status: forbidden, nginx: badReq, nginxClient: "viewer"},
	{name: "a mixed-case method matches no route", cert: "viewer", method: "Get", target: "/api/v1/vm", status: forbidden, nginx: badReq, nginxClient: "viewer"},
	{name: "CONNECT matches no route", cert: "viewer", method: "CONNECT", target: "/api/v1/vm", status: forbidden, nginx: http.StatusMethodNotAllowed, nginxClient: "viewer"},
	{name: "an unknown method matches no route", cert: "viewer", method: "FROBNICATE", target: "/api/v1/vm", status: forbidden, nginx: forbidden, nginxClient: "viewer"},
	{name: "HEAD is not GET", cert: "viewer", method: "HEAD", target: "/api/v1/vm", status: forbidden},
	{name: "TRACE matches no route", cert: "viewer", method: "TRACE", target: "/api/v1/vm", status: forbidden, nginx: http.StatusMethodNotAllowed, nginxClient: "viewer"},
	{name: "an overlong method matches no route", cert: "viewer", method: strings.Repeat("G", 300), target: "/api/v1/vm", status: forbidden},
}
