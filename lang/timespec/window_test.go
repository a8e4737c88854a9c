package timespec

import (
	"testing"
	"time"
)

// days returns a Days array with the given days set.
func days(ds ...time.Weekday) [7]bool {
	var a [7]bool
	for _, d := range ds {
		a[d] = true
	}
	return a
}

var everyDay = days(time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)

func TestParseWindow(t *testing.T) {
	tests := []struct {
		s        string
		want     Window
		str      string // canonical form
		describe string
	}{
		{"21:00-08:00", Window{Days: everyDay, Daily: true, Start: 21 * 60, End: 8 * 60},
			"21:00-08:00", "every day, 21:00 to 08:00 (overnight)"},
		{"09:00-17:30", Window{Days: everyDay, Daily: true, Start: 9 * 60, End: 17*60 + 30},
			"09:00-17:30", "every day, 09:00 to 17:30"},
		{"Mon-Fri 09:00-18:00", Window{Days: days(1, 2, 3, 4, 5), Start: 9 * 60, End: 18 * 60},
			"Mon-Fri 09:00-18:00", "Monday to Friday, 09:00 to 18:00"},
		{"Sat,Sun 10:00-16:00", Window{Days: days(0, 6), Start: 10 * 60, End: 16 * 60},
			"Sat,Sun 10:00-16:00", "Saturday and Sunday, 10:00 to 16:00"},
		{"Mon,Wed-Fri 09:00-17:00", Window{Days: days(1, 3, 4, 5), Start: 9 * 60, End: 17 * 60},
			"Mon,Wed-Fri 09:00-17:00", "Monday and Wednesday to Friday, 09:00 to 17:00"},
		{"Fri 22:00-02:00", Window{Days: days(5), Start: 22 * 60, End: 2 * 60},
			"Fri 22:00-02:00", "Friday, 22:00 to 02:00 (overnight)"},
		{"Fri-Mon 09:00-17:00", Window{Days: days(5, 6, 0, 1), Start: 9 * 60, End: 17 * 60},
			"Fri-Mon 09:00-17:00", "Friday to Monday, 09:00 to 17:00"},
		{"Mon,Sat,Sun 09:00-10:00", Window{Days: days(1, 6, 0), Start: 9 * 60, End: 10 * 60},
			"Sat-Mon 09:00-10:00", "Saturday to Monday, 09:00 to 10:00"},
		{"Tue,Thu 09:00-10:00", Window{Days: days(2, 4), Start: 9 * 60, End: 10 * 60},
			"Tue,Thu 09:00-10:00", "Tuesday and Thursday, 09:00 to 10:00"},
		{"sat, SUN 10:00 - 16:00", Window{Days: days(0, 6), Start: 10 * 60, End: 16 * 60},
			"Sat,Sun 10:00-16:00", "Saturday and Sunday, 10:00 to 16:00"},
		{"Mon - Fri 09:00-18:00", Window{Days: days(1, 2, 3, 4, 5), Start: 9 * 60, End: 18 * 60},
			"Mon-Fri 09:00-18:00", "Monday to Friday, 09:00 to 18:00"},
		{"Sun-Sat 00:00-24:00", Window{Days: everyDay, Start: 0, End: 24 * 60},
			"Mon-Sun 00:00-24:00", "every day, 00:00 to 24:00"},
		{"22:00-00:00", Window{Days: everyDay, Daily: true, Start: 22 * 60, End: 0},
			"22:00-00:00", "every day, 22:00 to 00:00"},
		{"23:59-24:00", Window{Days: everyDay, Daily: true, Start: 23*60 + 59, End: 24 * 60},
			"23:59-24:00", "every day, 23:59 to 24:00"},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.s)
		if err != nil {
			t.Errorf("ParseWindow(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseWindow(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseWindow(%q).String() = %q, want %q", tt.s, s, tt.str)
		}
		if d := got.Describe(); d != tt.describe {
			t.Errorf("ParseWindow(%q).Describe() = %q, want %q", tt.s, d, tt.describe)
		}
		if again, err := ParseWindow(got.String()); err != nil || again != got {
			t.Errorf("ParseWindow(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	const days = "Mon, Tue, Wed, Thu, Fri, Sat or Sun"
	tests := []errorCase{
		{"", 0, 0, `empty window: write a window like "21:00-08:00" or "Mon-Fri 09:00-18:00"`},
		{"Tues-Fri 09:00-17:00", 0, 4, `unknown day "Tues": use ` + days + ` (did you mean "Tue"?)`},
		{"Mon-Thurs 09:00-17:00", 4, 9, `unknown day "Thurs": use ` + days + ` (did you mean "Thu"?)`},
		{"Monday 09:00-17:00", 0, 6, `unknown day "Monday": use ` + days + ` (did you mean "Mon"?)`},
		{"Wendesday 09:00-17:00", 0, 9, `unknown day "Wendesday": use ` + days + ` (did you mean "Wed"?)`},
		{"S 09:00-17:00", 0, 1, `unknown day "S": use ` + days},
		{"Mon-Fri", 0, 7, `missing the times after "Mon-Fri", as in "Mon-Fri 09:00-18:00"`},
		{"Mon-Fri09:00-18:00", 0, 12, `write a space between the days and the times`},
		{"Mon- 09:00-17:00", 3, 4, `missing the day after "-"`},
		{"Mon-Mon 09:00-17:00", 0, 7, `"Mon-Mon" names one day: write "Mon"`},
		{"Mon-Fri,Wed 09:00-17:00", 8, 11, `Wednesday is listed twice`},
		{"Mon,,Tue 09:00-17:00", 4, 5, `unexpected ",": write a window like "21:00-08:00" or "Mon-Fri 09:00-18:00"`},
		{"21:00", 0, 5, `missing the end time: write a start and an end, as in "09:00-18:00"`},
		{"21:00-", 5, 6, `missing the end time after "-"`},
		{"-08:00", 0, 1, `missing the start time before "-"`},
		{"21:00 08:00", 0, 11, `missing "-" between "21:00" and "08:00"`},
		{"9:00-17:00", 0, 4, `write times with two-digit hours and minutes, as in "09:00"`},
		{"09:00-17:5", 6, 10, `write times with two-digit hours and minutes, as in "09:00"`},
		{"09:00-7:30", 6, 10, `write times with two-digit hours and minutes, as in "07:30"`},
		{"0900-1700", 0, 4, `write times as HH:MM, as in "09:00"`},
		{"09:-17:00", 0, 3, `missing the minutes after ":", as in "09:00"`},
		{"09 :00-17:00", 0, 6, `write times without spaces, as in "09:00"`},
		{"25:00-08:00", 0, 2, `there is no hour 25: hours run from 00 to 23`},
		{"09:00-17:60", 9, 11, `there is no minute 60: minutes run from 00 to 59`},
		{"24:00-08:00", 0, 5, `24:00 can only end a window: start at "00:00"`},
		{"22:00-24:30", 6, 11, `"24:30" is past midnight: the latest time is 24:00`},
		{"09:00-09:00", 0, 11, `the window starts and ends at 09:00, so it is empty`},
		{"00:00-00:00", 0, 11, `the window starts and ends at 00:00, so it is empty: for the whole day write "00:00-24:00"`},
		{"9am-5pm", 1, 3, `unexpected "am": use the 24-hour clock, as in "09:00-17:00"`},
		{"09:00-17:00 Mon", 12, 15, `unexpected "Mon": write a window like "21:00-08:00" or "Mon-Fri 09:00-18:00"`},
		{"Mon,", 3, 4, `unexpected end after ",": write a window like "21:00-08:00" or "Mon-Fri 09:00-18:00"`},
		{" 09:00-17:00", 0, 1, `space at the start of the window: remove it`},
	}
	for _, tt := range tests {
		_, err := ParseWindow(tt.s)
		checkError(t, err, tt)
	}
}

func TestWindowZeroValue(t *testing.T) {
	var w Window // never open: must not hang or panic
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if w.Contains(at) {
		t.Error("the zero Window contains a time")
	}
	if got := w.NextStart(at); !got.IsZero() {
		t.Errorf("NextStart = %v, want the zero Time", got)
	}
	if got := w.NextEnd(at); !got.Equal(at) {
		t.Errorf("NextEnd = %v, want %v", got, at)
	}
	if got := w.Describe(); got != "no day, 00:00 to 00:00" {
		t.Errorf("Describe = %q", got)
	}
}
