// Package duration reads and writes the durations people type and read:
// Go's time.ParseDuration syntax plus days ("d", 24h) and weeks ("w", 7d),
// as in "8d" or "1w2d3h", and a compact form in days for long ones
// ("3589d23h58m"). Every flag and config key that takes a duration reads it
// here, and every command that prints one writes it here.
package duration
