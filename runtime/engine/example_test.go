package engine

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
)

var (
	phoneOnce sync.Once
	phoneProg *ir.Program
	phoneErr  string
)

// phoneProgram compiles examples/phone_activation, the workspace the
// benchmarks run on.
func phoneProgram(t testing.TB) *ir.Program {
	t.Helper()
	phoneOnce.Do(func() {
		res, diags := compiler.CompileDir("../../examples/phone_activation")
		if diags.HasErrors() || res.Program == nil {
			phoneErr = diags.Error()
			return
		}
		phoneProg = res.Program
	})
	if phoneProg == nil {
		t.Fatalf("examples/phone_activation does not compile: %s", phoneErr)
	}
	return phoneProg
}

var shanghaiMorning = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, a Monday

func TestPhoneActivationPremium(t *testing.T) {
	e := newEngine(t, phoneProgram(t), Options{})
	s := newSim(t, e, "c-1", map[string]any{
		"email": "li@example.com", "first_name": "Li", "plan": "premium", "timezone": "Asia/Shanghai",
	})
	s.now = shanghaiMorning
	r := s.event("order_completed", map[string]any{"order_id": "SO-100231", "category": "phone", "amount": 4999})
	eq(t, "sent at entry", sent(FateDeliver, r), []string{"activation_guide"})
	if in := s.inst("phone_activation"); in.Stage != "guide" || in.Status != StatusActive {
		t.Fatalf("instance %+v", in)
	}
	if !r.NextWake.Equal(shanghaiMorning.Add(2 * day)) {
		t.Errorf("next wake %v", r.NextWake)
	}
	r = s.advance(3 * day)
	eq(t, "sent after 3d", sent(FateDeliver, r), []string{"call_request"})
	eq(t, "path", path("phone_activation", r), []string{
		"guide>check(after:2d)", "check>route(after:1d)", "route>call_back(branch:1)", "call_back>end(goto)",
	})
	if in := s.inst("phone_activation"); in.Status != StatusCompleted {
		t.Errorf("instance %+v", in)
	}
	if s.c.Traits["needs_call"] != true {
		t.Errorf("needs_call = %v", s.c.Traits["needs_call"])
	}
	if len(r.Emitted) != 1 || r.Emitted[0].Event != "activation_help_requested" || r.Emitted[0].Properties["order_id"] != "SO-100231" {
		t.Errorf("emitted %+v", r.Emitted)
	}
	call := findSend(t, "call_request", r).Fields["data"].(map[string]any)
	if call["customer"] != "c-1" || call["reason"] != "activation" {
		t.Errorf("call_request data %v", call)
	}
	s.noErrors()
}

// phoneScript drives n customers through the phone example with a fixed mix
// of events, traits and waits, and returns every result and final state.
func phoneScript(t testing.TB, e *Engine, n int, byWakes bool) ([]Result, []*Customer) {
	var results []Result
	var states []*Customer
	plans := []string{"premium", "standard", "standard"}
	zones := []any{"Asia/Shanghai", "America/New_York", nil, "Europe/Berlin"}
	for i := range n {
		traits := map[string]any{"email": "c" + itoa(i) + "@example.com", "first_name": "C", "phone": "+1555" + itoa(i), "plan": plans[i%3]}
		if z := zones[i%4]; z != nil {
			traits["timezone"] = z
		}
		s := newSim(t, e, "cust-"+itoa(i), traits)
		s.now = shanghaiMorning.Add(time.Duration(i*37) * time.Minute)
		wait := s.advance
		if byWakes {
			wait = func(d time.Duration) Result { s.advanceByWakes(d); return Result{} }
		}
		s.event("order_completed", map[string]any{"order_id": "o" + itoa(i), "category": "phone", "amount": 100 + i})
		wait(time.Duration(20+i%40) * time.Hour)
		switch i % 5 {
		case 0:
			s.event("support_ticket_opened", map[string]any{"ticket_id": "t" + itoa(i), "topic": "activation"})
			wait(3 * day)
			s.event("support_ticket_closed", map[string]any{"ticket_id": "t" + itoa(i), "resolution": "solved"})
		case 1:
			s.event("device_activated", map[string]any{"device_model": "Orbit X"})
		case 2:
			s.event("unsubscribed", nil)
		case 3:
			s.identify(map[string]any{"plan": "premium"})
		}
		wait(10 * day)
		s.event("device_activated", map[string]any{"device_model": "Orbit X"})
		wait(10 * day)
		results = append(results, s.results...)
		states = append(states, s.c)
	}
	return results, states
}

func TestDeterminism(t *testing.T) {
	p := phoneProgram(t)
	r1, c1 := phoneScript(t, newEngine(t, p, Options{}), 60, false)
	r2, c2 := phoneScript(t, newEngine(t, p, Options{}), 60, false)
	if !reflect.DeepEqual(r1, r2) {
		t.Error("the same inputs gave different results")
	}
	j1, _ := json.Marshal(c1)
	j2, _ := json.Marshal(c2)
	if string(j1) != string(j2) {
		t.Error("the same inputs gave different states")
	}
	// The script must exercise what it claims to.
	fatesSeen := map[string]bool{}
	causes := map[string]bool{}
	for _, r := range r1 {
		for _, s := range r.Sends {
			fatesSeen[s.Fate] = true
		}
		for _, tr := range r.Transitions {
			causes[tr.Cause] = true
		}
	}
	for _, f := range []string{FateDeliver, FateHeld, FateSuppressed} {
		if !fatesSeen[f] {
			t.Errorf("the script never produced fate %s: %v", f, fatesSeen)
		}
	}
	for _, c := range []string{"goal:device_activated", "exit:unsubscribed", "on:support_ticket_opened", "split:sms", "split:email", "split:holdout", "branch:1"} {
		if !causes[c] {
			t.Errorf("the script never produced cause %s", c)
		}
	}
}

// TestOneWakeOrMany checks the rule that lets shells be simple: waking a
// customer once, late, does the same as waking it at every due time.
func TestOneWakeOrMany(t *testing.T) {
	p := phoneProgram(t)
	one, s1 := phoneScript(t, newEngine(t, p, Options{}), 40, false)
	many, s2 := phoneScript(t, newEngine(t, p, Options{}), 40, true)
	flat := func(rs []Result) (sends []string, trs []string) {
		for _, r := range rs {
			for _, s := range r.Sends {
				sends = append(sends, s.Key+" "+s.Fate+" "+s.At.Format(time.RFC3339))
			}
			for _, tr := range r.Transitions {
				trs = append(trs, tr.Instance+" "+tr.From+">"+tr.To+" "+tr.Cause+" "+tr.At.Format(time.RFC3339))
			}
		}
		return
	}
	a1, b1 := flat(one)
	a2, b2 := flat(many)
	eq(t, "sends", a2, a1)
	eq(t, "transitions", b2, b1)
	for i := range s1 {
		s1[i].Seen, s2[i].Seen = nil, nil
		j1, _ := json.Marshal(s1[i])
		j2, _ := json.Marshal(s2[i])
		if string(j1) != string(j2) {
			t.Errorf("customer %d:\n%s\n%s", i, j1, j2)
		}
	}
}

// TestConcurrentSteps runs customers in parallel on one engine (run it with
// -race): the engine must be safe for that.
func TestConcurrentSteps(t *testing.T) {
	e := newEngine(t, phoneProgram(t), Options{})
	want, _ := phoneScript(t, e, 8, false)
	var wg sync.WaitGroup
	got := make([][]Result, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[g], _ = phoneScript(t, e, 8, false)
		}()
	}
	wg.Wait()
	for g := range got {
		if !reflect.DeepEqual(got[g], want) {
			t.Errorf("goroutine %d got different results", g)
		}
	}
}

func TestDedup(t *testing.T) {
	e := newEngine(t, phoneProgram(t), Options{DedupWindow: 2})
	c := &Customer{ID: "c-1", Traits: map[string]any{"email": "a@example.com"}}
	in := Input{Kind: KindEvent, Event: "order_completed", Properties: map[string]any{"category": "phone"}, MessageID: "m-1"}
	if r := e.Step(c, in, shanghaiMorning); r.Duplicate || len(r.Sends) != 1 {
		t.Fatalf("first: %+v", r)
	}
	if r := e.Step(c, in, shanghaiMorning); !r.Duplicate || len(r.Sends)+len(r.Transitions) != 0 || r.NextWake.IsZero() {
		t.Fatalf("redelivery: %+v", r)
	}
	// The window keeps the latest two ids.
	e.Step(c, Input{Kind: KindWake, MessageID: "m-2"}, shanghaiMorning)
	e.Step(c, Input{Kind: KindWake, MessageID: "m-3"}, shanghaiMorning)
	if r := e.Step(c, in, shanghaiMorning); r.Duplicate {
		t.Error("an id older than the window was still remembered")
	}
	eq(t, "seen", c.Seen, []string{"m-3", "m-1"})
}

func TestTimersHappenInTimeOrder(t *testing.T) {
	p := compile(t, `
journey "slow" {
  entry "go" {}
  stage "s" {
    after "3d" { goto = end }
  }
}
journey "fast" {
  entry "go" {}
  stage "a" {
    after "1d" { goto = stage.b }
  }
  stage "b" {
    after "1d" { goto = stage.c }
  }
  stage "c" {
    after "2d" { goto = end }
  }
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", nil)
	s.event("go", nil)
	r := s.advance(10 * day)
	var got []string
	for _, tr := range r.Transitions {
		got = append(got, tr.Journey+":"+tr.To+"@"+tr.At.Sub(t0).String())
	}
	eq(t, "order", got, []string{"fast:b@24h0m0s", "fast:c@48h0m0s", "slow:end@72h0m0s", "fast:end@96h0m0s"})
}
