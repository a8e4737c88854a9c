package engine

import (
	"strings"
	"testing"
	"time"
)

func TestUpdateIsVisibleToLaterActions(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "before" {
      channel = channel.log
      data    = { plan = customer.plan }
    }
    update {
      plan  = "premium"
      email = "${customer.plan}@example.com"
    }
    send "after" {
      channel = channel.log
      data    = { plan = customer.plan, email = customer.email }
    }
    goto = stage.route
  }
  stage "route" {
    branch {
      when = customer.plan == "premium"
      goto = stage.premium
    }
    branch { goto = end }
  }
  stage "premium" {}
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", map[string]any{"plan": "basic"})
	r := s.event("go", nil)
	s.noErrors()
	if got := findSend(t, "before", r).Fields["data"].(map[string]any)["plan"]; got != "basic" {
		t.Errorf("before the update: plan %v", got)
	}
	data := findSend(t, "after", r).Fields["data"].(map[string]any)
	if data["plan"] != "premium" || data["email"] != "premium@example.com" {
		t.Errorf("after the update: %v (a later trait of the same update must see the earlier one)", data)
	}
	eq(t, "path", s.path("j"), []string{"->s(entry:go)", "s>route(goto)", "route>premium(branch:1)", "premium>end(complete)"})
	if s.c.Traits["plan"] != "premium" {
		t.Errorf("the trait was not stored: %v", s.c.Traits)
	}
}

func TestIdentifyChangesWhatExpressionsSee(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" { when = customer.plan == "premium" }
  stage "s" {}
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", map[string]any{"plan": "basic", "email": "a@example.com"})
	s.event("go", nil)
	if s.c.Instance("j") != nil {
		t.Fatal("entered on the old plan")
	}
	s.identify(map[string]any{"plan": "premium", "email": nil})
	if _, ok := s.c.Traits["email"]; ok {
		t.Error("a null trait in identify must remove it")
	}
	s.event("go", nil)
	if s.c.Instance("j") == nil {
		t.Fatal("did not enter after identify")
	}
	// Traits that come with an event are merged before it is handled.
	s2 := newSim(t, newEngine(t, p, Options{}), "c-2", nil)
	s2.step(Input{Kind: KindEvent, Event: "go", Traits: map[string]any{"plan": "premium"}})
	if s2.c.Instance("j") == nil {
		t.Fatal("traits on an event were not merged first")
	}
}

func TestEmit(t *testing.T) {
	p := compile(t, `
journey "a" {
  entry "go" {}
  stage "s" {
    emit "help" { properties = { order_id = entry.order_id } }
    send "from_a" {
      channel = channel.log
      data    = "a"
    }
  }
}
journey "b" {
  entry "go" {}
  stage "s" {
    send "from_b" {
      channel = channel.log
      data    = "b"
    }
  }
}
journey "c" {
  entry "help" {}
  stage "s" {
    send "from_c" {
      channel = channel.log
      data    = entry.order_id
    }
  }
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", nil)
	r := s.event("go", map[string]any{"order_id": "o-7"})
	s.noErrors()
	// The emitted event is handled after the current one: journey b, which
	// the current event admits after a, goes before journey c.
	eq(t, "sends in order", sent(FateDeliver, r), []string{"from_a", "from_b", "from_c"})
	if got := findSend(t, "from_c", r).Fields["data"]; got != "o-7" {
		t.Errorf("the emitted properties did not reach journey c: %v", got)
	}
	if len(r.Emitted) != 1 || r.Emitted[0].Depth != 1 || r.Emitted[0].Journey != "a" || r.Emitted[0].Dropped != "" {
		t.Errorf("emitted = %+v", r.Emitted)
	}
	if in := s.inst("c"); in.EntryEvent != "help" || in.Entry["order_id"] != "o-7" {
		t.Errorf("instance of c: %+v", in)
	}
}

func TestEmitDepthBound(t *testing.T) {
	// Every instance emits the event that admits the next one: an endless
	// chain, cut at MaxEmitDepth.
	p := compile(t, `
journey "ping" {
  reentry = "always"
  entry "ping" {}
  stage "s" {
    emit "ping" {}
  }
}`)
	for _, depth := range []int{0, 3} {
		e := newEngine(t, p, Options{MaxEmitDepth: depth})
		want := depth
		if want == 0 {
			want = 8 // the default
		}
		s := newSim(t, e, "c-1", nil)
		r := s.event("ping", nil)
		if got := s.inst("ping").Seq; got != want+1 {
			t.Errorf("MaxEmitDepth %d: %d instances, want %d (the input's, then one per handled emit)", depth, got, want+1)
		}
		last := r.Emitted[len(r.Emitted)-1]
		if len(r.Emitted) != want+1 || last.Depth != want+1 || !strings.Contains(last.Dropped, "depth") {
			t.Errorf("MaxEmitDepth %d: emitted %+v", depth, r.Emitted)
		}
		if !hasError([]Result{r}, "emit ping") {
			t.Errorf("MaxEmitDepth %d: the dropped emit was not recorded as an error", depth)
		}
	}
}

func TestStepLimit(t *testing.T) {
	// An at in the past fires at once, so this loop never really waits; the
	// compiler cannot know that the time will be past.
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "a" {
    at {
      time = "2000-01-01T00:00:00Z"
      goto = stage.b
    }
  }
  stage "b" {
    goto = stage.a
  }
}`)
	e := newEngine(t, p, Options{MaxSteps: 10})
	s := newSim(t, e, "c-1", nil)
	r := s.event("go", nil)
	in := s.inst("j")
	if in.Status != StatusExited || in.Cause != "step_limit" {
		t.Fatalf("instance %+v", in)
	}
	if got := len(r.Transitions); got != 11 { // ten stage entries, then the end
		t.Errorf("%d transitions, want 11", got)
	}
	if !hasError([]Result{r}, "step limit") {
		t.Errorf("the step limit was not recorded: %+v", r.Errors)
	}
	if !r.NextWake.IsZero() {
		t.Errorf("an ended instance keeps a timer: %v", r.NextWake)
	}
}

func TestSendFields(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "welcome" {
      channel  = channel.email
      to       = customer.email
      reply_to = "help@example.com"
      subject  = "Hi ${customer.first_name}"
      body     = template("templates/welcome.html")
    }
    send "shout" {
      channel = channel.email
      to      = customer.email
      subject = upper(customer.plan)
      body    = "x"
    }
    send "crm" {
      channel = channel.hook
      data    = { id = customer.id, n = entry.n, at = now, nested = [1, 2.5, true] }
      headers = { "X-Kind" = "welcome" }
    }
  }
}`, "templates/welcome.html", `<p>Hello ${customer.first_name}, order ${entry.order_id} at ${now}.</p>
%{ if customer.plan == "premium" }Premium!%{ endif }`)
	e := newEngine(t, p, Options{})
	s := newSim(t, e, "c-1", map[string]any{"email": "li@example.com", "first_name": "Li", "plan": "premium"})
	s.now = t0.Add(1500 * time.Millisecond)
	r := s.event("go", map[string]any{"order_id": "o-1", "n": 3})
	s.noErrors()
	w := findSend(t, "welcome", r)
	if w.Fate != FateDeliver || w.Channel != "email" || w.ChannelType != "smtp" || w.Key != "c-1/j/1/1/welcome" || w.Stage != "s" || w.Instance != "c-1/j/1" {
		t.Errorf("welcome: %+v", w)
	}
	wantBody := "<p>Hello Li, order o-1 at 2026-03-02T10:00:01Z.</p>\nPremium!"
	if w.Fields["to"] != "li@example.com" || w.Fields["subject"] != "Hi Li" || w.Fields["body"] != wantBody || w.Fields["reply_to"] != "help@example.com" {
		t.Errorf("welcome fields: %#v", w.Fields)
	}
	crm := findSend(t, "crm", r).Fields
	data := crm["data"].(map[string]any)
	if data["id"] != "c-1" || data["n"] != int64(3) || data["at"] != "2026-03-02T10:00:01Z" {
		t.Errorf("crm data: %#v", data)
	}
	if l := data["nested"].([]any); l[0] != int64(1) || l[1] != 2.5 || l[2] != true {
		t.Errorf("crm nested: %#v", l)
	}
	if crm["headers"].(map[string]any)["X-Kind"] != "welcome" {
		t.Errorf("crm headers: %#v", crm["headers"])
	}

	// Without some traits: null where a string is needed fails the send
	// (recorded, fate failed); a required field that is null fails too;
	// the instance keeps going.
	s2 := newSim(t, e, "c-2", map[string]any{"email": "x@example.com"})
	r2 := s2.event("go", map[string]any{"n": 1})
	for _, name := range []string{"welcome", "shout"} {
		if f := findSend(t, name, r2); f.Fate != FateFailed || f.Reason == "" {
			t.Errorf("%s: fate %s reason %q, want failed", name, f.Fate, f.Reason)
		}
	}
	s3 := newSim(t, e, "c-3", map[string]any{"first_name": "Ann", "plan": "x"})
	if f := findSend(t, "welcome", s3.event("go", map[string]any{"n": 1})); f.Fate != FateFailed || !strings.Contains(f.Reason, "to is null") {
		t.Errorf("welcome without an email: %+v", f)
	}
	if f := findSend(t, "crm", r2); f.Fate != FateDeliver {
		t.Errorf("crm: %+v", f)
	}
	if len(r2.Errors) != 2 {
		t.Errorf("errors: %+v", r2.Errors)
	}
	if s2.inst("j").Status != StatusCompleted {
		t.Errorf("a failed send stopped the instance: %+v", s2.inst("j"))
	}
}

func TestNoStagesAndGotoEnd(t *testing.T) {
	p := compile(t, `
journey "short" {
  entry "go" {}
  stage "s" {
    goto = end
  }
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", nil)
	r := s.event("go", nil)
	eq(t, "path", path("", r), []string{"->s(entry:go)", "s>end(goto)"})
	for _, j := range []string{"short"} {
		if in := s.inst(j); in.Status != StatusCompleted {
			t.Errorf("%s: %+v", j, in)
		}
	}
}
