package worker_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// busy exercises every part of a customer's state that Step mutates in place:
// traits, instances replaced in their slot, waits deleted, held sends
// released, cap counters pruned and appended, the seen window shifted.
const busy = `
channel "log" {
  type = "log"
}
topic "t" {
  default = "subscribed"
}
policy "p" {
  topic         = topic.t
  quiet_hours   = "21:00-08:00"
  frequency_cap = "5 per 7d"
}
journey "j" {
  policy  = policy.p
  reentry = "always"
  entry "go" {}
  stage "a" {
    send "s1" {
      channel = channel.log
      data    = { x = 1 }
    }
    update {
      n = 1
    }
    on "stop" { goto = end }
    after "1h" { goto = stage.b }
  }
  stage "b" {
    send "s2" {
      channel = channel.log
      data    = { x = 2 }
    }
    update {
      n = 2
    }
    after "1d" { goto = end }
  }
}
`

// TestCloneShares: stepping a clone leaves the original exactly as it was,
// so a batch may step a copy of a state the store is still encoding.
func TestCloneShares(t *testing.T) {
	eng := newEngine(t, busy, engine.Options{DedupWindow: 2})
	t0 := time.Date(2026, 3, 2, 20, 30, 0, 0, time.UTC)
	c := &engine.Customer{ID: "c"}
	eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "go", MessageID: "m1"}, t0)
	eng.Step(c, engine.Input{Kind: engine.KindWake, MessageID: "m2"}, t0.Add(75*time.Minute)) // s2 held by quiet hours
	eng.Step(c, engine.Input{Kind: engine.KindSubscription, Topic: "t", Status: "subscribed"}, t0.Add(76*time.Minute))
	if len(c.Held) != 1 || len(c.Sends["p"]) != 1 || len(c.Instances[0].Waits) != 1 || len(c.Seen) != 2 || c.Subscriptions["t"] != "subscribed" {
		t.Fatalf("the state does not exercise everything: %+v", c)
	}
	before, _ := json.Marshal(c)

	cp := worker.CloneCustomer(c)
	eng.Step(cp, engine.Input{Kind: engine.KindEvent, Event: "noise", MessageID: "m3"}, t0.Add(80*time.Minute))
	eng.Step(cp, engine.Input{Kind: engine.KindWake}, t0.Add(13*time.Hour))                                // s2 released
	eng.Step(cp, engine.Input{Kind: engine.KindEvent, Event: "go", MessageID: "m4"}, t0.Add(40*time.Hour)) // b ends, a new instance takes the slot
	eng.Step(cp, engine.Input{Kind: engine.KindEvent, Event: "stop", MessageID: "m5"}, t0.Add(40*time.Hour+time.Minute))
	eng.Step(cp, engine.Input{Kind: engine.KindIdentify, Traits: map[string]any{"n": nil, "z": 3}}, t0.Add(41*time.Hour))
	eng.Step(cp, engine.Input{Kind: engine.KindSubscription, Topic: "t", Status: "unsubscribed"}, t0.Add(42*time.Hour))

	after, _ := json.Marshal(c)
	if string(before) != string(after) {
		t.Fatalf("stepping the clone changed the original:\nbefore %s\nafter  %s", before, after)
	}
	if x, _ := json.Marshal(cp); string(x) == string(before) {
		t.Fatal("the clone did not change: the test proves nothing")
	}
}

// TestCloneKnowsTheFields fails when engine.Customer or engine.Instance grows
// a field that holds memory Step could mutate in place and cloneCustomer
// does not copy: teach cloneCustomer about it, then add it here.
func TestCloneKnowsTheFields(t *testing.T) {
	check := func(typ reflect.Type, known map[string]bool) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			switch f.Type.Kind() {
			case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface, reflect.Struct:
				if f.Type == reflect.TypeFor[time.Time]() {
					continue
				}
				if !known[f.Name] {
					t.Errorf("%s.%s (%s) is new to cloneCustomer", typ.Name(), f.Name, f.Type)
				}
			}
		}
	}
	check(reflect.TypeFor[engine.Customer](), map[string]bool{
		"Traits": true, "Instances": true, "Held": true, "Sends": true, "Seen": true, "Merged": true, "Subscriptions": true, "Seqs": true,
	})
	check(reflect.TypeFor[engine.Instance](), map[string]bool{
		"Entry":    true, // shared: immutable once made (the engine's doc)
		"Waits":    true,
		"Visited":  true,
		"Splits":   true,
		"entryVal": true, // a cty.Value: immutable
		"entryFor": true, // the engine that built entryVal: immutable
	})
}
