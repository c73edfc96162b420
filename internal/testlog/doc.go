// Package testlog holds what tests use to read what a running component
// logs or prints: a Buffer that goroutines may write while the test reads
// it. It is for tests only; nothing outside _test.go files imports it.
package testlog
