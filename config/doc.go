// Package config is certgate's configuration: the YAML file schema, its
// defaults, CERTGATE_* environment overrides and validation. It holds plain
// values only; runtime objects (listeners, TLS configs) are built from it by
// the caller.
package config
