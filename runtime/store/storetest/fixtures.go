package storetest

import (
	"strconv"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// T0 is the suite's reference time. Every time the suite writes is a whole
// number of microseconds after it: the precision every store must keep
// (PostgreSQL's timestamptz keeps no more).
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Write returns a realistic write for a customer's n-th input (n from 1) at
// time at, as the worker would commit it: a customer with traits, two
// active instances (one waiting on a timer), its latest message ids and a
// frequency-cap record; a Result with two transitions and one send that
// goes out; the next wake a day later. Benchmarks of every store use it,
// so their figures compare.
func Write(id string, n int, at time.Time) store.CustomerWrite {
	c := Customer(id, n, at)
	msg := id + "-m" + strconv.Itoa(n)
	on, act := c.Instances[0], c.Instances[1]
	send := engine.Send{
		Key:         on.ID + "/" + strconv.Itoa(on.Visit) + "/nudge_email",
		Journey:     on.Journey,
		Instance:    on.ID,
		Stage:       on.Stage,
		Name:        "nudge_email",
		Channel:     "email",
		ChannelType: "smtp",
		Fields: map[string]any{
			"to":      "li.wei." + id + "@example.com",
			"subject": "Your new phone is waiting for you, Li",
			"body": "Hi Li,\n\nYou ordered a phone three days ago and have not activated it yet. " +
				"Activation takes two minutes: open Settings, then Mobile, then follow the steps.\n\n" +
				"If anything goes wrong, reply to this email and we will help.\n\nThe Example team",
		},
		Fate: engine.FateDeliver,
		At:   at,
	}
	return store.CustomerWrite{
		State:      c,
		NextWake:   c.NextWake(),
		MessageIDs: []string{msg},
		Results: []engine.Result{{
			Transitions: []engine.Transition{
				{Instance: on.ID, Journey: on.Journey, Version: on.Version, From: "welcome", To: on.Stage, Cause: "after:3d", Status: engine.StatusActive, At: at},
				{Instance: act.ID, Journey: act.Journey, Version: act.Version, From: "", To: act.Stage, Cause: "entry:order_completed", Status: engine.StatusActive, At: at},
			},
			Sends:    []engine.Send{send},
			NextWake: c.NextWake(),
		}},
	}
}

// Customer returns the state of Write's customer after its n-th input.
func Customer(id string, n int, at time.Time) *engine.Customer {
	seen := make([]string, 0, 16)
	for k := max(1, n-15); k <= n; k++ {
		seen = append(seen, id+"-m"+strconv.Itoa(k))
	}
	return &engine.Customer{
		ID: id,
		Traits: map[string]any{
			"email":       "li.wei." + id + "@example.com",
			"first_name":  "Li",
			"plan":        "standard",
			"timezone":    "Asia/Shanghai",
			"orders":      float64(3 + n),
			"ltv":         1234.5,
			"newsletter":  true,
			"signup_date": "2025-11-03",
		},
		Instances: []*engine.Instance{
			{
				ID: id + "/onboarding/1", Journey: "onboarding", Version: "v-3f9a1c", Seq: 1,
				Status: engine.StatusActive, Stage: "nudge", Visit: n + 1,
				EnteredAt: at.Add(-72 * time.Hour), StageEnteredAt: at,
				EntryEvent: "signed_up",
				Entry:      map[string]any{"source": "ads", "campaign": "spring"},
				Waits:      []engine.Wait{{Kind: engine.WaitAfter, Index: 0, Due: at.Add(24*time.Hour + time.Duration(n%3600)*time.Second)}},
			},
			{
				ID: id + "/phone_activation/1", Journey: "phone_activation", Version: "v-77b2e0", Seq: 1,
				Status: engine.StatusActive, Stage: "check", Visit: 1,
				EnteredAt: at, StageEnteredAt: at,
				EntryEvent: "order_completed",
				Entry:      map[string]any{"order_id": "o-" + strconv.Itoa(n), "category": "phone", "amount": float64(4999)},
			},
		},
		Sends: map[string][]time.Time{"marketing": {at.Add(-48 * time.Hour), at}},
		Seen:  seen,
	}
}
