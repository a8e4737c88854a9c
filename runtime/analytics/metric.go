package analytics

import (
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/store"
)

// MetricScore is the document of GET /v1/metrics/{name}: a metric's score
// over every response in the range, and by journey (journey "" holds the
// responses of customers in no journey).
type MetricScore struct {
	Metric    string         `json:"metric"`
	Kind      string         `json:"kind"`
	Since     time.Time      `json:"since"`
	Until     time.Time      `json:"until"`
	Responses int            `json:"responses"`
	Score     float64        `json:"score"`
	ByJourney []JourneyScore `json:"by_journey"`
}

// JourneyScore is a metric's score over the responses given in one
// journey.
type JourneyScore struct {
	Journey   string  `json:"journey"`
	Responses int     `json:"responses"`
	Score     float64 `json:"score"`
}

// MetricFromTallies scores metric m from tallies summed per journey
// (store.Tallies.SumTallies of each journey, under the names in journeys,
// in that order; "" for responses in no journey) over the whole hours
// [since, until): the responses of the instances that entered in them, and
// those in no journey given in them. Journeys without responses are left
// out.
func MetricFromTallies(m ir.Metric, journeys []string, byJourney map[string][]store.Tally, since, until time.Time) *MetricScore {
	out := &MetricScore{Metric: m.Name, Kind: m.Kind, Since: since, Until: until, ByJourney: []JourneyScore{}}
	var all stats.Responses
	for _, j := range journeys {
		var r stats.Responses
		for _, byStage := range responses(index(byJourney[j]), m.Name) {
			r = r.Plus(byStage)
		}
		if r.N == 0 {
			continue
		}
		all = all.Plus(r)
		out.ByJourney = append(out.ByJourney, JourneyScore{Journey: j, Responses: int(r.N), Score: r.Score(m.Kind)})
	}
	out.Responses, out.Score = int(all.N), all.Score(m.Kind)
	return out
}
