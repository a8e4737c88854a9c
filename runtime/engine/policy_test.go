package engine

import (
	"strings"
	"testing"
	"time"
)

// quietJourney is a journey whose only stage sends at once, under a policy
// with the given rules.
func quietJourney(rules string) string {
	return `
policy "marketing" {
  ` + rules + `
}
journey "promo" {
  policy  = policy.marketing
  reentry = "always"
  entry "go" {}
  goal "bought" {}
  stage "s" {
    send "promo" {
      channel = channel.log
      data    = customer.id
    }
    after "30d" { goto = end }
  }
}`
}

func TestQuietHours(t *testing.T) {
	p := compile(t, quietJourney(`quiet_hours = "21:00-08:00"`))
	tests := []struct {
		name    string
		zone    any
		event   time.Time // when the send is due
		release time.Time // zero: goes out at once
	}{
		// 22:30 in Shanghai (UTC+8), held across local midnight to 08:00.
		{"Shanghai across midnight", "Asia/Shanghai", time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		// 07:59:59 local: still quiet; 08:00 local: the window is half-open.
		{"Shanghai one second before the end", "Asia/Shanghai", time.Date(2026, 3, 2, 23, 59, 59, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"Shanghai at the end", "Asia/Shanghai", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"Shanghai at the start", "Asia/Shanghai", time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"Shanghai daytime", "Asia/Shanghai", time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC), time.Time{}},
		// New York springs forward on 2026-03-08 at 02:00 EST: held from
		// 22:00 EST (03:00Z) to 08:00 EDT, which is 12:00Z, not 13:00Z.
		{"New York into DST", "America/New_York", time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)},
		// ... and falls back on 2026-11-01 at 02:00 EDT: from 22:00 EDT
		// (02:00Z) to 08:00 EST, 13:00Z.
		{"New York out of DST", "America/New_York", time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC)},
		// A missing or unknown zone means the default zone, UTC here.
		{"no zone", nil, time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},
		{"unknown zone", "Mars/Olympus_Mons", time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},
		{"Local is not a zone", "Local", time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)},
	}
	e := newEngine(t, p, Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traits := map[string]any{}
			if tc.zone != nil {
				traits["timezone"] = tc.zone
			}
			s := newSim(t, e, "c-1", traits)
			s.now = tc.event
			r := s.event("go", nil)
			first := findSend(t, "promo", r)
			if tc.release.IsZero() {
				if first.Fate != FateDeliver {
					t.Fatalf("fate %s (%s), want deliver", first.Fate, first.Reason)
				}
				return
			}
			if first.Fate != FateHeld || !first.DueAt.Equal(tc.release) || !strings.Contains(first.Reason, "quiet hours 21:00-08:00") {
				t.Fatalf("first decision: %+v, want held until %v", first, tc.release)
			}
			if !r.NextWake.Equal(tc.release) {
				t.Errorf("NextWake = %v, want the release time %v", r.NextWake, tc.release)
			}
			// A wake one second early sends nothing.
			s.now = tc.release.Add(-time.Second)
			if got := sent(FateDeliver, s.step(Input{Kind: KindWake})); len(got) != 0 {
				t.Fatalf("sent %v before the quiet hours ended", got)
			}
			s.now = tc.release.Add(time.Hour) // a late wake: the send goes out at its due time
			r = s.step(Input{Kind: KindWake})
			out := findSend(t, "promo", r)
			if out.Fate != FateDeliver || !out.At.Equal(tc.release) || out.Key != first.Key || out.Fields["data"] != "c-1" {
				t.Errorf("release: %+v", out)
			}
			if len(s.c.Held) != 0 || !r.NextWake.After(tc.release) {
				t.Errorf("held after release: %+v, next wake %v", s.c.Held, r.NextWake)
			}
		})
	}
}

func TestDefaultZone(t *testing.T) {
	p := compile(t, quietJourney(`quiet_hours = "21:00-08:00"`))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, p, Options{DefaultZone: berlin})
	s := newSim(t, e, "c-1", nil)
	s.now = time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC) // 22:00 in Berlin
	if got := findSend(t, "promo", s.event("go", nil)); got.Fate != FateHeld || !got.DueAt.Equal(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v, want held until 07:00Z", got)
	}
}

func TestSendWindow(t *testing.T) {
	p := compile(t, quietJourney(`send_window = "Mon-Fri 09:00-18:00"`))
	e := newEngine(t, p, Options{})
	tests := []struct {
		name    string
		at      time.Time
		release time.Time
	}{
		{"Saturday waits for Monday", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},
		{"Friday evening waits for Monday", time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},
		{"Tuesday early waits for 09:00", time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)},
		{"Tuesday noon goes", time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", map[string]any{"timezone": "UTC"})
			s.now = tc.at
			got := findSend(t, "promo", s.event("go", nil))
			if tc.release.IsZero() {
				if got.Fate != FateDeliver {
					t.Errorf("%+v", got)
				}
				return
			}
			if got.Fate != FateHeld || !got.DueAt.Equal(tc.release) || !strings.Contains(got.Reason, "send window") {
				t.Fatalf("%+v, want held until %v", got, tc.release)
			}
			s.now = tc.release
			if out := findSend(t, "promo", s.step(Input{Kind: KindWake})); out.Fate != FateDeliver {
				t.Errorf("release: %+v", out)
			}
		})
	}
}

func TestFrequencyCap(t *testing.T) {
	p := compile(t, `
policy "marketing" {
  frequency_cap = "2 per 1d"
}
policy "service" {}
journey "a" {
  policy  = policy.marketing
  reentry = "always"
  entry "a" {}
  stage "s" {
    send "a" {
      channel = channel.log
      data    = "a"
    }
  }
}
journey "b" {
  policy  = policy.marketing
  reentry = "always"
  entry "b" {}
  stage "s" {
    send "b" {
      channel = channel.log
      data    = "b"
    }
  }
}
journey "c" {
  policy  = policy.service
  reentry = "always"
  entry "c" {}
  stage "s" {
    send "c" {
      channel = channel.log
      data    = "c"
    }
  }
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", nil)
	steps := []struct {
		at    time.Duration
		event string
		fate  string
	}{
		{0, "a", FateDeliver},
		{time.Hour, "b", FateDeliver}, // another journey, same policy: counted together
		{2 * time.Hour, "a", FateCapped},
		{2 * time.Hour, "b", FateCapped},
		{3 * time.Hour, "c", FateDeliver}, // another policy: not counted
		// The window is rolling: at t0+1d the send at t0 has left it...
		{day, "a", FateDeliver},
		// ... but the one at t0+1h has not yet.
		{day + 30*time.Minute, "b", FateCapped},
		{day + time.Hour, "b", FateDeliver},
	}
	for _, st := range steps {
		s.now = t0.Add(st.at)
		got := findSend(t, st.event, s.event(st.event, nil))
		if got.Fate != st.fate {
			t.Errorf("t0+%v %s: fate %s (%s), want %s", st.at, st.event, got.Fate, got.Reason, st.fate)
		}
		if st.fate == FateCapped && !strings.Contains(got.Reason, "frequency cap 2 per 1d") {
			t.Errorf("reason %q", got.Reason)
		}
	}
	// Only what a cap still counts is kept.
	if got := len(s.c.Sends["marketing"]); got != 2 {
		t.Errorf("%d send times kept for marketing, want 2", got)
	}
	if _, ok := s.c.Sends["service"]; ok {
		t.Error("send times kept for a policy without a cap")
	}
}

func TestCapCountsHeldSendsWhenTheyGoOut(t *testing.T) {
	p := compile(t, quietJourney(`
  quiet_hours   = "21:00-08:00"
  frequency_cap = "1 per 1d"`))
	s := newSim(t, newEngine(t, p, Options{}), "c-1", map[string]any{"timezone": "UTC"})
	// Held at 22:00: the cap does not count it yet...
	s.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	if got := findSend(t, "promo", s.event("go", nil)); got.Fate != FateHeld {
		t.Fatalf("%+v", got)
	}
	if len(s.c.Sends["marketing"]) != 0 {
		t.Fatal("a held send was counted")
	}
	// ... it is when it goes out at 08:00, so the next send that day is capped.
	s.now = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	s.step(Input{Kind: KindWake})
	s.now = s.now.Add(time.Hour)
	if got := findSend(t, "promo", s.event("bought", nil), s.event("go", nil)); got.Fate != FateCapped {
		t.Errorf("%+v, want capped", got)
	}
	// And of two held sends released at the same moment, the second finds
	// the cap full: it is capped at release.
	p2 := compile(t, quietJourney(`
  quiet_hours   = "21:00-08:00"
  frequency_cap = "1 per 1d"`)+`
journey "other" {
  policy = policy.marketing
  entry "go2" {}
  stage "s" {
    send "other" {
      channel = channel.log
      data    = "o"
    }
  }
}`)
	s2 := newSim(t, newEngine(t, p2, Options{}), "c-2", nil)
	s2.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	s2.event("go", nil)
	s2.event("go2", nil)
	if len(s2.c.Held) != 2 {
		t.Fatalf("held: %+v", s2.c.Held)
	}
	s2.now = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	r := s2.step(Input{Kind: KindWake})
	eq(t, "fates", fates(r), []string{"promo:" + FateDeliver, "other:" + FateCapped})
	if at := r.Sends[1].At; !at.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("capped at %v, want the release time", at)
	}
}

func fates(rs ...Result) []string {
	var out []string
	for _, r := range rs {
		for _, s := range r.Sends {
			out = append(out, s.Name+":"+s.Fate)
		}
	}
	return out
}

func TestHeldSendDroppedWhenInstanceEnds(t *testing.T) {
	p := compile(t, quietJourney(`quiet_hours = "21:00-08:00"`)+`
journey "last" {
  policy = policy.marketing
  entry "last" {}
  stage "s" {
    send "final" {
      channel = channel.log
      data    = "bye"
    }
  }
}`)
	e := newEngine(t, p, Options{})
	night := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)

	// A goal before the release: dropped at once, recorded with the reason,
	// and nothing goes out at 08:00.
	s := newSim(t, e, "c-1", nil)
	s.now = night
	s.event("go", nil)
	s.now = night.Add(time.Hour)
	r := s.event("bought", nil)
	d := findSend(t, "promo", r)
	if d.Fate != FateDropped || !strings.Contains(d.Reason, "converted (goal:bought)") || !d.At.Equal(s.now) {
		t.Errorf("drop: %+v", d)
	}
	if len(s.c.Held) != 0 || !r.NextWake.IsZero() {
		t.Errorf("still held: %+v (next wake %v)", s.c.Held, r.NextWake)
	}
	s.now = night.Add(12 * time.Hour)
	if got := sent(FateDeliver, s.step(Input{Kind: KindWake})); len(got) != 0 {
		t.Errorf("sent %v after the instance converted", got)
	}

	// An instance that completes normally (its last stage sends) keeps its
	// held send: it goes out when quiet hours end.
	s2 := newSim(t, e, "c-2", nil)
	s2.now = night
	s2.event("last", nil)
	if in := s2.inst("last"); in.Status != StatusCompleted || len(s2.c.Held) != 1 {
		t.Fatalf("instance %+v, held %+v", in, s2.c.Held)
	}
	s2.now = night.Add(10 * time.Hour)
	eq(t, "released", sent(FateDeliver, s2.step(Input{Kind: KindWake})), []string{"final"})
}

func TestSuppression(t *testing.T) {
	p := compile(t, `
policy "marketing" {
  suppressed_by = [journey.support]
}
journey "promo" {
  policy = policy.marketing
  entry "go" {}
  stage "one" {
    send "promo1" {
      channel = channel.log
      data    = "1"
    }
    after "1d" { goto = stage.two }
  }
  stage "two" {
    send "promo2" {
      channel = channel.log
      data    = "2"
    }
    after "1d" { goto = end }
  }
}
journey "support" {
  reentry = "always"
  entry "ticket_opened" {}
  goal "ticket_closed" {}
  stage "open" {
    send "ack" {
      channel = channel.log
      data    = "ack"
    }
    after "30d" { goto = end }
  }
}`)
	e := newEngine(t, p, Options{})

	// In the promo journey when a ticket opens: its next send is suppressed,
	// and the instance keeps moving.
	s := newSim(t, e, "c-1", nil)
	s.event("go", nil)
	s.now = t0.Add(time.Hour)
	s.event("ticket_opened", nil)
	r := s.advance(day)
	sup := findSend(t, "promo2", r)
	if sup.Fate != FateSuppressed || sup.Reason != "the customer is in journey support" {
		t.Errorf("promo2: %+v", sup)
	}
	eq(t, "promo path", s.path("promo"), []string{"->one(entry:go)", "one>two(after:1d)"})
	eq(t, "delivered", s.sent(FateDeliver), []string{"promo1", "ack"})

	// Not in promo yet: the entry is refused while the ticket is open, and
	// allowed once it is closed.
	s2 := newSim(t, e, "c-2", nil)
	s2.event("ticket_opened", nil)
	r = s2.event("go", nil)
	if s2.c.Instance("promo") != nil || len(r.Refusals) != 1 || r.Refusals[0].Reason != RefusedSuppressed {
		t.Fatalf("entry while suppressed: refusals %+v", r.Refusals)
	}
	s2.now = t0.Add(time.Hour)
	s2.event("ticket_closed", nil)
	s2.event("go", nil)
	if in := s2.c.Instance("promo"); in == nil || !in.Active() {
		t.Fatal("entry refused after the suppressing journey ended")
	}
	eq(t, "delivered", s2.sent(FateDeliver), []string{"ack", "promo1"})
}

func TestSuppressionAtRelease(t *testing.T) {
	p := compile(t, `
policy "marketing" {
  quiet_hours   = "21:00-08:00"
  suppressed_by = [journey.support]
}
journey "promo" {
  policy = policy.marketing
  entry "go" {}
  stage "s" {
    send "promo" {
      channel = channel.log
      data    = "1"
    }
    after "7d" { goto = end }
  }
}
journey "support" {
  entry "ticket_opened" {}
  stage "open" {
    after "30d" { goto = end }
  }
}`)
	s := newSim(t, newEngine(t, p, Options{}), "c-1", nil)
	s.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	s.event("go", nil)
	s.now = s.now.Add(time.Hour)
	s.event("ticket_opened", nil)
	s.now = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	r := s.step(Input{Kind: KindWake})
	eq(t, "fates", fates(r), []string{"promo:" + FateSuppressed})
	if len(s.c.Held) != 0 {
		t.Errorf("held: %+v", s.c.Held)
	}
}
