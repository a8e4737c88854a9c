package engine

import (
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestEntryWhen(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "order_completed" { when = event.category == "phone" && event.amount > 100 }
  stage "s" {
    after "1d" { goto = end }
  }
}`)
	e := newEngine(t, p, Options{})
	tests := []struct {
		name  string
		props map[string]any
		enter bool
	}{
		{"matches", map[string]any{"category": "phone", "amount": 4999.0}, true},
		{"other category", map[string]any{"category": "case", "amount": 4999.0}, false},
		{"too cheap", map[string]any{"category": "phone", "amount": 10}, false},
		{"int amount", map[string]any{"category": "phone", "amount": int64(101)}, true},
		// A missing property is null: `null > 100` is an error, the when
		// counts as false and the error is recorded.
		{"missing amount", map[string]any{"category": "phone"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			s.event("order_completed", tc.props)
			in := s.c.Instance("j")
			if got := in != nil; got != tc.enter {
				t.Fatalf("entered = %v, want %v", got, tc.enter)
			}
			if tc.enter {
				eq(t, "path", s.path("j"), []string{"->s(entry:order_completed)"})
				if in.Status != StatusActive || in.Stage != "s" || in.ID != "c-1/j/1" {
					t.Errorf("instance = %+v", in)
				}
			}
		})
	}
	s := newSim(t, e, "c-1", nil)
	s.event("other_event", map[string]any{"category": "phone", "amount": 4999.0})
	if s.c.Instance("j") != nil {
		t.Error("an event that is not an entry event admitted the customer")
	}
}

func TestEntryWhenErrorIsRecorded(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" { when = upper(event.name) == "X" }
  stage "s" {}
}`)
	e := newEngine(t, p, Options{})
	s := newSim(t, e, "c-1", nil)
	r := s.event("go", nil) // event.name is null: upper(null) fails
	if s.c.Instance("j") != nil {
		t.Fatal("a when that failed admitted the customer")
	}
	if len(r.Errors) != 1 || r.Errors[0].Where != "entry go when" || r.Errors[0].Range == nil || r.Errors[0].Range.Start.Line != 3 {
		t.Fatalf("errors = %+v", r.Errors)
	}
}

func TestReentry(t *testing.T) {
	tests := []struct {
		rule string
		// after the first instance ended (at t0+1d, when its after fires),
		// a second entry event at each of these offsets from t0: does it
		// admit the customer?
		at   []time.Duration
		want []bool
	}{
		{`"never"`, []time.Duration{2 * day, 400 * day}, []bool{false, false}},
		{`"always"`, []time.Duration{1*day + time.Second}, []bool{true}},
		// after 30d counts from the end of the previous instance (t0+1d).
		{`"after 30d"`, []time.Duration{30 * day, 31*day - time.Second, 31 * day}, []bool{false, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			p := compile(t, `
journey "j" {
  reentry = `+tc.rule+`
  entry "go" {}
  stage "s" {
    after "1d" { goto = end }
  }
}`)
			e := newEngine(t, p, Options{})
			s := newSim(t, e, "c-1", nil)
			s.event("go", nil)
			// While the instance is active, entry events are ignored.
			s.now = t0.Add(time.Hour)
			r := s.event("go", nil)
			if len(r.Refusals) != 1 || r.Refusals[0].Reason != RefusedActive {
				t.Fatalf("second entry while active: refusals %+v", r.Refusals)
			}
			if in := s.inst("j"); in.Seq != 1 || in.EnteredAt != t0 {
				t.Fatalf("the active instance was replaced: %+v", in)
			}
			s.advance(day - time.Hour)
			if in := s.inst("j"); in.Status != StatusCompleted || !in.EndedAt.Equal(t0.Add(day)) {
				t.Fatalf("first instance: %+v", in)
			}
			seq := 1
			for i, off := range tc.at {
				s.now = t0.Add(off)
				r := s.event("go", nil)
				entered := s.inst("j").Seq > seq
				if entered != tc.want[i] {
					t.Errorf("entry at t0+%v: entered = %v, want %v (refusals %+v)", off, entered, tc.want[i], r.Refusals)
				}
				if entered {
					seq++
					if in := s.inst("j"); in.ID != "c-1/j/"+itoa(seq) || in.Status != StatusActive {
						t.Errorf("new instance: %+v", in)
					}
					if len(s.c.Instances) != 1 {
						t.Errorf("the ended instance was kept beside the new one: %d instances", len(s.c.Instances))
					}
				} else if len(r.Refusals) != 1 || r.Refusals[0].Reason != RefusedReentry {
					t.Errorf("refusal = %+v, want reentry", r.Refusals)
				}
			}
		})
	}
}

func TestGoalsAndExitsAreImmediate(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  goal "bought" { when = event.amount > 10 }
  exit "unsubscribed" {}
  stage "wait" {
    on "ping" { goto = stage.second }
    after "2d" { goto = stage.nudge }
  }
  stage "second" {
    after "1d" { goto = stage.nudge }
  }
  stage "nudge" {
    send "nudge" {
      channel = channel.log
      data    = { id = customer.id }
    }
  }
}`)
	e := newEngine(t, p, Options{})
	tests := []struct {
		name   string
		event  string
		props  map[string]any
		status string
		cause  string
	}{
		{"goal", "bought", map[string]any{"amount": 50}, StatusConverted, "goal:bought"},
		{"goal when false", "bought", map[string]any{"amount": 5}, StatusActive, ""},
		{"exit", "unsubscribed", nil, StatusExited, "exit:unsubscribed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			s.event("go", nil)
			s.now = t0.Add(day) // mid-wait
			s.event(tc.event, tc.props)
			in := s.inst("j")
			if in.Status != tc.status || in.Cause != tc.cause {
				t.Fatalf("status %s cause %q, want %s %q", in.Status, in.Cause, tc.status, tc.cause)
			}
			r := s.advance(5 * day)
			if tc.status == StatusActive {
				eq(t, "sends", sent(FateDeliver, r), []string{"nudge"})
				return
			}
			if !in.EndedAt.Equal(t0.Add(day)) {
				t.Errorf("ended at %v, want the event's time", in.EndedAt)
			}
			if len(r.Sends)+len(r.Transitions) != 0 || !r.NextWake.IsZero() {
				t.Errorf("an ended instance moved on: %+v", r)
			}
			eq(t, "path", s.path("j"), []string{"->wait(entry:go)", "wait>end(" + tc.cause + ")"})
		})
	}
	// A goal is checked before the stage's `on` for the same event, and a
	// goal wins over an exit.
	p2 := compile(t, `
journey "k" {
  entry "go" {}
  goal "done" {}
  exit "done" {}
  stage "wait" {
    on "done" { goto = stage.other }
  }
  stage "other" {}
}`)
	s := newSim(t, newEngine(t, p2, Options{}), "c-1", nil)
	s.event("go", nil)
	s.event("done", nil)
	eq(t, "path", s.path("k"), []string{"->wait(entry:go)", "wait>end(goal:done)"})
}

func TestOnAfterRace(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "check" {
    on "ticket" {
      when = event.topic == "activation"
      goto = stage.support
    }
    on "ticket" { goto = stage.other_support }
    after "1d" { goto = stage.route }
  }
  stage "support" {}
  stage "other_support" {}
  stage "route" {
    on "ticket" { goto = stage.late }
    after "1d" { goto = end }
  }
  stage "late" {}
}`)
	e := newEngine(t, p, Options{})
	tests := []struct {
		name  string
		at    time.Duration // when the ticket event comes
		topic string
		want  []string
	}{
		{"event first, first on matches", 12 * time.Hour, "activation",
			[]string{"->check(entry:go)", "check>support(on:ticket)", "support>end(complete)"}},
		{"event first, first on false: the next on wins", 12 * time.Hour, "billing",
			[]string{"->check(entry:go)", "check>other_support(on:ticket)", "other_support>end(complete)"}},
		{"after first (event exactly at the due time)", day, "activation",
			[]string{"->check(entry:go)", "check>route(after:1d)", "route>late(on:ticket)", "late>end(complete)"}},
		// The shell was late: the timer was due before the event came, so
		// it happens first, at its own time, and the event meets the next stage.
		{"after first (no wake before the event)", 36 * time.Hour, "activation",
			[]string{"->check(entry:go)", "check>route(after:1d)", "route>late(on:ticket)", "late>end(complete)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			s.event("go", nil)
			s.now = t0.Add(tc.at)
			s.event("ticket", map[string]any{"topic": tc.topic})
			eq(t, "path", s.path("j"), tc.want)
			s.noErrors()
		})
	}
	// The after fired at its own due time, not at the event's.
	s := newSim(t, e, "c-1", nil)
	s.event("go", nil)
	s.now = t0.Add(36 * time.Hour)
	r := s.event("ticket", nil)
	if got := r.Transitions[0].At; !got.Equal(t0.Add(day)) {
		t.Errorf("the after fired at %v, want %v", got, t0.Add(day))
	}
	if got := r.Transitions[1].At; !got.Equal(s.now) {
		t.Errorf("the on fired at %v, want %v", got, s.now)
	}
}

func TestAt(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "booked" {}
  stage "wait" {
    at {
      time = entry.appointment
      goto = stage.reminder
    }
    after "30d" { goto = stage.expired }
  }
  stage "reminder" {}
  stage "expired" {}
}`)
	e := newEngine(t, p, Options{})
	tests := []struct {
		name     string
		appt     any
		wantNext time.Time // NextWake after the entry
		want     []string  // path after the entry
		errors   int
	}{
		{"future", "2026-03-05T09:30:00+01:00", time.Date(2026, 3, 5, 8, 30, 0, 0, time.UTC),
			[]string{"->wait(entry:booked)"}, 0},
		{"past fires at once", "2026-01-01T00:00:00Z", time.Time{},
			[]string{"->wait(entry:booked)", "wait>reminder(at)", "reminder>end(complete)"}, 0},
		{"not a time: ignored, the after still waits", "next tuesday", t0.Add(30 * day),
			[]string{"->wait(entry:booked)"}, 1},
		{"null: ignored", nil, t0.Add(30 * day), []string{"->wait(entry:booked)"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			props := map[string]any{}
			if tc.appt != nil {
				props["appointment"] = tc.appt
			}
			r := s.event("booked", props)
			eq(t, "path", s.path("j"), tc.want)
			if !r.NextWake.Equal(tc.wantNext) {
				t.Errorf("NextWake = %v, want %v", r.NextWake, tc.wantNext)
			}
			if len(r.Errors) != tc.errors {
				t.Errorf("errors = %+v", r.Errors)
			}
			if tc.errors > 0 && r.Errors[0].Where != "at time" {
				t.Errorf("error where = %q", r.Errors[0].Where)
			}
			if !tc.wantNext.IsZero() {
				s.now = tc.wantNext
				r := s.step(Input{Kind: KindWake})
				if len(r.Transitions) == 0 || !r.Transitions[0].At.Equal(tc.wantNext) {
					t.Errorf("wake at NextWake: %+v", r.Transitions)
				}
			}
		})
	}
}

// An at whose time fails is ignored while the stage has another way out;
// a stage left with none exits the instance with cause bad_time, and the
// failed time is an error in the customer's history either way.
func TestBadAtTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		waits string // the stage's other transitions
		want  []string
	}{
		{"only the at: exited", ``, []string{"->wait(entry:booked)", "wait>end(bad_time)"}},
		{"two bad ats: exited", `at {
      time = "also not a time"
      goto = stage.later
    }`, []string{"->wait(entry:booked)", "wait>end(bad_time)"}},
		{"an on still waits", `on "cancel" { goto = end }`, []string{"->wait(entry:booked)"}},
		{"an after still waits", `after "1d" { goto = stage.later }`, []string{"->wait(entry:booked)"}},
		{"a good at still waits", `at {
      time = "2030-01-01T00:00:00Z"
      goto = stage.later
    }`, []string{"->wait(entry:booked)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, compile(t, `
journey "j" {
  entry "booked" {}
  stage "wait" {
    at {
      time = entry.appointment
      goto = stage.later
    }
    `+tc.waits+`
  }
  stage "later" {}
}`), Options{})
			s := newSim(t, e, "c-1", nil)
			r := s.event("booked", map[string]any{"appointment": "next tuesday"})
			eq(t, "path", s.path("j"), tc.want)
			if !hasError([]Result{r}, "at time") {
				t.Errorf("no \"at time\" error recorded: %+v", r.Errors)
			}
			in := s.inst("j")
			exited := tc.want[len(tc.want)-1] == "wait>end(bad_time)"
			if exited != (in.Status == StatusExited && in.Cause == CauseBadTime) {
				t.Errorf("instance %s (%s), want exited by bad_time: %v", in.Status, in.Cause, exited)
			}
		})
	}
}

func TestBranchOrder(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "route" {
    branch {
      when = customer.plan == "premium"
      goto = stage.a
    }
    branch {
      when = customer.score > 10
      goto = stage.b
    }
    branch { goto = stage.c }
  }
  stage "a" {}
  stage "b" {}
  stage "c" {}
}`)
	e := newEngine(t, p, Options{})
	tests := []struct {
		traits map[string]any
		want   string
	}{
		{map[string]any{"plan": "premium", "score": 50}, "route>a(branch:1)"}, // both hold: the first wins
		{map[string]any{"plan": "basic", "score": 50}, "route>b(branch:2)"},
		{map[string]any{"plan": "basic", "score": 1}, "route>c(branch:3)"},
		// score missing: `null > 10` fails, counts as false, recorded.
		{map[string]any{"plan": "basic"}, "route>c(branch:3)"},
	}
	for _, tc := range tests {
		s := newSim(t, e, "c-1", tc.traits)
		r := s.event("go", nil)
		if got := s.path("j"); len(got) < 2 || got[1] != tc.want {
			t.Errorf("traits %v: path %v, want %s", tc.traits, got, tc.want)
		}
		if _, hasScore := tc.traits["score"]; !hasScore && !hasError([]Result{r}, "branch 2 when") {
			t.Errorf("traits %v: the failing when was not recorded: %+v", tc.traits, r.Errors)
		}
	}
}

func TestSplit(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "nudge" {
    split {
      variant "sms" {
        weight = 45
        goto   = stage.sms
      }
      variant "email" {
        weight = 45
        goto   = stage.email
      }
      variant "holdout" {
        weight = 10
        goto   = end
      }
    }
  }
  stage "sms" {}
  stage "email" {}
}`)
	e := newEngine(t, p, Options{})
	const n = 10000
	counts := map[string]int{}
	variantOf := func(id string) string {
		c := &Customer{ID: id}
		r := e.Step(c, Input{Kind: KindEvent, Event: "go"}, t0)
		return r.Transitions[1].Cause
	}
	names := []string{"split:sms", "split:email", "split:holdout"}
	for i := range n {
		id := "cust-" + itoa(i)
		v := variantOf(id)
		counts[v]++
		if i%97 == 0 && variantOf(id) != v {
			t.Fatalf("customer %s landed in %s, then elsewhere", id, v)
		}
		if i%13 == 0 {
			if k := Variant(id, "j", "nudge", []int{45, 45, 10}); names[k] != v {
				t.Fatalf("Variant says %s for %s, the engine did %s", names[k], id, v)
			}
		}
	}
	want := map[string]float64{"split:sms": 0.45, "split:email": 0.45, "split:holdout": 0.10}
	for v, share := range want {
		got := float64(counts[v]) / n
		if got < share-0.02 || got > share+0.02 {
			t.Errorf("%s: %.3f of customers, want %.2f±0.02 (%v)", v, got, share, counts)
		}
	}
}

// TestSplitHashIsFrozen pins the split function: a change would move
// customers between variants of running experiments.
func TestSplitHashIsFrozen(t *testing.T) {
	tests := []struct {
		customer, journey, stage string
		want                     uint64
	}{
		{"c-1", "phone_activation", "nudge", splitHashGolden[0]},
		{"", "", "", splitHashGolden[1]},
		{"customer-42", "winback", "offer", splitHashGolden[2]},
	}
	for _, tc := range tests {
		if got := splitHash(tc.customer, tc.journey, tc.stage); got != tc.want {
			t.Errorf("splitHash(%q, %q, %q) = %#x, want %#x", tc.customer, tc.journey, tc.stage, got, tc.want)
		}
	}
	// The separator matters: ("ab", "c") and ("a", "bc") differ.
	if splitHash("ab", "c", "s") == splitHash("a", "bc", "s") {
		t.Error("the fields are not separated")
	}
}

// splitHashGolden was computed with hash/fnv's New64a over the joined bytes
// and the fmix64 finaliser written out separately, not with splitHash.
var splitHashGolden = [...]uint64{0x1b4bd826190d58a6, 0xdb01c3104e99566d, 0xa77893619cfaa84e}
