package timespec

import (
	"fmt"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustWindow(t testing.TB, s string) Window {
	t.Helper()
	w, err := ParseWindow(s)
	if err != nil {
		t.Fatalf("ParseWindow(%q): %v", s, err)
	}
	return w
}

// instant parses an RFC 3339 time and moves it to loc, so that tests say the
// instant they mean, offset and all.
func instant(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at.In(loc)
}

func TestWindowContains(t *testing.T) {
	tests := []struct {
		window string
		zone   string
		at     string
		want   bool
	}{
		// Daily, wrapping midnight; half-open.
		{"21:00-08:00", "UTC", "2026-03-02T20:59:59Z", false},
		{"21:00-08:00", "UTC", "2026-03-02T21:00:00Z", true},
		{"21:00-08:00", "UTC", "2026-03-02T23:59:59Z", true},
		{"21:00-08:00", "UTC", "2026-03-03T00:00:00Z", true},
		{"21:00-08:00", "UTC", "2026-03-03T07:59:59.999Z", true},
		{"21:00-08:00", "UTC", "2026-03-03T08:00:00Z", false},
		// Weekly.
		{"Mon-Fri 09:00-18:00", "UTC", "2026-03-02T09:00:00Z", true},  // Monday
		{"Mon-Fri 09:00-18:00", "UTC", "2026-03-06T17:59:00Z", true},  // Friday
		{"Mon-Fri 09:00-18:00", "UTC", "2026-03-06T18:00:00Z", false}, // Friday
		{"Mon-Fri 09:00-18:00", "UTC", "2026-03-07T10:00:00Z", false}, // Saturday
		{"Mon-Fri 00:00-24:00", "UTC", "2026-03-06T23:59:59Z", true},  // Friday
		{"Mon-Fri 00:00-24:00", "UTC", "2026-03-07T00:00:00Z", false}, // Saturday
		// A weekly window that wraps belongs to the day it starts on.
		{"Fri 22:00-02:00", "UTC", "2026-03-06T21:59:00Z", false}, // Friday
		{"Fri 22:00-02:00", "UTC", "2026-03-06T22:00:00Z", true},  // Friday
		{"Fri 22:00-02:00", "UTC", "2026-03-07T01:59:00Z", true},  // Saturday
		{"Fri 22:00-02:00", "UTC", "2026-03-07T02:00:00Z", false}, // Saturday
		{"Fri 22:00-02:00", "UTC", "2026-03-07T22:00:00Z", false}, // Saturday
		{"Fri 22:00-02:00", "UTC", "2026-03-06T01:00:00Z", false}, // Friday morning: Thursday's night
		// The wall clock of the zone decides, not UTC.
		{"Mon-Fri 09:00-18:00", "Asia/Shanghai", "2026-03-02T01:00:00Z", true},      // 09:00 Monday there
		{"Mon-Fri 09:00-18:00", "America/New_York", "2026-03-06T22:59:00Z", true},   // 17:59 Friday there
		{"21:00-08:00", "America/New_York", "2026-03-08T06:59:00Z", true},           // 01:59 EST
		{"21:00-08:00", "America/New_York", "2026-03-08T07:00:00Z", true},           // 03:00 EDT
		{"21:00-08:00", "America/New_York", "2026-03-08T12:00:00Z", false},          // 08:00 EDT
		{"01:00-01:30", "America/New_York", "2026-11-01T05:15:00Z", true},           // 01:15 EDT
		{"01:00-01:30", "America/New_York", "2026-11-01T06:15:00Z", true},           // 01:15 EST, again
		{"02:15-02:45", "Europe/Berlin", "2026-03-29T01:00:00Z", false},             // 03:00 CEST
		{"02:15-02:45", "Europe/Berlin", "2026-10-25T00:20:00Z", true},              // 02:20 CEST
		{"02:15-02:45", "Europe/Berlin", "2026-10-25T01:20:00Z", true},              // 02:20 CET, again
		{"Sun 02:00-02:30", "Australia/Lord_Howe", "2026-10-03T15:30:00Z", false},   // 02:30 +11: the half hour was skipped
		{"Sat 23:00-01:00", "Australia/Lord_Howe", "2026-10-03T13:00:00Z", true},    // 23:30 Saturday +10:30
		{"Sat 23:00-01:00", "Australia/Lord_Howe", "2026-10-03T14:29:00Z", true},    // 00:59 Sunday +10:30
		{"Sat 23:00-01:00", "Australia/Lord_Howe", "2026-10-03T14:30:00Z", false},   // 01:00 Sunday +10:30
		{"Mon-Fri 09:00-18:00", "Asia/Kathmandu", "2026-03-02T03:15:00Z", true},     // 09:00 +05:45
		{"Mon-Fri 09:00-18:00", "Asia/Kathmandu", "2026-03-02T03:14:59Z", false},    // 08:59:59 +05:45
		{"Sat,Sun 10:00-16:00", "Pacific/Kiritimati", "2026-03-06T20:00:00Z", true}, // 10:00 Saturday +14
	}
	for _, tt := range tests {
		w := mustWindow(t, tt.window)
		at := instant(t, mustZone(t, tt.zone), tt.at)
		if got := w.Contains(at); got != tt.want {
			t.Errorf("%q.Contains(%v) = %v, want %v", tt.window, at, got, tt.want)
		}
	}
}

func TestWindowNext(t *testing.T) {
	tests := []struct {
		name       string
		window     string
		zone       string
		from       string
		start, end string // NextStart(from), NextEnd(from); "" for the zero Time
	}{
		{"before a daily window", "21:00-08:00", "UTC", "2026-03-02T10:00:00Z",
			"2026-03-02T21:00:00Z", "2026-03-02T10:00:00Z"},
		{"inside a daily window, past midnight", "21:00-08:00", "UTC", "2026-03-03T01:00:00Z",
			"2026-03-03T01:00:00Z", "2026-03-03T08:00:00Z"},
		{"at a window's end", "21:00-08:00", "UTC", "2026-03-03T08:00:00Z",
			"2026-03-03T21:00:00Z", "2026-03-03T08:00:00Z"},
		{"a fraction of a second before the start", "21:00-08:00", "UTC", "2026-03-02T20:59:59.5Z",
			"2026-03-02T21:00:00Z", "2026-03-02T20:59:59.5Z"},
		{"weekend skipped", "Mon-Fri 09:00-18:00", "UTC", "2026-03-06T18:00:00Z",
			"2026-03-09T09:00:00Z", "2026-03-06T18:00:00Z"},
		{"weekly, wrapping, inside after midnight", "Fri 22:00-02:00", "UTC", "2026-03-07T01:00:00Z",
			"2026-03-07T01:00:00Z", "2026-03-07T02:00:00Z"},
		{"weekly, wrapping, a week ahead", "Fri 22:00-02:00", "UTC", "2026-03-07T03:00:00Z",
			"2026-03-13T22:00:00Z", "2026-03-07T03:00:00Z"},
		{"whole days end at midnight after the last", "Mon-Fri 00:00-24:00", "UTC", "2026-03-02T10:00:00Z",
			"2026-03-02T10:00:00Z", "2026-03-07T00:00:00Z"},
		{"always open never ends", "00:00-24:00", "UTC", "2026-03-02T10:00:00Z",
			"2026-03-02T10:00:00Z", ""},
		{"in the customer's zone", "Mon-Fri 09:00-18:00", "Asia/Shanghai", "2026-03-01T12:00:00Z",
			"2026-03-02T09:00:00+08:00", "2026-03-01T20:00:00+08:00"},

		// America/New_York: 02:00 EST becomes 03:00 EDT on 2026-03-08.
		{"quiet hours over a short night", "21:00-08:00", "America/New_York", "2026-03-07T22:00:00-05:00",
			"2026-03-07T22:00:00-05:00", "2026-03-08T08:00:00-04:00"},
		{"a start the clocks skip opens at the jump", "02:30-04:00", "America/New_York", "2026-03-08T00:00:00-05:00",
			"2026-03-08T03:00:00-04:00", "2026-03-08T00:00:00-05:00"},
		{"a window the clocks skip waits a day", "02:00-02:30", "America/New_York", "2026-03-08T00:00:00-05:00",
			"2026-03-09T02:00:00-04:00", "2026-03-08T00:00:00-05:00"},
		{"an end the clocks skip closes at the jump", "01:00-02:30", "America/New_York", "2026-03-08T01:30:00-05:00",
			"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		// America/New_York: 02:00 EDT becomes 01:00 EST on 2026-11-01.
		{"quiet hours over a long night", "21:00-08:00", "America/New_York", "2026-10-31T22:00:00-04:00",
			"2026-10-31T22:00:00-04:00", "2026-11-01T08:00:00-05:00"},
		{"a repeated hour opens the window twice", "01:30-01:45", "America/New_York", "2026-11-01T01:50:00-04:00",
			"2026-11-01T01:30:00-05:00", "2026-11-01T01:50:00-04:00"},
		{"send window across the change", "Mon-Fri 09:00-18:00", "America/New_York", "2026-10-30T18:00:00-04:00",
			"2026-11-02T09:00:00-05:00", "2026-10-30T18:00:00-04:00"},

		// Europe/Berlin: 02:00 CET becomes 03:00 CEST on 2026-03-29.
		{"Berlin: a window the clocks skip", "02:15-02:45", "Europe/Berlin", "2026-03-29T00:00:00+01:00",
			"2026-03-30T02:15:00+02:00", "2026-03-29T00:00:00+01:00"},
		{"Berlin: a start the clocks skip", "02:30-03:30", "Europe/Berlin", "2026-03-29T01:00:00+01:00",
			"2026-03-29T03:00:00+02:00", "2026-03-29T01:00:00+01:00"},
		// Europe/Berlin: 03:00 CEST becomes 02:00 CET on 2026-10-25.
		{"Berlin: the first of a repeated time", "02:30-02:45", "Europe/Berlin", "2026-10-25T00:00:00+02:00",
			"2026-10-25T02:30:00+02:00", "2026-10-25T00:00:00+02:00"},
		{"Berlin: the clocks turn back into the window", "02:00-02:30", "Europe/Berlin", "2026-10-25T02:40:00+02:00",
			"2026-10-25T02:00:00+01:00", "2026-10-25T02:40:00+02:00"},
		{"Berlin: inside, the end comes twice", "02:00-02:30", "Europe/Berlin", "2026-10-25T02:10:00+02:00",
			"2026-10-25T02:10:00+02:00", "2026-10-25T02:30:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			w := mustWindow(t, tt.window)
			from := instant(t, loc, tt.from)
			check := func(what string, got time.Time, want string) {
				t.Helper()
				if want == "" {
					if !got.IsZero() {
						t.Errorf("%s(%v) = %v, want the zero Time", what, from, got)
					}
					return
				}
				if w := instant(t, loc, want); !got.Equal(w) || got.Location() != loc {
					t.Errorf("%s(%v) = %v, want %v", what, from, got, w)
				}
			}
			check("NextStart", w.NextStart(from), tt.start)
			check("NextEnd", w.NextEnd(from), tt.end)
		})
	}
}

// TestWindowNextMatchesScan compares NextStart and NextEnd with a plain scan,
// minute by minute, around every change of clocks in 2026 in zones that change
// by an hour, by half an hour, at midnight, or not at all. A window can only
// open or close on a whole minute, since the zones' offsets are whole minutes.
func TestWindowNextMatchesScan(t *testing.T) {
	windows := []string{
		"21:00-08:00", "Mon-Fri 09:00-18:00", "Fri 22:00-02:00", "02:30-03:30", "01:00-02:30",
		"02:00-02:30", "00:00-01:00", "23:00-00:30", "Sat,Sun 00:00-24:00", "Sun 02:15-02:45",
	}
	zones := []string{
		"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu",
	}
	if testing.Short() {
		windows = windows[:4]
	}
	for _, zone := range zones {
		loc := mustZone(t, zone)
		for _, change := range changesIn2026(loc) {
			for _, ws := range windows {
				w := mustWindow(t, ws)
				// Every 53 minutes from a day and a half before the change
				// to a day and a half after it, plus odd seconds.
				for from := change.Add(-36 * time.Hour); from.Before(change.Add(36 * time.Hour)); from = from.Add(53*time.Minute + 7*time.Second) {
					for _, open := range []bool{true, false} {
						got, want := w.next(from, open), scanNext(w, from, open)
						if !got.Equal(want) {
							t.Fatalf("%s: %q.next(%v, %v) = %v, scan says %v", zone, ws, from, open, got, want)
						}
					}
				}
			}
		}
	}
}

// scanNext finds the first instant at or after from at which w.Contains is
// open by trying every whole minute for nine days.
func scanNext(w Window, from time.Time, open bool) time.Time {
	if w.Contains(from) == open {
		return from
	}
	u := from.Truncate(time.Minute)
	for range 9 * 24 * 60 {
		u = u.Add(time.Minute)
		if w.Contains(u) == open {
			return u
		}
	}
	return time.Time{}
}

// changesIn2026 returns the instants in 2026 at which loc changes its clocks,
// or, for a zone that does not, the middle of the year.
func changesIn2026(loc *time.Location) []time.Time {
	var changes []time.Time
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Year() > 2026 {
			break
		}
		changes = append(changes, end)
		t = end
	}
	if len(changes) == 0 {
		changes = append(changes, time.Date(2026, 7, 1, 0, 0, 0, 0, loc))
	}
	return changes
}

func ExampleWindow_NextStart() {
	quiet, _ := ParseWindow("21:00-08:00")
	berlin, _ := LoadZone("Europe/Berlin")
	due := time.Date(2026, 3, 28, 23, 30, 0, 0, berlin) // in quiet hours
	fmt.Println(quiet.Contains(due), quiet.NextEnd(due))
	// Output: true 2026-03-29 08:00:00 +0200 CEST
}
