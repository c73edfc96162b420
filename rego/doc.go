// Package rego holds certgate's shipped Rego policy: authz.rego (the request
// decision, data.certgate.authz.decision) and admin.rego (who may call the
// admin API over TLS, data.certgate.admin.allow), their example data
// (data.json, modelled on the Anka Build Cloud controller and registry) and
// their tests (authz_test.rego and admin_test.rego, run by stock
// `opa test rego/`).
//
// The package only embeds the files; loading and evaluating them is the job of
// package policy.
package rego
