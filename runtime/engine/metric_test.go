package engine

import (
	"testing"
)

// metricProgram has two journeys a customer can be in at once, both left
// by the survey event itself, and an NPS metric on that event.
const metricProgram = `
journey "onboarding" {
  entry "signed_up" {}
  stage "welcome" {
    on "survey_answered" { goto = stage.thanks }
  }
  stage "thanks" {
    after "1d" { goto = end }
  }
}
journey "billing" {
  entry "invoiced" {}
  goal "survey_answered" {}
  stage "due" {
    after "30d" { goto = end }
  }
}
metric "nps" {
  kind  = "nps"
  event = "survey_answered"
  value = event.score
}
`

func TestMetricResponses(t *testing.T) {
	e := newEngine(t, compile(t, metricProgram), Options{})
	type resp struct {
		metric, journey, stage string
		value                  float64
	}
	got := func(r Result) []resp {
		var out []resp
		for _, x := range r.Responses {
			out = append(out, resp{x.Metric, x.Journey, x.Stage, x.Value})
			if !x.At.Equal(t0) {
				t.Errorf("response at %v, want %v", x.At, t0)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		before []string // entry events, in order
		score  any
		want   []resp
		err    bool
	}{
		{name: "two journeys: one response each, in the stage before the event moved it",
			before: []string{"signed_up", "invoiced"}, score: 9,
			want: []resp{{"nps", "onboarding", "welcome", 9}, {"nps", "billing", "due", 9}}},
		{name: "one journey", before: []string{"signed_up"}, score: 3.5,
			want: []resp{{"nps", "onboarding", "welcome", 3.5}}},
		{name: "in no journey: one response with no journey", score: 10,
			want: []resp{{"nps", "", "", 10}}},
		{name: "a value that is not a number is an error, no response",
			before: []string{"signed_up"}, score: "high", err: true},
		{name: "a missing value is an error, no response",
			before: []string{"signed_up"}, score: nil, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c1", nil)
			for _, ev := range tc.before {
				s.event(ev, nil)
			}
			props := map[string]any{}
			if tc.score != nil {
				props["score"] = tc.score
			}
			r := s.event("survey_answered", props)
			if g := got(r); len(g) != len(tc.want) {
				t.Fatalf("responses %v, want %v", g, tc.want)
			} else {
				for i := range g {
					if g[i] != tc.want[i] {
						t.Errorf("response %d: %+v, want %+v", i, g[i], tc.want[i])
					}
				}
			}
			if hasError([]Result{r}, "metric nps") != tc.err {
				t.Errorf("errors %v, want an error: %v", r.Errors, tc.err)
			}
			// The event still moved the customer on as usual.
			if len(tc.before) > 0 && tc.before[0] == "signed_up" && s.inst("onboarding").Stage != "thanks" {
				t.Errorf("onboarding is in %q, want thanks", s.inst("onboarding").Stage)
			}
		})
	}
}

// TestResultSeq: every record of a Result has its own Seq, 1 to n in the
// order it happened: the responses an event carries come before the moves
// it makes, and emitted events are numbered too. (Responses once took the
// Seq of the next transition.)
func TestResultSeq(t *testing.T) {
	e := newEngine(t, compile(t, metricProgram+`
journey "echo" {
  entry "signed_up" {}
  stage "wait" {
    on "survey_answered" { goto = stage.said }
  }
  stage "said" {
    emit "thanked" {}
  }
}
`), Options{})
	s := newSim(t, e, "c1", nil)
	s.event("signed_up", nil)
	s.event("invoiced", nil)
	r := s.event("survey_answered", map[string]any{"score": 9})
	kinds := map[int]string{}
	add := func(seq int, kind string) {
		if prev, ok := kinds[seq]; ok {
			t.Errorf("seq %d is both a %s and a %s", seq, prev, kind)
		}
		kinds[seq] = kind
	}
	for _, x := range r.Responses {
		add(x.Seq, "response")
	}
	for _, x := range r.Transitions {
		add(x.Seq, "transition "+x.From+"→"+x.To)
	}
	for _, x := range r.Sends {
		add(x.Seq, "send")
	}
	for _, x := range r.Emitted {
		add(x.Seq, "emit "+x.Event)
	}
	for _, x := range r.Errors {
		add(x.Seq, "error")
	}
	for _, x := range r.Refusals {
		add(x.Seq, "refusal")
	}
	for seq := 1; seq <= len(kinds); seq++ {
		if _, ok := kinds[seq]; !ok {
			t.Errorf("no record has seq %d: %v", seq, kinds)
		}
	}
	if len(r.Responses) != 3 || len(r.Emitted) != 1 {
		t.Fatalf("%d responses, %d emitted, want 3 and 1 (the test's premise)", len(r.Responses), len(r.Emitted))
	}
	for _, x := range r.Responses {
		for _, tr := range r.Transitions {
			if tr.Seq < x.Seq {
				t.Errorf("transition %s→%s (seq %d) before a response (seq %d)", tr.From, tr.To, tr.Seq, x.Seq)
			}
		}
	}
	if r.InputSeq != 1 {
		t.Errorf("InputSeq %d, want 1 (nothing was due)", r.InputSeq)
	}
}
