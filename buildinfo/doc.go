// Package buildinfo says which certgate a binary is: module version, VCS
// revision and commit time, and Go version, as the Go toolchain recorded
// them. `certgate version`, `certgate status` and the certgate_build_info
// metric all read it, so they never disagree. It records nothing itself.
package buildinfo
