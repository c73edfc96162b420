package duration

import "time"

// Duration is a time.Duration that reads and writes itself with Parse and
// Format: as a flag.Value (fs.Var((*duration.Duration)(&d), …)) and as a
// YAML or JSON scalar through encoding.TextUnmarshaler.
type Duration time.Duration

// Set parses s as the flag's value.
func (d *Duration) Set(s string) error {
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String formats the duration with Format.
func (d Duration) String() string { return Format(time.Duration(d)) }

// UnmarshalText parses text with Parse.
func (d *Duration) UnmarshalText(text []byte) error { return d.Set(string(text)) }

// MarshalText formats the duration with Format.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
