// Package rego holds certgate's shipped Rego policy (authz.rego), its example
// data (data.json, modelled on the Anka Build Cloud controller and registry) and
// their tests (authz_test.rego, run by stock `opa test rego/`).
//
// The package only embeds the files; loading and evaluating them is the job of
// package policy.
package rego
