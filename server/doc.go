// Package server answers proxies: the Envoy ext_authz v3 gRPC service and the
// NGINX auth_request HTTP endpoint are thin adapters over one Checker, which
// runs the pipeline identity → trust → policy on the current snapshot and logs
// every decision. It owns no parsing or verification logic of its own beyond
// request path normalization.
package server
