package console

import (
	"reflect"
	"testing"

	"github.com/waymark-dev/waymark/runtime/analytics"
)

// The measured lanes follow the page's stage order, show "–" for a stage
// without figures, and give each CX metric a lane with its score by stage.
func TestLanesOf(t *testing.T) {
	a := &analytics.Analytics{Entered: 40,
		Stages: []analytics.Stage{
			{Name: "engaged", Entered: 15, Leaked: 3, Leakage: 0.2, MedianSeconds: 5400, P90Seconds: 3 * 86400},
			{Name: "welcome", Entered: 40, Leaked: 5, Leakage: 0.125, MedianSeconds: 30, P90Seconds: 90},
		},
		Metrics: []analytics.Metric{{Name: "nps", Kind: "nps", Responses: 12, Score: 25,
			ByStage: []analytics.StageMetric{{Stage: "welcome", Responses: 12, Score: 25}}}},
	}
	lanes := lanesOf(a, []string{"welcome", "engaged", "gone"})
	got := map[string][]string{}
	for _, l := range lanes {
		got[l.Name] = l.Cells
	}
	want := map[string][]string{
		"Reach":         {"40 (100.0%)", "15 (37.5%)", "–"},
		"Drop-off":      {"12.5% (5)", "20.0% (3)", "–"},
		"Time in stage": {"30s (90s)", "90m (3.0d)", "–"},
		"NPS nps":       {"25.0 (n 12)", "–", "–"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lanes:\n got %v\nwant %v", got, want)
	}
}

func TestDuration(t *testing.T) {
	for sec, want := range map[float64]string{0: "0s", 59: "59s", 119: "119s", 120: "2m", 7199: "120m", 7200: "2.0h", 172800: "2.0d"} {
		if got := duration(sec); got != want {
			t.Errorf("duration(%v) = %q, want %q", sec, got, want)
		}
	}
}
