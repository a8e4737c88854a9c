package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The analytics context each transition carries (Entered, Since, Visit,
// First, and on moves to the end Visited and Splits; Splits on a move that
// first assigns a split variant) and the instance's Visited and Splits.
func TestTransitionContext(t *testing.T) {
	const src = `
journey "j" {
  reentry = "always"
  entry "go" {}
  goal "buy" {}
  exit "stop" {}
  stage "a" {
    on "next" { goto = stage.s }
    on "out"  { goto = stage.h }
    after "1h" { goto = stage.b }
  }
  stage "s" {
    split {
      variant "x" {
        weight = 1
        goto   = stage.a
      }
    }
  }
  stage "h" {
    split {
      variant "hold" {
        weight = 1
        goto   = end
      }
    }
  }
  stage "b" {
    on "next"  { goto = stage.a }
    on "again" { goto = stage.b }
  }
}
`
	e := newEngine(t, compile(t, src), Options{})
	type step struct {
		at    time.Duration
		event string // "" wakes
	}
	for _, tt := range []struct {
		name        string
		steps       []step
		want        []string // from>to v=VISIT first=B since=+D [splits=...] [visited=...] (see describe)
		wantVisited []string
		wantSplits  map[string]string
	}{
		{"entry, a timer, a goal", []step{{0, "go"}, {time.Hour, ""}, {90 * time.Minute, "buy"}}, []string{
			">a v=1 first=true since=-",
			"a>b v=2 first=true since=+0s",
			"b>end v=2 first=false since=+1h0m0s visited=[a b]",
		}, []string{"a", "b"}, nil},
		{"a loop through a split assigns once", []step{{0, "go"}, {10 * time.Minute, "next"}, {20 * time.Minute, "next"}, {30 * time.Minute, "buy"}}, []string{
			">a v=1 first=true since=-",
			"a>s v=2 first=true since=+0s",
			"s>a v=3 first=false since=+10m0s splits=map[s:x]",
			"a>s v=4 first=false since=+10m0s",
			"s>a v=5 first=false since=+20m0s",
			"a>end v=5 first=false since=+20m0s splits=map[s:x] visited=[a s]",
		}, []string{"a", "s"}, map[string]string{"s": "x"}},
		{"a split to the end: Splits holds the assignments from before it", []step{{0, "go"}, {5 * time.Minute, "next"}, {6 * time.Minute, "out"}}, []string{
			">a v=1 first=true since=-",
			"a>s v=2 first=true since=+0s",
			"s>a v=3 first=false since=+5m0s splits=map[s:x]",
			"a>h v=4 first=true since=+5m0s",
			"h>end v=4 first=false since=+6m0s splits=map[s:x] visited=[a s h]",
		}, []string{"a", "s", "h"}, map[string]string{"s": "x", "h": "hold"}},
		{"a stage's move to itself is an entry", []step{{0, "go"}, {time.Hour, ""}, {2 * time.Hour, "again"}, {3 * time.Hour, "buy"}}, []string{
			">a v=1 first=true since=-",
			"a>b v=2 first=true since=+0s",
			"b>b v=3 first=false since=+1h0m0s",
			"b>end v=3 first=false since=+2h0m0s visited=[a b]",
		}, []string{"a", "b"}, nil},
		{"an exit", []step{{0, "go"}, {time.Minute, "stop"}}, []string{
			">a v=1 first=true since=-",
			"a>end v=1 first=false since=+0s visited=[a]",
		}, []string{"a"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			var rs []Result
			for _, st := range tt.steps {
				s.now = t0.Add(st.at)
				if st.event == "" {
					rs = append(rs, s.step(Input{Kind: KindWake}))
				} else {
					rs = append(rs, s.event(st.event, nil))
				}
			}
			var got []string
			for _, r := range rs {
				for _, tr := range r.Transitions {
					if !tr.Entered.Equal(t0) {
						t.Errorf("%s>%s: Entered %v, want %v", tr.From, tr.To, tr.Entered, t0)
					}
					got = append(got, describe(tr))
				}
			}
			eq(t, "transitions", got, tt.want)
			in := s.inst("j")
			if !reflect.DeepEqual(in.Visited, tt.wantVisited) || !reflect.DeepEqual(in.Splits, tt.wantSplits) {
				t.Errorf("instance: visited %v splits %v, want %v %v", in.Visited, in.Splits, tt.wantVisited, tt.wantSplits)
			}
		})
	}
}

// describe is a transition with its context, in the test's notation.
func describe(tr Transition) string {
	since := "-"
	if !tr.Since.IsZero() {
		since = fmt.Sprintf("+%v", tr.Since.Sub(t0))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s>%s v=%d first=%v since=%s", tr.From, tr.To, tr.Visit, tr.First, since)
	if len(tr.Splits) > 0 {
		fmt.Fprintf(&b, " splits=%v", tr.Splits) // fmt prints a map's keys sorted
	}
	if tr.Visited != nil {
		fmt.Fprintf(&b, " visited=%v", tr.Visited)
	}
	return b.String()
}

// Sends and responses carry their instance's entry time; a held send gets
// it again when it is released from a state that went through JSON.
func TestSendAndResponseContext(t *testing.T) {
	const src = `
event "rated" {
  property "score" { type = number }
}
event "go" {}
policy "p" {
  quiet_hours = "21:00-08:00"
}
metric "nps" {
  kind  = "nps"
  event = "rated"
  value = event.score
}
journey "j" {
  policy = policy.p
  entry "go" {}
  stage "a" {
    send "hi" {
      channel = channel.log
      data    = { x = 1 }
    }
    on "rated" { goto = end }
  }
}
`
	e := newEngine(t, compile(t, src), Options{})
	s := newSim(t, e, "c-1", nil)
	entered := t0.Add(12 * time.Hour) // 22:00: quiet hours
	s.now = entered
	r := s.event("go", nil)
	if len(r.Sends) != 1 || r.Sends[0].Fate != FateHeld || !r.Sends[0].Entered.Equal(entered) {
		t.Fatalf("held send: %+v", r.Sends)
	}
	s.now = t0.Add(22 * time.Hour) // 08:00 the next day
	r = s.step(Input{Kind: KindWake})
	if len(r.Sends) != 1 || r.Sends[0].Fate != FateDeliver || !r.Sends[0].Entered.Equal(entered) {
		t.Fatalf("released send: %+v", r.Sends)
	}
	r = s.event("rated", map[string]any{"score": 9})
	if len(r.Responses) != 1 || !r.Responses[0].Entered.Equal(entered) {
		t.Fatalf("response: %+v", r.Responses)
	}
	// In no journey: no instance, no entry time (its cohort is its own hour).
	r = s.event("rated", map[string]any{"score": 3})
	if len(r.Responses) != 1 || r.Responses[0].Instance != "" || !r.Responses[0].Entered.IsZero() {
		t.Fatalf("response in no journey: %+v", r.Responses)
	}
}
