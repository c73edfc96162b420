package duration

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Day and Week are the units Parse adds to Go's.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("want a duration such as 90s, 15m, 48h, 8d or 1w2d3h (units ns, us, ms, s, m, h, d, w)")

// Parse reads a duration: an optional sign, then one or more decimal
// numbers each with a unit — ns, us (or µs), ms, s, m, h as in
// time.ParseDuration, and d (24h) and w (7d). "0" needs no unit. Calendar
// days are not meant: a day is always 24 hours.
func Parse(s string) (time.Duration, error) {
	rest, neg := s, false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg, rest = rest[0] == '-', rest[1:]
	}
	if rest == "0" {
		return 0, nil
	}
	if rest == "" {
		return 0, fmt.Errorf("duration %q: %w", s, ErrSyntax)
	}
	var total time.Duration
	for rest != "" {
		num, unit, tail := segment(rest)
		rest = tail
		d, err := segmentValue(num, unit)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		if total > math.MaxInt64-d {
			return 0, fmt.Errorf("duration %q: %w", s, ErrRange)
		}
		total += d
	}
	if neg {
		total = -total
	}
	return total, nil
}

// ErrRange is wrapped by the errors of Parse for a duration past what a
// time.Duration holds, about 292 years.
var ErrRange = errors.New("too long (at most about 106751d)")

// segment splits the leading number and unit off s.
func segment(s string) (num, unit, rest string) {
	i := 0
	for i < len(s) && (s[i] == '.' || '0' <= s[i] && s[i] <= '9') {
		i++
	}
	j := i
	for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
		j++
	}
	return s[:i], s[i:j], s[j:]
}

// segmentValue is one number-and-unit; days and weeks go through hours so
// that fractions ("1.5d") work as time.ParseDuration's do.
func segmentValue(num, unit string) (time.Duration, error) {
	if num == "" || strings.Trim(num, ".") == "" {
		return 0, fmt.Errorf("expected a number before %q: %w", unit, ErrSyntax)
	}
	if unit == "" {
		return 0, fmt.Errorf("%s has no unit: %w", num, ErrSyntax)
	}
	scale := int64(1)
	switch unit {
	case "d":
		unit, scale = "h", 24
	case "w":
		unit, scale = "h", 7*24
	case "ns", "us", "µs", "μs", "ms", "s", "m", "h":
	default:
		return 0, fmt.Errorf("unknown unit %q: %w", unit, ErrSyntax)
	}
	d, err := time.ParseDuration(num + unit)
	if err != nil {
		return 0, fmt.Errorf("%s%s is not a number or too long: %w", num, unit, ErrSyntax)
	}
	if int64(d) > math.MaxInt64/scale {
		return 0, ErrRange
	}
	return d * time.Duration(scale), nil
}

// Format writes d for people, in a form Parse reads back: below a second
// as Go does ("500ms"), below an hour to the second ("4m5s"), and from an
// hour on to the minute, with days ("23h55m", "6d23h55m", "3589d23h58m").
// Zero units at the end are left out ("2d", "1h", "5m").
func Format(d time.Duration) string {
	if d < 0 {
		return "-" + Format(-max(d, -math.MaxInt64))
	}
	if d < time.Second {
		return d.String()
	}
	r := d.Round(time.Second)
	if r >= time.Hour {
		r = d.Round(time.Minute)
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if r == 0 {
			break
		}
		n := r / u.unit
		r -= n * u.unit
		if n > 0 || b.Len() > 0 && r > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
	}
	return b.String()
}
