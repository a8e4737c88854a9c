package analytics

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/store/tally"
	"github.com/waymark-dev/waymark/runtime/store/tally/tallytest"
)

// The oracle: over realistic workloads, the report of the live tallies
// equals the Accumulator's report of the records, field by field, but for
// the durations, which are the histogram bucket of the exact value (so
// within DurationBucket's bound of it). The range is whole hours and ends
// after every record, where the two semantics (entry range, as they stand
// now) meet.
func TestFromTalliesMatchesAccumulator(t *testing.T) {
	for _, o := range []tallytest.Options{
		{Seed: 11, Customers: 40, Hours: 24 * 6},
		{Seed: 12, Customers: 120, Hours: 24 * 14},
		{Seed: 13, Customers: 60, Hours: 24 * 30},
	} {
		t.Run(fmt.Sprintf("seed%d", o.Seed), func(t *testing.T) {
			w := tallytest.Run(t, o)
			j := journey(t, w.Program, tallytest.Journey)
			from, to, since, until := HourRange(w.Start, w.End.Add(time.Hour))
			// A sub-range too: the first day's cohorts only.
			day, _, _, dayEnd := HourRange(w.Start, w.Start.Add(24*time.Hour))
			for _, r := range []struct {
				from, to    int64
				since, till time.Time
			}{{from, to, since, until}, {day, tally.Cohort(dayEnd), since, dayEnd}} {
				// Every record, even after till: the tallies are the
				// instances as they stand now (Add selects by entry only).
				acc := NewAccumulator(j, r.since, r.till)
				acc.Measure(w.Program.Metrics)
				for _, rec := range w.RecordsOf(tallytest.Journey) {
					acc.Add(rec)
				}
				ts := tally.Sum(w.Live, []string{tallytest.Journey}, r.from, r.to)
				want, got := acc.Report(), FromTallies(j, w.Program.Metrics, ts, r.since, r.till)
				if want.Entered < 10 || len(want.Splits) == 0 || want.Splits[0].Variants[0].Assigned == 0 {
					t.Fatalf("the workload does too little: %+v", want)
				}
				sameReport(t, got, want)
				for steps := 1; steps <= MaxSteps; steps++ {
					wp, gp := acc.Paths(steps), PathsFromTallies(j, ts, steps, r.since, r.till)
					if !reflect.DeepEqual(gp, wp) {
						t.Errorf("Paths(%d):\n got %+v\nwant %+v", steps, gp, wp)
					}
				}
			}
		})
	}
}

func journey(t *testing.T, p *ir.Program, name string) *ir.Journey {
	for k := range p.Journeys {
		if p.Journeys[k].Name == name {
			return &p.Journeys[k]
		}
	}
	t.Fatalf("no journey %s", name)
	return nil
}

// sameReport compares got (from tallies) with want (from records): the
// durations to their histogram bucket, the scores to float rounding (the
// sums add in another order), the rest exactly.
func sameReport(t *testing.T, got, want *Analytics) {
	t.Helper()
	bucketed := func(what string, g, w float64) {
		t.Helper()
		if b := stats.BucketValue(stats.DurationBucket(w)); g != b {
			t.Errorf("%s: %g from the histogram, want %g (the bucket of %g)", what, g, b, w)
		}
		if math.Abs(g-w) > math.Max(0.005*w, 0.0005) {
			t.Errorf("%s: %g is beyond the bound of %g", what, g, w)
		}
	}
	g, w := *got, *want
	g.Stages, g.Goals, g.Metrics = append([]Stage(nil), got.Stages...), append([]Goal(nil), got.Goals...), append([]Metric(nil), got.Metrics...)
	for k := range g.Stages {
		if k < len(w.Stages) {
			bucketed(g.Stages[k].Name+" median", g.Stages[k].MedianSeconds, w.Stages[k].MedianSeconds)
			bucketed(g.Stages[k].Name+" p90", g.Stages[k].P90Seconds, w.Stages[k].P90Seconds)
			g.Stages[k].MedianSeconds, g.Stages[k].P90Seconds = w.Stages[k].MedianSeconds, w.Stages[k].P90Seconds
		}
	}
	for k := range g.Goals {
		if k < len(w.Goals) {
			bucketed(g.Goals[k].Name+" median", g.Goals[k].MedianSeconds, w.Goals[k].MedianSeconds)
			g.Goals[k].MedianSeconds = w.Goals[k].MedianSeconds
		}
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for k := range g.Metrics {
		if k >= len(w.Metrics) {
			break
		}
		m := g.Metrics[k]
		m.ByStage = append([]StageMetric(nil), m.ByStage...)
		if close(m.Score, w.Metrics[k].Score) {
			m.Score = w.Metrics[k].Score
		}
		for i := range m.ByStage {
			if i < len(w.Metrics[k].ByStage) && close(m.ByStage[i].Score, w.Metrics[k].ByStage[i].Score) {
				m.ByStage[i].Score = w.Metrics[k].ByStage[i].Score
			}
		}
		g.Metrics[k] = m
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("FromTallies:\n got %+v\nwant %+v", g, w)
	}
}

// HourRange widens a range to whole UTC hours, before 1970 as after it:
// since down to its hour, until up to the next unless on one already.
func TestHourRange(t *testing.T) {
	h := func(s string) time.Time {
		x, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tt := range []struct {
		since, until string
		from, to     int64
		start, end   string
	}{
		{"1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z", 0, 1, "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"},
		{"1970-01-01T00:00:00.000000001Z", "1970-01-01T00:59:59.999999999Z", 0, 1, "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"},
		{"1969-12-31T23:59:59.5Z", "1970-01-01T00:00:00.5Z", -1, 1, "1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z"},
		{"1969-12-31T23:00:00Z", "1970-01-01T00:00:00Z", -1, 0, "1969-12-31T23:00:00Z", "1970-01-01T00:00:00Z"},
		{"1969-12-31T22:00:00.000000001Z", "1969-12-31T22:00:00.5Z", -2, -1, "1969-12-31T22:00:00Z", "1969-12-31T23:00:00Z"},
		{"2026-03-02T10:30:00+02:00", "2026-03-02T11:00:00+02:00", 492344, 492345, "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"},
		{"0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", -17259888, 70389527, "0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00.5Z", -17268672, -17268671, "0000-01-01T00:00:00Z", "0000-01-01T01:00:00Z"},
	} {
		from, to, start, end := HourRange(h(tt.since), h(tt.until))
		if from != tt.from || to != tt.to || !start.Equal(h(tt.start)) || !end.Equal(h(tt.end)) {
			t.Errorf("HourRange(%s, %s) = %d, %d, %s, %s; want %d, %d, %s, %s", tt.since, tt.until,
				from, to, start.Format(time.RFC3339), end.Format(time.RFC3339), tt.from, tt.to, tt.start, tt.end)
		}
		if start.Location() != time.UTC || end.Location() != time.UTC {
			t.Errorf("HourRange(%s, %s): times not in UTC", tt.since, tt.until)
		}
	}
}
