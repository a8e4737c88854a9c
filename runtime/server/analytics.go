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

// analyticsQuery is what GET /v1/journeys/{name}/analytics and /paths
// ask: the journey of the running program and the range.
type analyticsQuery struct {
	prog         *ir.Program
	j            *ir.Journey
	since, until time.Time
}

// query reads the journey and the range of an analytics request. It has
// written the error response when ok is false.
func (s *Server) analyticsQuery(w http.ResponseWriter, r *http.Request) (q analyticsQuery, ok bool) {
	name := r.PathValue("name")
	q.prog = s.w.Engine().Program()
	for k := range q.prog.Journeys {
		if jj := &q.prog.Journeys[k]; jj.Name == name {
			q.j = jj
		}
	}
	if q.j == nil {
		writeError(w, http.StatusNotFound, "no journey "+quote(name)+" in the running program")
		return q, false
	}
	if q.since, q.until, ok = s.rangeQuery(w, r); !ok {
		return q, false
	}
	if _, tallies := s.st.(store.Tallies); !tallies {
		if _, records := s.st.(store.JourneyRecords); !records {
			writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) keeps neither analytics tallies nor journey records", s.st))
			return q, false
		}
	}
	return q, true
}

// rangeQuery reads ?since= and ?until= (RFC 3339; default: all history,
// up to now). It has written the error response when ok is false.
func (s *Server) rangeQuery(w http.ResponseWriter, r *http.Request) (since, until time.Time, ok bool) {
	query := r.URL.Query()
	// Records are kept to the microsecond: the bound just after now takes
	// in those stamped now (a manual clock stamps everything with it).
	until = s.now().Truncate(time.Microsecond).Add(time.Microsecond)
	for _, p := range []struct {
		key string
		to  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := query.Get(p.key); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, p.key+": "+quote(v)+" is not an RFC 3339 time (like 2026-12-01T00:00:00Z)")
				return since, until, false
			}
			t = t.UTC()
			// The range may be widened to whole hours (HourRange), and the
			// document must still write its times in RFC 3339: years 0
			// to 9999 only (an out-of-range time fails the JSON encoder,
			// after the 200 is sent).
			if t.Before(minRangeTime) || t.After(maxRangeTime) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %s is outside %s to %s (in UTC)",
					p.key, quote(v), minRangeTime.Format(time.RFC3339), maxRangeTime.Format(time.RFC3339)))
				return since, until, false
			}
			*p.to = t
		}
	}
	if !since.Before(until) {
		writeError(w, http.StatusBadRequest, "since must be before until")
		return since, until, false
	}
	return since, until, true
}

// The times a range may give: whole hours around them are still years 0
// to 9999, which RFC 3339 can write.
var (
	minRangeTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxRangeTime = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
)

// journeyNames are the names a journey's tallies are kept under: its own
// and the former names top-level moved blocks gave it (its instances keep
// their entry's cohort, under the name they entered with until renamed).
func journeyNames(prog *ir.Program, name string) []string {
	names := []string{name}
	for _, m := range prog.Moved {
		if m.To == name {
			names = append(names, m.From)
		}
	}
	return names
}

// tallies sums the tallies of q's journey over the whole hours of its
// range (analytics.HourRange), which become q's range; ok is false when
// the store keeps none (the Accumulator answers then) or has failed (the
// error response is written: done is true).
func (s *Server) tallies(w http.ResponseWriter, r *http.Request, q *analyticsQuery) (ts []store.Tally, ok, done bool) {
	st, ok := s.st.(store.Tallies)
	if !ok {
		return nil, false, false
	}
	from, to, start, end := analytics.HourRange(q.since, q.until)
	ts, err := st.SumTallies(r.Context(), journeyNames(q.prog, q.j.Name), from, to)
	if err != nil {
		s.storeFailed(w, "the analytics tallies of journey "+quote(q.j.Name), err)
		return nil, false, true
	}
	q.since, q.until = start, end
	return ts, true, false
}

// accumulate folds the journey's records into an Accumulator: the
// analytics of a store without tallies. It has written the error response
// when it returns nil.
func (s *Server) accumulate(w http.ResponseWriter, r *http.Request, q analyticsQuery) *analytics.Accumulator {
	a := analytics.NewAccumulator(q.j, q.since, q.until)
	a.Measure(q.prog.Metrics)
	err := s.st.(store.JourneyRecords).JourneyRecords(r.Context(), q.j.Name, q.until, func(rec store.JourneyRecord) error {
		a.Add(rec)
		return nil
	})
	if err != nil {
		s.storeFailed(w, "the records of journey "+quote(q.j.Name), err)
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

// handleAnalytics answers GET /v1/journeys/{name}/analytics: from the
// store's tallies when it keeps them (the instances that entered in the
// range's whole hours, as they stand now), else from its records.
func (s *Server) handleAnalytics(w http.ResponseWriter, r *http.Request) {
	q, ok := s.analyticsQuery(w, r)
	if !ok {
		return
	}
	if ts, ok, done := s.tallies(w, r, &q); done {
		return
	} else if ok {
		writeJSON(w, http.StatusOK, analytics.FromTallies(q.j, q.prog.Metrics, ts, q.since, q.until))
		return
	}
	if a := s.accumulate(w, r, q); a != nil {
		writeJSON(w, http.StatusOK, a.Report())
	}
}

// defaultSteps is the Sankey depth of GET /paths without ?steps.
const defaultSteps = 5

// handlePaths answers GET /v1/journeys/{name}/paths, like handleAnalytics.
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
	q, ok := s.analyticsQuery(w, r)
	if !ok {
		return
	}
	if ts, ok, done := s.tallies(w, r, &q); done {
		return
	} else if ok {
		writeJSON(w, http.StatusOK, analytics.PathsFromTallies(q.j, ts, steps, q.since, q.until))
		return
	}
	if a := s.accumulate(w, r, q); a != nil {
		writeJSON(w, http.StatusOK, a.Paths(steps))
	}
}
