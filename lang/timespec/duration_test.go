package timespec

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		s    string
		want time.Duration
	}{
		{"45s", 45 * time.Second},
		{"30m", 30 * time.Minute},
		{"36h", 36 * time.Hour},
		{"2d", 2 * day},
		{"1w", week},
		{"1w 2d 3h", week + 2*day + 3*time.Hour},
		{"1w 2d 3h 4m 5s", week + 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"1w   2d", week + 2*day},
		{"1d 30m", day + 30*time.Minute},
		{"90m", 90 * time.Minute},
		{"007s", 7 * time.Second},
		{"1d 0h", day},
		{"36500d", maxDuration},
		{"5214w 2d", maxDuration},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.s)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []errorCase{
		{"", 0, 0, `empty duration: write a duration like "2d" or "1w 2d 3h"`},
		{"2y", 1, 2, `unknown unit "y": use s, m, h, d or w (months and years vary in length: count days instead, as in "30d")`},
		{"1w 2x", 4, 5, `unknown unit "x": use s, m, h, d or w`},
		{"2D", 1, 2, `unknown unit "D": use s, m, h, d or w (did you mean "d", for days?)`},
		{"3 days", 2, 6, `unknown unit "days": use s, m, h, d or w (did you mean "d", for days?)`},
		{"500ms", 3, 5, `unknown unit "ms": use s, m, h, d or w (the smallest unit is s)`},
		{"30", 0, 2, `"30" needs a unit: s, m, h, d or w`},
		{"1d 12", 3, 5, `"12" needs a unit: s, m, h, d or w`},
		{"week", 0, 4, `missing a number before "week", as in "1w"`},
		{"2 d", 0, 3, `write the unit right after the number, as in "2d"`},
		{"1h30m", 0, 5, `write a space between "1h" and "30m"`},
		{"1w 2d3h", 3, 7, `write a space between "2d" and "3h"`},
		{"3h 1d", 3, 5, `"1d" must come before "3h": write larger units first, as in "1d 3h"`},
		{"1d 2d", 3, 5, `unit "d" appears twice: write each unit once, as in "3d"`},
		{"-2d", 0, 3, `a duration cannot be negative`},
		{"+2d", 0, 1, `remove the "+": a duration has no sign`},
		{"1.5h", 0, 4, `"1.5h" has a fraction: use whole numbers, as in "1h 30m"`},
		{"0.1h", 0, 4, `"0.1h" has a fraction: use whole numbers, as in "6m"`},
		{"1.5s", 0, 4, `"1.5s" has a fraction: use whole numbers`},
		{"0.0000000000000000000000000000000000000000000000000000000000000000001h", 0, 70,
			`"0.00000000000000000000000000000000000"... has a fraction: use whole numbers`},
		{strings.Repeat("1d ", 100) + "1d", 0, 302, `too long for a duration (302 bytes, at most 256): write a duration like "2d" or "1w 2d 3h"`},
		{"0s", 0, 2, `a duration must be longer than zero`},
		{"0d 0h", 0, 5, `a duration must be longer than zero`},
		{"36501d", 0, 6, `"36501d" is too long: a duration can be at most 36500d (about 100 years)`},
		{"36500d 36500d 36500d", 7, 13, `unit "d" appears twice: write each unit once`},
		{"36500d 1s", 0, 9, `"36500d 1s" is too long: a duration can be at most 36500d (about 100 years)`},
		{"99999999999999999999s", 0, 21, `"99999999999999999999s" is too long: a duration can be at most 36500d (about 100 years)`},
		{" 2d", 0, 1, `space at the start of the duration: remove it`},
		{"2d  ", 2, 4, `space at the end of the duration: remove it`},
		{"2d!", 2, 3, `unexpected "!": write a duration like "2d" or "1w 2d 3h"`},
		{"2d, 3h", 2, 3, `unexpected ",": write a duration like "2d" or "1w 2d 3h"`},
		{"2d\t3h", 2, 3, `unexpected "\t": write a duration like "2d" or "1w 2d 3h"`},
		{"2d -", 3, 4, `unexpected end after "-": write a duration like "2d" or "1w 2d 3h"`},
		{"\xff", 0, 1, `unexpected "\xff": write a duration like "2d" or "1w 2d 3h"`},
	}
	for _, tt := range tests {
		_, err := ParseDuration(tt.s)
		checkError(t, err, tt)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{2 * day, "2d"},
		{week + 2*day + 3*time.Hour, "1w 2d 3h"},
		{30 * day, "4w 2d"},
		{90 * time.Minute, "1h 30m"},
		{day + time.Second, "1d 1s"},
		{0, "0s"},
		{1500 * time.Millisecond, "1s"},
		{-2 * day, "-2d"},
		{time.Duration(-1 << 63), "-15250w 1d 23h 47m 16s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatDurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{
		time.Second, 59 * time.Second, time.Minute, time.Hour, day, week,
		week + 2*day + 3*time.Hour + 4*time.Minute + 5*time.Second, 30 * day, maxDuration,
	} {
		got, err := ParseDuration(FormatDuration(d))
		if err != nil || got != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, got, err)
		}
	}
}

func TestDescribeDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45 seconds"},
		{time.Minute, "1 minute"},
		{2 * day, "2 days"},
		{week + 2*day + 3*time.Hour, "1 week, 2 days and 3 hours"},
		{day + 30*time.Minute, "1 day and 30 minutes"},
		{0, "0 seconds"},
		{-time.Hour, "minus 1 hour"},
	}
	for _, tt := range tests {
		if got := DescribeDuration(tt.d); got != tt.want {
			t.Errorf("DescribeDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func BenchmarkParseDuration(b *testing.B) {
	for _, s := range []string{"2d", "1w 2d 3h 4m 5s"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseDuration(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
