// Package tallytest runs realistic workloads through the engine for the
// tests of the analytics tallies (runtime/store/tally, runtime/analytics):
// customers entering, looping, splitting, converting, exiting, sends held
// by quiet hours, capped and suppressed, metric responses in and out of
// journeys, deliveries settling, merges of anonymous visitors and a reload
// that renames and removes stages. It keeps what a store would: the
// tallies the commits add (tally.Of, tally.Delivery) and the records it
// reads back (store.JourneyRecords: no analytics context).
package tallytest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// Journey is the name of the workload's main journey.
const Journey = "flow"

// V1 is the workload's program: a journey with a wait, an event move, a
// branch, a three-way split whose arms loop, convert and end, a goal and
// an exit; a stage that moves to itself; a suppressing journey; a send policy with quiet hours and a
// cap; two metrics.
const V1 = `
customer {
  trait "email" { type = string }
  trait "plan"  { type = string }
}
event "signup" {}
event "clicked" {}
event "purchased" {}
event "unsubscribed" {}
event "complained" {}
event "rated" {
  property "score" { type = number }
}
channel "log" {
  type = "log"
}
policy "p" {
  quiet_hours   = "22:00-07:00"
  frequency_cap = "2 per 1d"
  suppressed_by = [journey.care]
}
metric "nps" {
  kind  = "nps"
  event = "rated"
  value = event.score
}
metric "effort" {
  kind  = "ces"
  event = "rated"
  value = event.score / 2
}
journey "flow" {
  policy        = policy.p
  reentry       = "always"

  entry "signup" {}
  goal "purchased" {}
  exit "unsubscribed" {}

  stage "welcome" {
    send "hello" {
      channel = channel.log
      data    = { plan = customer.plan }
    }
    on "clicked" { goto = stage.route }
    after "20h" { goto = stage.nudge }
  }
  stage "route" {
    branch {
      when = customer.plan == "premium"
      goto = stage.vip
    }
    branch { goto = stage.nudge }
  }
  stage "nudge" {
    split {
      variant "remind" {
        weight = 2
        goto   = stage.remind
      }
      variant "again" {
        weight = 1
        goto   = stage.welcome
      }
      variant "holdout" {
        weight = 1
        goto   = end
      }
    }
  }
  stage "remind" {
    send "reminder" {
      channel = channel.log
      data    = { n = 1 }
    }
    on "clicked" { goto = stage.welcome }
    after "2d" { goto = end }
  }
  stage "vip" {
    on "clicked" { goto = stage.vip } # a loop to itself: entered again
    after "5h" { goto = end }
  }
}
journey "care" {
  entry "complained" {}
  stage "case" {
    after "1d" { goto = end }
  }
}
`

// V2 is V1 reloaded: the vip stage renamed (a moved block) and the remind
// stage removed, its customers sent back to welcome.
var V2 = strings.NewReplacer(
	`stage "vip" {`, `stage "gold" {`,
	`goto = stage.vip`, `goto = stage.gold`,
	`        goto   = stage.remind`, `        goto   = stage.welcome`,
	`  stage "remind" {
    send "reminder" {
      channel = channel.log
      data    = { n = 1 }
    }
    on "clicked" { goto = stage.welcome }
    after "2d" { goto = end }
  }
`, `  moved {
    from = stage.vip
    to   = stage.gold
  }
  removed {
    from = stage.remind
    goto = stage.welcome
  }
`).Replace(V1)

// Compile compiles a workspace of one file, failing the test on errors.
func Compile(t testing.TB, src string) *ir.Program {
	t.Helper()
	ws, diags := lang.Parse(".", []lang.SourceFile{{Path: "w.journey.hcl", Src: []byte(src)}})
	res, more := compiler.Check(ws, compiler.Options{ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }})
	diags = append(diags, more...)
	if diags.HasErrors() || res.Program == nil {
		var b strings.Builder
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				fmt.Fprintf(&b, "\n  %s", d.Error())
			}
		}
		t.Fatalf("the workload does not compile:%s", b.String())
	}
	return res.Program
}

// Options shape a workload.
type Options struct {
	Seed      uint64
	Customers int
	Hours     int  // how long it runs, on a virtual clock
	Reload    bool // reload V2 half way, migrating every customer
	Merges    bool // merge anonymous visitors into customers now and then
}

// Workload is what a run left: the tallies its commits added, merged, and
// the records a store reads back, in commit order.
type Workload struct {
	Program *ir.Program // the program at the end
	Live    []store.Tally
	Records []store.JourneyRecord
	// Stamped are the records as the engine made them, with their
	// analytics context, one for one with Records (a failing test can
	// show which record a reconstruction got wrong).
	Stamped    []store.JourneyRecord
	Start, End time.Time // the first and last times of the run
}

// RecordsOf is the records of the journeys named, as JourneyRecords reads
// them (responses in no journey are in none).
func (w *Workload) RecordsOf(journeys ...string) []store.JourneyRecord {
	var out []store.JourneyRecord
	for _, r := range w.Records {
		var j string
		switch {
		case r.Transition != nil:
			j = r.Transition.Journey
		case r.Send != nil:
			j = r.Send.Journey
		case r.Response != nil:
			j = r.Response.Journey
		}
		for _, name := range journeys {
			if j == name && j != "" {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

type runner struct {
	t       testing.TB
	rng     *rand.Rand
	e       *engine.Engine
	now     time.Time
	states  map[string]*engine.Customer
	ids     []string // every customer, known and anonymous
	known   []string // the customers with an id of their own
	live    []store.Tally
	records []store.JourneyRecord
	stamped []store.JourneyRecord
	pending []*pendingSend
}

type pendingSend struct {
	rec    *store.SendRecord
	cohort int64
}

// Run runs a workload.
func Run(t testing.TB, o Options) *Workload {
	t.Helper()
	p1 := Compile(t, V1)
	e1, err := engine.New(p1, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 9, 17, 23, 0, time.UTC)
	r := &runner{t: t, rng: rand.New(rand.NewPCG(o.Seed, 7)), e: e1, now: start, states: map[string]*engine.Customer{}}
	for i := range o.Customers {
		id := fmt.Sprintf("c%03d", i)
		plan := "free"
		if i%3 == 0 {
			plan = "premium"
		}
		r.states[id] = &engine.Customer{ID: id, Traits: map[string]any{"plan": plan, "email": id + "@example.com"}}
		r.ids = append(r.ids, id)
	}
	r.known = append(r.known, r.ids...)
	end := start.Add(time.Duration(o.Hours) * time.Hour)
	program := p1
	reloaded := false
	anon := 0
	for r.now.Before(end) {
		r.now = r.now.Add(time.Duration(r.rng.IntN(50*60*1000)) * time.Millisecond)
		if o.Reload && !reloaded && r.now.After(start.Add(end.Sub(start)/2)) {
			program = Compile(t, V2)
			if r.e, err = engine.New(program, engine.Options{}); err != nil {
				t.Fatal(err)
			}
			reloaded = true
			for _, id := range r.ids {
				c := r.states[id]
				res := r.e.Migrate(c, r.now)
				r.commit(c, res)
			}
		}
		for range 1 + r.rng.IntN(4) {
			id := r.ids[r.rng.IntN(len(r.ids))]
			r.step(id, r.input())
		}
		if o.Merges && r.rng.IntN(6) == 0 {
			// An anonymous visitor signs up, acts, and turns out to be a
			// known customer.
			from := fmt.Sprintf("anon%03d", anon)
			anon++
			r.states[from] = &engine.Customer{ID: from}
			r.ids = append(r.ids, from)
			r.step(from, engine.Input{Kind: engine.KindEvent, Event: "signup"})
			if r.rng.IntN(2) == 0 {
				r.step(from, engine.Input{Kind: engine.KindEvent, Event: "clicked"})
			}
			into := r.known[r.rng.IntN(len(r.known))]
			res, fromRes := engine.Merge(r.states[into], r.states[from], r.now)
			r.commit(r.states[from], fromRes)
			r.commit(r.states[into], res)
		}
		r.wake()
		r.settle()
	}
	return &Workload{Program: program, Live: tally.Merge(r.live), Records: r.records, Stamped: r.stamped, Start: start, End: r.now}
}

// input is a random input, weighted like a plausible day.
func (r *runner) input() engine.Input {
	ev := func(name string, props map[string]any) engine.Input {
		return engine.Input{Kind: engine.KindEvent, Event: name, Properties: props}
	}
	switch n := r.rng.IntN(100); {
	case n < 30:
		return ev("signup", nil)
	case n < 55:
		return ev("clicked", nil)
	case n < 63:
		return ev("purchased", nil)
	case n < 66:
		return ev("unsubscribed", nil)
	case n < 71:
		return ev("complained", nil)
	case n < 90:
		return ev("rated", map[string]any{"score": r.rng.IntN(11)})
	case n < 95:
		plans := []string{"free", "premium"}
		return engine.Input{Kind: engine.KindIdentify, Traits: map[string]any{"plan": plans[r.rng.IntN(2)]}}
	}
	return engine.Input{Kind: engine.KindWake}
}

func (r *runner) step(id string, in engine.Input) {
	c := r.states[id]
	res := r.e.Step(c, in, r.now)
	r.commit(c, res)
}

// wake steps every customer whose timers are due, as the scheduler does.
func (r *runner) wake() {
	sort.Strings(r.ids)
	for _, id := range r.ids {
		if next := r.states[id].NextWake(); !next.IsZero() && !next.After(r.now) {
			r.step(id, engine.Input{Kind: engine.KindWake})
		}
	}
}

// settle delivers or kills some of the sends waiting in the outbox.
func (r *runner) settle() {
	kept := r.pending[:0]
	for _, p := range r.pending {
		to := ""
		switch n := r.rng.IntN(10); {
		case n < 6:
			to = store.DeliveryDelivered
		case n < 7:
			to = store.DeliveryDead
		}
		if to == "" {
			kept = append(kept, p)
			continue
		}
		p.rec.Delivery = to
		r.live = append(r.live, tally.Delivery(p.rec.Journey, p.rec.Name, p.cohort, to)...)
	}
	r.pending = kept
}

// commit does what a store's Commit does with one customer's write: the
// tallies of Of, the records (without the context fields, which have no
// JSON), and the state through JSON.
func (r *runner) commit(c *engine.Customer, res engine.Result) {
	w := store.CustomerWrite{State: c, Results: []engine.Result{res}}
	r.live = append(r.live, tally.Of(&w)...)
	for k := range res.Transitions {
		var t engine.Transition
		r.roundTrip(&res.Transitions[k], &t)
		r.records = append(r.records, store.JourneyRecord{Transition: &t})
		r.stamped = append(r.stamped, store.JourneyRecord{Transition: &res.Transitions[k]})
	}
	for k := range res.Sends {
		var s engine.Send
		r.roundTrip(&res.Sends[k], &s)
		rec := &store.SendRecord{Send: s}
		if s.Fate == engine.FateDeliver {
			rec.Delivery = store.DeliveryPending
			if e := res.Sends[k].Entered; !e.IsZero() {
				r.pending = append(r.pending, &pendingSend{rec: rec, cohort: tally.Cohort(e)})
			}
		}
		r.records = append(r.records, store.JourneyRecord{Send: rec})
		r.stamped = append(r.stamped, store.JourneyRecord{Send: &store.SendRecord{Send: res.Sends[k], Delivery: rec.Delivery}})
	}
	for k := range res.Responses {
		var x engine.Response
		r.roundTrip(&res.Responses[k], &x)
		r.records = append(r.records, store.JourneyRecord{Response: &x})
		r.stamped = append(r.stamped, store.JourneyRecord{Response: &res.Responses[k]})
	}
	var state engine.Customer
	r.roundTrip(c, &state)
	r.states[c.ID] = &state
}

func (r *runner) roundTrip(from, to any) {
	b, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(b, to)
	}
	if err != nil {
		r.t.Fatal(err)
	}
}
