package tally_test

import (
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// BenchmarkOf measures the tallies of a typical write: a move from one
// waiting stage to the next, a send decided there, and a conversion.
func BenchmarkOf(b *testing.B) {
	entered := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	at := entered.Add(26 * time.Hour)
	w := &store.CustomerWrite{Results: []engine.Result{{
		Transitions: []engine.Transition{
			{Journey: "j", Instance: "c/j/1", From: "welcome", To: "remind", Cause: "after:1d", Status: "active", At: at,
				Entered: entered, Since: entered.Add(time.Hour), Visit: 3, First: true},
			{Journey: "j", Instance: "c/j/1", From: "remind", To: "end", Cause: "goal:paid", Status: "converted", At: at,
				Entered: entered, Since: at, Visit: 3, Visited: []string{"welcome", "nudge", "remind"}, Splits: map[string]string{"nudge": "a"}},
		},
		Sends: []engine.Send{{Journey: "j", Instance: "c/j/1", Name: "reminder", Fate: "deliver", At: at, Entered: entered}},
	}}}
	b.ReportAllocs()
	for b.Loop() {
		tally.Merge(tally.Of(w))
	}
}
