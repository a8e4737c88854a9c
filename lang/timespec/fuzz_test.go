package timespec

import (
	"testing"
	"time"
)

// The fuzz targets check, for any input, that parsing does not panic, that an
// error is an *Error whose offsets lie inside the input, and that a value that
// parses is written back by String in a form that parses to the same value.

var durationSeeds = []string{
	"45s", "30m", "36h", "2d", "1w", "1w 2d 3h", "1w 2d 3h 4m 5s", "1w  2d",
	"", " ", "2y", "1h30m", "2 d", "-2d", "+2d", "1.5h", "0s", "3h 1d", "1d 2d", "36501d",
	"99999999999999999999s", "2d,", "\t", "\xff", "d", "30", "Mon", "21:00", "per",
}

var windowSeeds = []string{
	"21:00-08:00", "Mon-Fri 09:00-18:00", "Sat,Sun 10:00-16:00", "Mon,Wed-Fri 09:00-17:00",
	"Fri 22:00-02:00", "Fri-Mon 00:00-24:00", "sat, sun 10:00 - 16:00",
	"", "Tues 09:00-10:00", "Mon-Fri", "21:00", "-08:00", "9:00-17:00", "25:00-08:00",
	"24:00-08:00", "09:00-09:00", "Mon,,Tue 09:00-10:00", "9am-5pm", "Mon- 09:00-10:00",
}

var capSeeds = []string{
	"3 per 7d", "1 per 1d", "1 per 1w 2d", "", "0 per 7d", "3", "per 7d", "3 7d", "7d",
	"3 pr 7d", "3per 7d", "3 per week", "3/7d", "1000001 per 1d",
}

var reentrySeeds = []string{
	"never", "always", "after 30d", "after 1w 2d", "", "after", "30d", "never 3d", "nevr",
	"after30d", "after -3d", "ALWAYS",
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range durationSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		checkErrorShape(t, s, err)
		if err != nil {
			return
		}
		if d <= 0 || d > maxDuration {
			t.Fatalf("ParseDuration(%q) = %v, out of range", s, d)
		}
		if again, err := ParseDuration(FormatDuration(d)); err != nil || again != d {
			t.Fatalf("ParseDuration(%q) = %v, but ParseDuration(%q) = %v, %v", s, d, FormatDuration(d), again, err)
		}
		_ = DescribeDuration(d)
	})
}

func FuzzParseWindow(f *testing.F) {
	for _, s := range windowSeeds {
		f.Add(s)
	}
	from := time.Date(2026, 3, 7, 22, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		checkErrorShape(t, s, err)
		if err != nil {
			return
		}
		if again, err := ParseWindow(w.String()); err != nil || again != w {
			t.Fatalf("ParseWindow(%q) = %+v, but ParseWindow(%q) = %+v, %v", s, w, w.String(), again, err)
		}
		_ = w.Describe()
		// A parsed window opens and closes, unless it is open all the time.
		start := w.NextStart(from)
		if start.IsZero() || !w.Contains(start) {
			t.Fatalf("%q.NextStart(%v) = %v, which the window does not contain", s, from, start)
		}
		if end := w.NextEnd(start); !end.IsZero() && (w.Contains(end) || end.Before(start)) {
			t.Fatalf("%q.NextEnd(%v) = %v, which the window contains", s, start, end)
		}
	})
}

func FuzzParseCap(f *testing.F) {
	for _, s := range capSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCap(s)
		checkErrorShape(t, s, err)
		if err != nil {
			return
		}
		if again, err := ParseCap(c.String()); err != nil || again != c {
			t.Fatalf("ParseCap(%q) = %+v, but ParseCap(%q) = %+v, %v", s, c, c.String(), again, err)
		}
		_ = c.Describe()
	})
}

func FuzzParseReentry(f *testing.F) {
	for _, s := range reentrySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReentry(s)
		checkErrorShape(t, s, err)
		if err != nil {
			return
		}
		if again, err := ParseReentry(r.String()); err != nil || again != r {
			t.Fatalf("ParseReentry(%q) = %+v, but ParseReentry(%q) = %+v, %v", s, r, r.String(), again, err)
		}
		_ = r.Describe()
	})
}

// TestParseAnyKind feeds every seed to every parser, so that each is tried on
// the other kinds' strings even when the fuzzers do not run.
func TestParseAnyKind(t *testing.T) {
	var all []string
	for _, seeds := range [][]string{durationSeeds, windowSeeds, capSeeds, reentrySeeds} {
		all = append(all, seeds...)
	}
	for _, s := range all {
		_, err := ParseDuration(s)
		checkErrorShape(t, s, err)
		_, err = ParseWindow(s)
		checkErrorShape(t, s, err)
		_, err = ParseCap(s)
		checkErrorShape(t, s, err)
		_, err = ParseReentry(s)
		checkErrorShape(t, s, err)
	}
}
