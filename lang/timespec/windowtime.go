package timespec

import "time"

// Contains reports whether t falls in the window, reading t's wall clock in
// t.Location(). Windows are half-open: a window from 09:00 to 18:00 contains
// 09:00 but not 18:00. A weekly window that wraps midnight belongs to the day it
// starts on: "Fri 22:00-02:00" covers Friday 22:00 to Saturday 02:00.
func (w Window) Contains(t time.Time) bool {
	return w.containsWall(wallClock(t))
}

// NextStart returns the first instant at or after t at which the window
// contains the time: t itself if the window contains t. The result is in
// t.Location(). Across a change of clocks it is the first real instant inside
// the window: if the clocks jump past the start, it is the moment of the jump.
// It returns the zero Time if the window never opens (the zero Window).
func (w Window) NextStart(t time.Time) time.Time { return w.next(t, true) }

// NextEnd returns the first instant at or after t at which the window does not
// contain the time: t itself if the window does not contain t. The result is in
// t.Location(). It returns the zero Time if the window never closes
// ("00:00-24:00" every day).
func (w Window) NextEnd(t time.Time) time.Time { return w.next(t, false) }

// maxZoneChanges bounds the changes of clocks next steps across. Real zones
// change a few times a year at most, and the next edge is at most eight days
// away, so the bound is only there to make termination obvious.
const maxZoneChanges = 64

// next returns the first instant at or after t at which Contains reports open,
// or the zero Time if there is none.
//
// Between changes of clocks a zone's offset is fixed, so wall-clock time and
// real time move together and the next edge of the window can be found on the
// wall clock and carried back to real time. If that edge lies beyond the next
// change, next moves to the change, where the wall clock jumps, and looks again.
func (w Window) next(t time.Time, open bool) time.Time {
	u := t
	for range maxZoneChanges {
		if w.Contains(u) == open {
			return u
		}
		wall := wallClock(u)
		edge, ok := w.nextEdge(wall, open)
		if !ok {
			return time.Time{}
		}
		at := u.Add(edge.Sub(wall))
		_, change := u.ZoneBounds()
		if change.IsZero() || at.Before(change) {
			return at
		}
		u = change
	}
	return time.Time{}
}

// nextEdge returns the first wall-clock time after wall at which the window
// opens (or, if open is false, closes). The window only opens and closes at its
// start and end times, so these are the only candidates; a week and a day of
// them is enough to find any edge.
func (w Window) nextEdge(wall time.Time, open bool) (time.Time, bool) {
	y, m, d := wall.Date()
	for day := range 9 {
		midnight := time.Date(y, m, d+day, 0, 0, 0, 0, time.UTC)
		var best time.Time
		for _, minutes := range [2]int{w.Start, w.End} {
			c := midnight.Add(time.Duration(minutes) * time.Minute)
			if c.After(wall) && w.containsWall(c) == open && (best.IsZero() || c.Before(best)) {
				best = c
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// containsWall reports whether the window contains a wall-clock time, given as
// a time in UTC with the same reading (see wallClock).
func (w Window) containsWall(wall time.Time) bool {
	h, m, s := wall.Clock()
	second := (h*60+m)*60 + s
	start, end := w.Start*60, w.End*60
	today, yesterday := wall.Weekday(), (wall.Weekday()+6)%7
	switch {
	case w.Start < w.End:
		return w.on(today) && start <= second && second < end
	case w.Start > w.End: // from start today to end tomorrow
		return w.on(today) && second >= start || w.on(yesterday) && second < end
	}
	return false
}

// wallClock returns the reading of t's clock in t's location as a time in UTC,
// where there are no changes of clocks, so that wall-clock arithmetic is plain.
// Fractions of a second are kept so that edges fall strictly after t.
func wallClock(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}
