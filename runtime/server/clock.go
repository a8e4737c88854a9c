package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/waymark-dev/waymark/lang/timespec"
)

// Clock is a runtime clock that the admin API may move:
// manualclock.(*Clock), with `waymark run --clock manual`.
type Clock interface {
	Now() time.Time
	// Advance moves the clock forward to t, firing everything due on the
	// way in time order, and returns how many timers it fired.
	Advance(ctx context.Context, t time.Time) (fired int, err error)
}

// maxClockBody bounds a POST /v1/clock body: {"advance": "..."} is tiny.
const maxClockBody = 4 << 10

// clockRequest is the body of POST /v1/clock: exactly one of the two.
type clockRequest struct {
	Advance *string `json:"advance"` // a duration: "45s", "1h", "2d", "1w 2d"
	To      *string `json:"to"`      // an RFC 3339 time at or after the clock's
}

// clockDoc is the answer of GET and POST /v1/clock.
type clockDoc struct {
	Clock string    `json:"clock"` // "manual" or "real"
	Now   time.Time `json:"now"`
	Fired *int      `json:"fired,omitempty"` // POST: timers fired on the way
}

func (s *Server) handleGetClock(w http.ResponseWriter, r *http.Request) {
	if s.opts.Clock == nil {
		writeJSON(w, http.StatusOK, clockDoc{Clock: "real", Now: time.Now().UTC()})
		return
	}
	writeJSON(w, http.StatusOK, clockDoc{Clock: "manual", Now: s.opts.Clock.Now()})
}

// handleAdvanceClock moves a manual clock and answers once everything due
// up to the new time has fired and committed.
func (s *Server) handleAdvanceClock(w http.ResponseWriter, r *http.Request) {
	if s.opts.Clock == nil {
		writeError(w, http.StatusConflict, "clock: this server runs on the real clock, which cannot be moved; start it with `waymark run --clock manual` (for demos and integration tests)")
		return
	}
	body, herr := readBody(w, r, "clock", maxClockBody)
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	target, herr := parseClockRequest(body, s.opts.Clock.Now())
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	fired, err := s.opts.Clock.Advance(r.Context(), target)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left; the clock stays where it got to
		}
		s.log.Warn("advancing the manual clock failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("clock: %v (the clock is at %s; everything due before it has fired)", err, s.opts.Clock.Now().Format(time.RFC3339Nano)))
		return
	}
	s.log.Info("manual clock advanced", "now", s.opts.Clock.Now(), "fired", fired)
	writeJSON(w, http.StatusOK, clockDoc{Clock: "manual", Now: s.opts.Clock.Now(), Fired: &fired})
}

// parseClockRequest reads {"advance": DURATION} or {"to": TIME} and returns
// the time to move to from now.
func parseClockRequest(body []byte, now time.Time) (time.Time, *httpError) {
	const shape = `clock: the body must be a JSON object like {"advance": "1h"} or {"to": "2026-03-02T23:30:00+01:00"}`
	obj, herr := parseObject(body, "clock")
	if herr != nil {
		return time.Time{}, herr
	}
	var req clockRequest
	for k := range obj {
		if k != "advance" && k != "to" {
			return time.Time{}, badRequest("clock: unknown member %q: %s", k, shape[len("clock: "):])
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return time.Time{}, badRequest("%s: %s", shape, jsonMessage(err))
	}
	switch {
	case (req.Advance == nil) == (req.To == nil):
		return time.Time{}, badRequest("%s: give advance or to, one of them", shape)
	case req.Advance != nil:
		d, err := timespec.ParseDuration(*req.Advance)
		if err != nil {
			return time.Time{}, badRequest("clock: advance %q: %v", *req.Advance, err)
		}
		return now.Add(d), nil
	default:
		t, err := time.Parse(time.RFC3339Nano, *req.To)
		if err != nil {
			return time.Time{}, badRequest("clock: to %q is not an RFC 3339 time like 2026-03-02T23:30:00+01:00", *req.To)
		}
		if t.Before(now) {
			return time.Time{}, badRequest("clock: to %s is before the clock's time %s: the clock only moves forward", t.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		}
		return t, nil
	}
}
