package timespec

import (
	"testing"
	"time"
)

func TestParseReentry(t *testing.T) {
	tests := []struct {
		s        string
		want     Reentry
		str      string
		describe string
	}{
		{"never", Reentry{}, "never", "a customer enters at most once"},
		{"always", Reentry{Kind: ReentryAlways}, "always",
			"a customer can enter again once their previous instance has ended"},
		{"after 30d", Reentry{ReentryAfter, 30 * day}, "after 30d",
			"a customer can enter again 30 days after their previous instance ended"},
		{"after 1w 12h", Reentry{ReentryAfter, week + 12*time.Hour}, "after 7d 12h",
			"a customer can enter again 7 days and 12 hours after their previous instance ended"},
		{"Never", Reentry{}, "never", "a customer enters at most once"},
		{"AFTER 2h", Reentry{ReentryAfter, 2 * time.Hour}, "after 2h",
			"a customer can enter again 2 hours after their previous instance ended"},
	}
	for _, tt := range tests {
		got, err := ParseReentry(tt.s)
		if err != nil {
			t.Errorf("ParseReentry(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseReentry(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseReentry(%q).String() = %q, want %q", tt.s, s, tt.str)
		}
		if d := got.Describe(); d != tt.describe {
			t.Errorf("ParseReentry(%q).Describe() = %q, want %q", tt.s, d, tt.describe)
		}
		if again, err := ParseReentry(got.String()); err != nil || again != got {
			t.Errorf("ParseReentry(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseReentryErrors(t *testing.T) {
	const use = `use "never", "always" or "after 30d"`
	tests := []errorCase{
		{"", 0, 0, `empty re-entry rule: write "never", "always" or "after 30d"`},
		{"nevr", 0, 4, `unknown re-entry rule "nevr": ` + use + ` (did you mean "never"?)`},
		{"alwyas", 0, 6, `unknown re-entry rule "alwyas": ` + use + ` (did you mean "always"?)`},
		{"sometimes", 0, 9, `unknown re-entry rule "sometimes": ` + use},
		{"after", 0, 5, `"after" needs a duration, as in "after 30d"`},
		{"30d", 0, 3, `missing "after" before "30d": write "after 30d"`},
		{"never 3d", 6, 8, `"never" takes no duration: write "never" alone, or "after 3d" to let customers back in after a wait`},
		{"always 1w", 7, 9, `"always" takes no duration: write "always" alone, or "after 1w" to let customers back in after a wait`},
		{"after30d", 0, 8, `write a space between "after" and "30d"`},
		{"after 2 days", 8, 12, `unknown unit "days": use s, m, h, d or w (did you mean "d", for days?)`},
		{"after -3d", 6, 9, `a duration cannot be negative`},
		{"after 30d!", 9, 10, `unexpected "!": write "never", "always" or "after 30d"`},
	}
	for _, tt := range tests {
		_, err := ParseReentry(tt.s)
		checkError(t, err, tt)
	}
}

func TestReentryKindString(t *testing.T) {
	for k, want := range map[ReentryKind]string{
		ReentryNever: "never", ReentryAlways: "always", ReentryAfter: "after", 7: "ReentryKind(7)",
	} {
		if got := k.String(); got != want {
			t.Errorf("ReentryKind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
