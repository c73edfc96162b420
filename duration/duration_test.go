package duration_test

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/certgate/certgate/duration"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"days are 24 hours", "8d", 8 * 24 * time.Hour},
		{"weeks, days and hours add up", "1w2d3h", (9*24 + 3) * time.Hour},
		{"Go's units still work", "48h30m15s", 48*time.Hour + 30*time.Minute + 15*time.Second},
		{"sub-second units still work", "1.5ms", 1500 * time.Microsecond},
		{"a fraction of a day is hours", "1.5d", 36 * time.Hour},
		{"zero needs no unit", "0", 0},
		{"a sign applies to the whole", "-1d12h", -36 * time.Hour},
		{"what pki prints reads back", "6d23h55m", 6*24*time.Hour + 23*time.Hour + 55*time.Minute},
		{"the micro sign is a unit", "3µs", 3 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := duration.Parse(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"the empty string":           "",
		"a number without a unit":    "5",
		"an unknown unit":            "3y",
		"a unit without a number":    "d",
		"a dot without digits":       ".d",
		"a sign inside":              "1h-5m",
		"a day count that overflows": "200000d",
		"a sum that overflows":       "100000d100000d",
		"spaces":                     "1d 2h",
	} {
		t.Run(name, func(t *testing.T) {
			if d, err := duration.Parse(in); !errors.Is(err, duration.ErrSyntax) && !errors.Is(err, duration.ErrRange) {
				t.Errorf("Parse(%q) = %v, %v; want an error", in, d, err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"below a second as Go writes it", 500 * time.Millisecond, "500ms"},
		{"below an hour to the second", 4*time.Minute + 5*time.Second + 300*time.Millisecond, "4m5s"},
		{"whole minutes drop the seconds", 5 * time.Minute, "5m"},
		{"from an hour on to the minute", 23*time.Hour + 55*time.Minute + 40*time.Second, "23h56m"},
		{"days for long ones", 86159*time.Hour + 58*time.Minute + 50*time.Second, "3589d23h59m"},
		{"a CRL with a week less five minutes", 7*24*time.Hour - 5*time.Minute, "6d23h55m"},
		{"zero units at the end are left out", 48 * time.Hour, "2d"},
		{"a zero unit in the middle stays", 24*time.Hour + 5*time.Minute, "1d0h5m"},
		{"rounding carries into the next unit", time.Hour - 200*time.Millisecond, "1h"},
		{"negative", -36 * time.Hour, "-1d12h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := duration.Format(tt.in); got != tt.want {
				t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDurationIsAFlagValue(t *testing.T) {
	min := 48 * time.Hour
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var((*duration.Duration)(&min), "min", "")
	if err := fs.Parse([]string{"--min", "8d"}); err != nil || min != 8*24*time.Hour {
		t.Errorf("--min 8d: %v, %v", min, err)
	}
	if err := fs.Parse([]string{"--min", "8days"}); err == nil {
		t.Error("--min 8days was accepted")
	}
}

func TestDurationReadsText(t *testing.T) {
	var d duration.Duration
	if err := d.UnmarshalText([]byte("2w")); err != nil || time.Duration(d) != 14*24*time.Hour {
		t.Errorf("UnmarshalText(2w) = %v, %v", d, err)
	}
	if text, _ := d.MarshalText(); string(text) != "14d" {
		t.Errorf("MarshalText = %q, want 14d", text)
	}
}

// FuzzParse checks that Parse never panics, reads everything
// time.ParseDuration reads the same way, and reads back what Format writes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"8d", "1w2d3h", "1.5ms", "-0", "6d23h55m", "µs", "9223372036854775807ns", "1.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := duration.Parse(s)
		if want, goErr := time.ParseDuration(s); goErr == nil && (err != nil || d != want) {
			t.Fatalf("Parse(%q) = %v, %v; time.ParseDuration says %v", s, d, err, want)
		}
		if err != nil {
			return
		}
		back, err := duration.Parse(duration.Format(d))
		if err != nil {
			t.Fatalf("Parse(Format(%v) = %q): %v", d, duration.Format(d), err)
		}
		if diff := (back - d).Abs(); diff > 30*time.Second {
			t.Fatalf("Parse(Format(%v)) = %v", d, back)
		}
	})
}
