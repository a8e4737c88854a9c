package timespec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
)

// Window is a daily or weekly window of time, such as quiet hours or a send window.
type Window struct {
	Days  [7]bool // indexed by time.Weekday; all true for a daily window
	Daily bool    // written without days
	// Start and End are minutes after midnight, 0 to 1440 (End is 1440 for
	// "24:00"). When Start > End the window wraps midnight, and a weekly
	// window's days are the days on which it starts.
	Start, End int
}

// minutesPerDay is the number of minutes in a day: End may equal it.
const minutesPerDay = 24 * 60

// dayNames are the abbreviated day names, indexed by time.Weekday.
var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// mondayFirst lists the days in the order people list them.
var mondayFirst = [7]time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday,
}

// ParseWindow parses a daily window such as "21:00-08:00" or a weekly one such as
// "Mon-Fri 09:00-18:00", "Sat,Sun 10:00-16:00" or "Mon,Wed-Fri 09:00-17:00".
//
// Days are Mon, Tue, Wed, Thu, Fri, Sat and Sun, in any case; a range may wrap
// the week ("Fri-Mon"). Times are HH:MM on a 24-hour clock; "24:00" may end a
// window. A window whose end is earlier than its start wraps midnight. Spaces
// may follow a comma or surround a "-".
//
// An error is an *Error.
func ParseWindow(s string) (Window, error) {
	node, err := parse(windowParser, s, windowKind)
	if err != nil {
		return Window{}, err
	}
	w, err := checkWindow(node, s)
	if err != nil {
		return Window{}, err
	}
	return w, nil
}

// checkWindow turns a parsed window into its value, checking its parts left to right.
func checkWindow(n *windowNode, s string) (Window, *Error) {
	var w Window
	if len(n.Days) == 0 {
		w.Daily = true
		w.Days = [7]bool{true, true, true, true, true, true, true}
	}
	for _, r := range n.Days {
		if err := addDays(&w.Days, r, s); err != nil {
			return Window{}, err
		}
	}

	switch {
	case n.From == nil && n.Dash == nil && n.To == nil:
		if len(n.Days) == 0 { // the parser does not produce this; be safe anyway
			return Window{}, errorf(span{0, len(s)}, "invalid window: write %s", windowKind.example)
		}
		days := n.Days[0].span().to(n.Days[len(n.Days)-1].span())
		return Window{}, errorf(days, "missing the times after %s, as in %q",
			quote(days.text(s)), days.text(s)+" 09:00-18:00")
	case n.From == nil:
		return Window{}, errorf(n.dashOrTo(), "missing the start time before %s", quote(n.dashOrTo().text(s)))
	case len(n.Days) > 0 && adjacent(n.Days[len(n.Days)-1].span(), n.From.span()):
		return Window{}, errorf(n.Days[len(n.Days)-1].span().to(n.From.span()),
			"write a space between the days and the times")
	}
	start, err := checkClock(n.From, s, false)
	if err != nil {
		return Window{}, err
	}
	switch {
	case n.Dash == nil && n.To == nil:
		return Window{}, errorf(n.From.span(), `missing the end time: write a start and an end, as in "09:00-18:00"`)
	case n.Dash == nil:
		return Window{}, errorf(n.From.span().to(n.To.span()), `missing "-" between %s and %s`,
			quote(n.From.span().text(s)), quote(n.To.span().text(s)))
	case n.To == nil:
		return Window{}, errorf(tokenSpan(*n.Dash), `missing the end time after "-"`)
	}
	end, err := checkClock(n.To, s, true)
	if err != nil {
		return Window{}, err
	}
	if start == end {
		times := n.From.span().to(n.To.span())
		msg := fmt.Sprintf("the window starts and ends at %s, so it is empty", clock(start))
		if start == 0 {
			msg += `: for the whole day write "00:00-24:00"`
		}
		return Window{}, errorf(times, "%s", msg)
	}
	w.Start, w.End = start, end
	return w, nil
}

// addDays sets the days that r names, rejecting unknown days and days already set.
func addDays(days *[7]bool, r *dayRangeNode, s string) *Error {
	first, err := checkDay(r.First)
	if err != nil {
		return err
	}
	last := first
	if r.Dash != nil {
		if r.Last == nil {
			return errorf(tokenSpan(*r.Dash), `missing the day after "-"`)
		}
		if last, err = checkDay(*r.Last); err != nil {
			return err
		}
		if first == last {
			return errorf(r.span(), "%s names one day: write %q", quote(r.span().text(s)), dayNames[first])
		}
	}
	for d := first; ; d = (d + 1) % 7 {
		if days[d] {
			return errorf(r.span(), "%s is listed twice", d)
		}
		days[d] = true
		if d == last {
			return nil
		}
	}
}

// checkDay returns the day a token names, or an error suggesting the right spelling.
func checkDay(t lexer.Token) (time.Weekday, *Error) {
	for d, name := range dayNames {
		if strings.EqualFold(t.Value, name) {
			return time.Weekday(d), nil
		}
	}
	msg := fmt.Sprintf("unknown day %s: use Mon, Tue, Wed, Thu, Fri, Sat or Sun", quote(t.Value))
	if d, ok := guessDay(t.Value); ok {
		msg += fmt.Sprintf(" (did you mean %q?)", dayNames[d])
	}
	return 0, errorf(tokenSpan(t), "%s", msg)
}

// guessDay returns the day that word most likely means: the day whose full name
// starts with it ("Tues", "Thurs", "Monday"), or one spelt nearly the same
// ("Wendesday", "Sundy").
func guessDay(word string) (time.Weekday, bool) {
	lower := strings.ToLower(word)
	var found []time.Weekday
	for d := range time.Weekday(7) {
		if len(lower) >= 2 && strings.HasPrefix(strings.ToLower(d.String()), lower) {
			found = append(found, d)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	var names []string
	for d := range time.Weekday(7) {
		names = append(names, d.String())
	}
	if name, ok := closest(word, names, 2); ok {
		return time.Weekday(slices.Index(names, name)), true
	}
	if name, ok := closest(word, dayNames[:], 1); ok && len(word) > 2 {
		return time.Weekday(slices.Index(dayNames[:], name)), true
	}
	return 0, false
}

// checkClock returns the minutes after midnight that c names. Only an end time
// may be 24:00.
func checkClock(c *clockNode, s string, isEnd bool) (int, *Error) {
	text := c.span().text(s)
	if c.Colon == nil {
		msg := `write times as HH:MM, as in "09:00"`
		if len(text) == 4 && isDigits(text) {
			msg = fmt.Sprintf("write times as HH:MM, as in %q", text[:2]+":"+text[2:])
		}
		return 0, errorf(c.span(), "%s", msg)
	}
	if c.Minute == nil {
		return 0, errorf(c.span(), `missing the minutes after ":", as in %q`, c.Hour.Value+":00")
	}
	if !adjacent(tokenSpan(c.Hour), tokenSpan(*c.Colon)) || !adjacent(tokenSpan(*c.Colon), tokenSpan(*c.Minute)) {
		return 0, errorf(c.span(), `write times without spaces, as in "09:00"`)
	}
	hh, mm := c.Hour.Value, c.Minute.Value
	if len(hh) != 2 || len(mm) != 2 || !isDigits(hh) || !isDigits(mm) {
		msg := "write times with two-digit hours and minutes"
		// "9:30" can only mean 09:30; "9:3" could be 09:03 or 09:30.
		if len(hh) == 1 && isDigits(hh) && len(mm) == 2 && isDigits(mm) {
			msg += fmt.Sprintf(", as in %q", "0"+hh+":"+mm)
		} else {
			msg += `, as in "09:00"`
		}
		return 0, errorf(c.span(), "%s", msg)
	}
	h, _ := strconv.Atoi(hh) // two digits: cannot fail
	m, _ := strconv.Atoi(mm)
	switch {
	case h > 24:
		return 0, errorf(tokenSpan(c.Hour), "there is no hour %s: hours run from 00 to 23", hh)
	case m > 59:
		return 0, errorf(tokenSpan(*c.Minute), "there is no minute %s: minutes run from 00 to 59", mm)
	case h == 24 && m != 0:
		return 0, errorf(c.span(), "%s is past midnight: the latest time is 24:00", quote(text))
	case h == 24 && !isEnd:
		return 0, errorf(c.span(), `24:00 can only end a window: start at "00:00"`)
	}
	return h*60 + m, nil
}

// isDigits reports whether s is ASCII digits only.
func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String writes w in the canonical form ParseWindow reads: "21:00-08:00" for a
// daily window, "Mon,Wed-Fri 09:00-17:00" for a weekly one, with the days in
// order from Monday and runs of three or more days as ranges.
func (w Window) String() string {
	times := clock(w.Start) + "-" + clock(w.End)
	if w.Daily {
		return times
	}
	days := w.dayItems(func(d time.Weekday) string { return dayNames[d] }, "-")
	if len(days) == 0 { // not a window ParseWindow returns
		return times
	}
	return strings.Join(days, ",") + " " + times
}

// Describe says w in words: "Monday to Friday, 09:00 to 18:00", "every day,
// 21:00 to 08:00 (overnight)", "Saturday and Sunday, 10:00 to 16:00".
func (w Window) Describe() string {
	days := "every day"
	if !w.everyDay() {
		days = list(w.dayItems(time.Weekday.String, " to "))
		if days == "" { // not a window ParseWindow returns
			days = "no day"
		}
	}
	text := days + ", " + clock(w.Start) + " to " + clock(w.End)
	if w.Start > w.End && w.End > 0 {
		text += " (overnight)"
	}
	return text
}

// dayItems lists w's days for String and Describe: runs of three or more days
// as first, through and last ("Mon-Fri"), other days one by one, each named by
// name.
func (w Window) dayItems(name func(time.Weekday) string, through string) []string {
	var items []string
	for _, r := range w.dayRuns() {
		switch r.len {
		case 1:
			items = append(items, name(r.first))
		case 2:
			items = append(items, name(r.first), name(r.last()))
		default:
			items = append(items, name(r.first)+through+name(r.last()))
		}
	}
	return items
}

// dayRun is a run of consecutive days, which may wrap from Sunday to Monday.
type dayRun struct {
	first time.Weekday
	len   int
}

func (r dayRun) last() time.Weekday { return (r.first + time.Weekday(r.len) - 1) % 7 }

// dayRuns returns the runs of w's days in the order of their first day,
// counting the week from Monday. All seven days are one run from Monday.
func (w Window) dayRuns() []dayRun {
	// Scan from the day after a day that is off, so that no run is cut in two
	// where the scan starts.
	begin := 0
	for i, d := range mondayFirst {
		if !w.on(d) {
			begin = i + 1
			break
		}
	}
	var runs []dayRun
	for i := range 7 {
		d := mondayFirst[(begin+i)%7]
		switch {
		case !w.on(d):
		case i > 0 && w.on(mondayFirst[(begin+i-1)%7]):
			runs[len(runs)-1].len++
		default:
			runs = append(runs, dayRun{first: d, len: 1})
		}
	}
	slices.SortFunc(runs, func(a, b dayRun) int { return weekIndex(a.first) - weekIndex(b.first) })
	return runs
}

// weekIndex is the position of d in a week that starts on Monday.
func weekIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// everyDay reports whether the window opens on every day of the week.
func (w Window) everyDay() bool {
	for d := range time.Weekday(7) {
		if !w.on(d) {
			return false
		}
	}
	return true
}

// on reports whether the window is open on day d (starts on it, for a window
// that wraps midnight).
func (w Window) on(d time.Weekday) bool { return w.Daily || w.Days[d] }

// clock writes minutes after midnight as HH:MM.
func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// span is the range the days cover.
func (r *dayRangeNode) span() span {
	switch {
	case r.Last != nil:
		return tokenSpan(r.First).to(tokenSpan(*r.Last))
	case r.Dash != nil:
		return tokenSpan(r.First).to(tokenSpan(*r.Dash))
	}
	return tokenSpan(r.First)
}

// span is the range the time covers.
func (c *clockNode) span() span {
	switch {
	case c.Minute != nil:
		return tokenSpan(c.Hour).to(tokenSpan(*c.Minute))
	case c.Colon != nil:
		return tokenSpan(c.Hour).to(tokenSpan(*c.Colon))
	}
	return tokenSpan(c.Hour)
}

// dashOrTo is the range of what follows a missing start time.
func (n *windowNode) dashOrTo() span {
	if n.Dash != nil {
		return tokenSpan(*n.Dash)
	}
	return n.To.span()
}
