package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/store"
)

// accumulate answers the common part of GET /v1/journeys/{name}/analytics
// and /paths: the journey of the running program, the range, and the
// journey's records folded into an Accumulator. It has written the error
// response when it returns nil.
func (s *Server) accumulate(w http.ResponseWriter, r *http.Request) *analytics.Accumulator {
	jr, ok := s.st.(store.JourneyRecords)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) does not read journey records: analytics need the SQLite store", s.st))
		return nil
	}
	name := r.PathValue("name")
	var j *ir.Journey
	prog := s.w.Engine().Program()
	for k := range prog.Journeys {
		if jj := &prog.Journeys[k]; jj.Name == name {
			j = jj
		}
	}
	if j == nil {
		writeError(w, http.StatusNotFound, "no journey "+quote(name)+" in the running program")
		return nil
	}
	query := r.URL.Query()
	var since time.Time
	// Records are kept to the microsecond: the bound just after now takes
	// in those stamped now (a manual clock stamps everything with it).
	until := s.now().Truncate(time.Microsecond).Add(time.Microsecond)
	for _, p := range []struct {
		key string
		to  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := query.Get(p.key); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, p.key+": "+quote(v)+" is not an RFC 3339 time (like 2026-12-01T00:00:00Z)")
				return nil
			}
			*p.to = t.UTC()
		}
	}
	if !since.Before(until) {
		writeError(w, http.StatusBadRequest, "since must be before until")
		return nil
	}
	a := analytics.NewAccumulator(j, since, until)
	a.Measure(prog.Metrics)
	err := jr.JourneyRecords(r.Context(), name, until, func(rec store.JourneyRecord) error {
		a.Add(rec)
		return nil
	})
	if err != nil {
		s.storeFailed(w, "the records of journey "+quote(name), err)
		return nil
	}
	return a
}

// now is the server's clock: the manual one when set.
func (s *Server) now() time.Time {
	if s.opts.Clock != nil {
		return s.opts.Clock.Now()
	}
	return time.Now()
}

func (s *Server) handleAnalytics(w http.ResponseWriter, r *http.Request) {
	if a := s.accumulate(w, r); a != nil {
		writeJSON(w, http.StatusOK, a.Report())
	}
}

// defaultSteps is the Sankey depth of GET /paths without ?steps.
const defaultSteps = 5

func (s *Server) handlePaths(w http.ResponseWriter, r *http.Request) {
	steps := defaultSteps
	if v := r.URL.Query().Get("steps"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > analytics.MaxSteps {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("steps: %q is not a number from 1 to %d", v, analytics.MaxSteps))
			return
		}
		steps = n
	}
	if a := s.accumulate(w, r); a != nil {
		writeJSON(w, http.StatusOK, a.Paths(steps))
	}
}
