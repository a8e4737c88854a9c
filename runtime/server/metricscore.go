package server

import (
	"fmt"
	"net/http"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/store"
)

// handleMetricScore answers GET /v1/metrics/{name}?since=&until=: a
// metric of the running program scored over all its responses in the
// range's whole hours, and by journey, from the store's tallies: the
// responses of the instances that entered in the range (each journey
// with its former names), and those of customers in no journey (journey
// "") given in it.
func (s *Server) handleMetricScore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	prog := s.w.Engine().Program()
	var m *ir.Metric
	for k := range prog.Metrics {
		if prog.Metrics[k].Name == name {
			m = &prog.Metrics[k]
		}
	}
	if m == nil {
		writeError(w, http.StatusNotFound, "no metric "+quote(name)+" in the running program")
		return
	}
	st, ok := s.st.(store.Tallies)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) keeps no analytics tallies: metric scores need them", s.st))
		return
	}
	since, until, ok := s.rangeQuery(w, r)
	if !ok {
		return
	}
	from, to, start, end := analytics.HourRange(since, until)
	journeys := make([]string, 0, len(prog.Journeys)+1)
	for _, j := range prog.Journeys {
		journeys = append(journeys, j.Name)
	}
	journeys = append(journeys, "") // responses in no journey
	byJourney := map[string][]store.Tally{}
	for _, j := range journeys {
		names := []string{""}
		if j != "" {
			names = journeyNames(prog, j)
		}
		ts, err := st.SumTallies(r.Context(), names, from, to)
		if err != nil {
			s.storeFailed(w, "the analytics tallies of journey "+quote(j), err)
			return
		}
		byJourney[j] = ts
	}
	writeJSON(w, http.StatusOK, analytics.MetricFromTallies(*m, journeys, byJourney, start, end))
}
