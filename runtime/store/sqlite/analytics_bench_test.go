package sqlite

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/store"
)

// benchInstances is the benchmark's scale: WAYMARK_ANALYTICS_INSTANCES, by
// default 100,000 instances (about a million records), small enough for
// `make bench` on two cores; the figure is at 1,000,000.
func benchInstances(b *testing.B) int {
	n := 100_000
	if v := os.Getenv("WAYMARK_ANALYTICS_INSTANCES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("WAYMARK_ANALYTICS_INSTANCES=%q: want a number ≥ 1000", v)
		}
	}
	return n
}

// BenchmarkJourneyAnalytics measures GET /analytics's work over a store of
// benchInstances instances of testdata/tally's journey (about ten records
// each), the inputs handled by the engine in time order (one a second
// enters) and committed a window of 200 seconds a batch, as a server
// would: the tallies are the ones live commits make. In the same run it
// measures the analytics from the tallies (SumTallies over the journey's
// cohort hours; s/query, the issue asks under 1 s at 1,000,000 instances),
// the same from every record (JourneyRecords folded by runtime/analytics,
// the way before the tallies; fold_s/query), and ingest with what the
// analytics keep (the tallies; since schema 9 the history has no journey
// index to keep for them) against a store without them: the same batches into both in turn over the first
// tenth of the instances (at least 20,000), events/s of each and
// ingest_ratio (with/without; the issue asks ≥ 0.9).
//
//	WAYMARK_ANALYTICS_INSTANCES=1000000 go test ./runtime/store/sqlite -run '^$' -bench JourneyAnalytics -benchtime 1x -timeout 60m
func BenchmarkJourneyAnalytics(b *testing.B) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := benchInstances(b)
	with := benchStore(b)
	without := benchStore(b)
	without.noTallies = true
	sim := newBillSim(b, n, time.Second, t0)
	commit := func(s *Store, ws []store.CustomerWrite) time.Duration {
		start := time.Now()
		if err := s.Commit(ctx, &store.Batch{Customers: ws}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tWith, tWithout time.Duration
	var events int
	cmp := min(n, max(n/10, 20_000))
	build := time.Now()
	for k := 0; !sim.Done(); k++ {
		steps := sim.Steps
		ws := sim.Window(200 * time.Second)
		if sim.next > cmp || len(ws) == 0 {
			commit(with, ws)
			continue
		}
		// In turn, each first every other batch: both see the same
		// machine, caches and checkpoints.
		events += sim.Steps - steps
		if k%2 == 0 {
			tWith += commit(with, ws)
			tWithout += commit(without, ws)
		} else {
			tWithout += commit(without, ws)
			tWith += commit(with, ws)
		}
	}
	var records int64
	if err := with.rdb.QueryRow("SELECT count(*) FROM history WHERE journey = 'bill'").Scan(&records); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "BenchmarkJourneyAnalytics: %d instances, %d inputs, %d records committed in %v\n",
		n, sim.Steps, records, time.Since(build).Round(time.Second))

	// The fold of every record, once, over the same whole hours.
	j, metrics := benchJourney(b)
	from, to, since, until := analytics.HourRange(t0, sim.now.Add(time.Hour))
	start := time.Now()
	acc := analytics.NewAccumulator(j, since, until)
	acc.Measure(metrics)
	if err := with.JourneyRecords(ctx, "bill", until, func(r store.JourneyRecord) error {
		acc.Add(r)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	folded := acc.Report()
	fold := time.Since(start)

	// The analytics from the tallies: the sum and the document.
	var rep *analytics.Analytics
	var ts []store.Tally
	b.ResetTimer()
	for b.Loop() {
		var err error
		if ts, err = with.SumTallies(ctx, []string{"bill"}, from, to); err != nil {
			b.Fatal(err)
		}
		rep = analytics.FromTallies(j, metrics, ts, since, until)
	}
	b.StopTimer()
	if rep.Entered != n || folded.Entered != n || rep.Converted != folded.Converted || rep.Exited != folded.Exited || rep.Active != folded.Active {
		b.Fatalf("from the tallies: %d entered, %d converted, %d exited, %d active; from the records %d, %d, %d, %d; want %d entered",
			rep.Entered, rep.Converted, rep.Exited, rep.Active, folded.Entered, folded.Converted, folded.Exited, folded.Active, n)
	}
	q := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(q, "s/query")
	b.ReportMetric(fold.Seconds(), "fold_s/query")
	b.ReportMetric(float64(n), "instances")
	b.ReportMetric(float64(events)/tWith.Seconds(), "events/s_with")
	b.ReportMetric(float64(events)/tWithout.Seconds(), "events/s_without")
	b.ReportMetric(float64(tWithout)/float64(tWith), "ingest_ratio")
	fmt.Fprintf(os.Stderr, "BenchmarkJourneyAnalytics: %d instances, %d records: %.4f s a query from %d tallies, %.3f s from the records (%.0f× faster); "+
		"ingest with the analytics tallies at %.0f events/s, without at %.0f: %.3f× the rate (%d events each)\n",
		n, records, q, len(ts), fold.Seconds(), fold.Seconds()/q,
		float64(events)/tWith.Seconds(), float64(events)/tWithout.Seconds(), float64(tWithout)/float64(tWith), events)
}

// benchJourney is testdata/tally's journey and metrics, as the analytics
// read them.
func benchJourney(b *testing.B) (*ir.Journey, []ir.Metric) {
	res, diags := compiler.CompileDir("testdata/tally")
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	for k := range res.Program.Journeys {
		if res.Program.Journeys[k].Name == "bill" {
			return &res.Program.Journeys[k], res.Program.Metrics
		}
	}
	b.Fatal("testdata/tally has no journey bill")
	return nil, nil
}
