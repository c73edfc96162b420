// Package nginx ships the NGINX snippets that put certgate in front of an
// app (auth_request), so that tools such as `certgate bench` run NGINX with
// exactly the configuration the project documents.
package nginx

import "embed"

// Snippets holds certgate.conf (the auth subrequest location, inside
// server {}), certgate-location.conf (inside each protected location) and
// certgate-upstream.conf (the certgate upstream, at http {} level).
//
//go:embed certgate.conf certgate-location.conf certgate-upstream.conf
var Snippets embed.FS
