package rego

import "embed"

// Default is the shipped policy and its example data, the policy certgate
// serves when no policy directory is configured. The files are listed by name
// so that the _test.rego files never reach a running service.
//
//go:embed authz.rego admin.rego data.json
var Default embed.FS
