package timespec

import (
	"testing"
	"time"
)

func TestParseCap(t *testing.T) {
	tests := []struct {
		s        string
		want     Cap
		str      string
		describe string
	}{
		{"3 per 7d", Cap{3, 7 * day}, "3 per 7d", "at most 3 sends in any 7 days"},
		{"1 per 1d", Cap{1, day}, "1 per 1d", "at most 1 send in any 1 day"},
		{"1 per 1w 2d", Cap{1, 9 * day}, "1 per 9d", "at most 1 send in any 9 days"},
		{"2 per 36h", Cap{2, 36 * time.Hour}, "2 per 1d 12h", "at most 2 sends in any 1 day and 12 hours"},
		{"5 PER 1w", Cap{5, week}, "5 per 7d", "at most 5 sends in any 7 days"},
		{"10   per   30m", Cap{10, 30 * time.Minute}, "10 per 30m", "at most 10 sends in any 30 minutes"},
	}
	for _, tt := range tests {
		got, err := ParseCap(tt.s)
		if err != nil {
			t.Errorf("ParseCap(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseCap(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseCap(%q).String() = %q, want %q", tt.s, s, tt.str)
		}
		if d := got.Describe(); d != tt.describe {
			t.Errorf("ParseCap(%q).Describe() = %q, want %q", tt.s, d, tt.describe)
		}
		if again, err := ParseCap(got.String()); err != nil || again != got {
			t.Errorf("ParseCap(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseCapErrors(t *testing.T) {
	tests := []errorCase{
		{"", 0, 0, `empty frequency cap: write a cap like "3 per 7d"`},
		{"0 per 7d", 0, 1, `the count must be at least 1`},
		{"1.5 per 7d", 0, 3, `the count must be a whole number, as in "3 per 7d"`},
		{"1000001 per 1d", 0, 7, `the count can be at most 1000000`},
		{"99999999999999999999 per 1d", 0, 20, `the count can be at most 1000000`},
		{"3", 0, 1, `missing "per" and a duration after "3", as in "3 per 7d"`},
		{"3 per", 2, 5, `missing the duration after "per", as in "3 per 7d"`},
		{"per 7d", 0, 6, `a cap starts with a count, as in "3 per 7d"`},
		{"3 7d", 0, 4, `missing "per" between "3" and "7d"`},
		{"7d", 0, 2, `a cap is a count and a duration, as in "3 per 7d"`},
		{"3 pr 7d", 2, 4, `expected "per" after the count, not "pr": write a cap as in "3 per 7d"`},
		{"3per 7d", 0, 4, `write a space between "3" and "per"`},
		{"3 per7d", 2, 7, `write a space between "per" and "7d"`},
		{"3 per week", 6, 10, `missing a number before "week", as in "1w"`},
		{"3 per 7 days", 8, 12, `unknown unit "days": use s, m, h, d or w (did you mean "d", for days?)`},
		{"3 per 0d", 6, 8, `a duration must be longer than zero`},
		{"3/7d", 1, 2, `unexpected "/": write a cap like "3 per 7d"`},
		{"3 per 7d ", 8, 9, `space at the end of the frequency cap: remove it`},
	}
	for _, tt := range tests {
		_, err := ParseCap(tt.s)
		checkError(t, err, tt)
	}
}
