package tally_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
	"github.com/waymark-dev/waymark/runtime/store/tally/tallytest"
)

// The Replayer derives from the records alone the tallies the live
// commits added: over realistic workloads, with merges and a reload that
// renames and removes stages, the two are equal row by row.
func TestReplayerMatchesLive(t *testing.T) {
	for _, o := range []tallytest.Options{
		{Seed: 1, Customers: 30, Hours: 24 * 5},
		{Seed: 2, Customers: 80, Hours: 24 * 10, Merges: true},
		{Seed: 3, Customers: 50, Hours: 24 * 8, Reload: true},
		{Seed: 4, Customers: 60, Hours: 24 * 12, Reload: true, Merges: true},
	} {
		t.Run(fmt.Sprintf("seed%d", o.Seed), func(t *testing.T) {
			w := tallytest.Run(t, o)
			p := tally.NewReplayer(tallytest.Journey)
			for _, r := range w.Records {
				p.Add(r)
			}
			got := p.Tallies()
			if len(w.Live) < 50 {
				t.Fatalf("only %d live tallies: the workload does too little", len(w.Live))
			}
			diff(t, got, w.Live)
			coherent(t, w.Live)
		})
	}
}

// diff reports the rows where replayed and live tallies differ.
func diff(t *testing.T, replayed, live []store.Tally) {
	t.Helper()
	key := func(x store.Tally) string {
		return fmt.Sprintf("%s|%d|%s|%s|%s", x.Journey, x.Cohort, x.Kind, x.A, x.B)
	}
	m := map[string][2]store.Tally{}
	for _, x := range replayed {
		v := m[key(x)]
		v[0] = x
		m[key(x)] = v
	}
	for _, x := range live {
		v := m[key(x)]
		v[1] = x
		m[key(x)] = v
	}
	bad := 0
	for k, v := range m {
		if v[0].N != v[1].N || v[0].Sum != v[1].Sum {
			bad++
			if bad <= 20 {
				t.Errorf("%s: replayed N=%d Sum=%g, live N=%d Sum=%g", k, v[0].N, v[0].Sum, v[1].N, v[1].Sum)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d rows differ in all", bad)
	}
}

// coherent checks what must hold of a journey's tallies in every cohort:
// every instance that entered has one status; the active ones are each in
// one stage; no count is negative; visitors of a stage entered, and those
// who leaked visited.
func coherent(t *testing.T, ts []store.Tally) {
	t.Helper()
	type key struct {
		journey string
		cohort  int64
	}
	type sums struct{ entered, status, active, inStages int64 }
	by := map[key]*sums{}
	visitors := map[string]int64{}
	for _, x := range ts {
		k := key{x.Journey, x.Cohort}
		if by[k] == nil {
			by[k] = &sums{}
		}
		s := by[k]
		switch x.Kind {
		case tally.KindEntered:
			s.entered += x.N
		case tally.KindStatus:
			s.status += x.N
			if x.A == "active" {
				s.active += x.N
			}
		case tally.KindStageActive:
			s.inStages += x.N
		case tally.KindVisitors:
			visitors[fmt.Sprint(k, x.A)] += x.N
		}
		if x.N < 0 && x.Kind != tally.KindResponse {
			t.Errorf("negative tally %+v", x)
		}
	}
	for _, x := range ts {
		if x.Kind == tally.KindLeaked && x.N > visitors[fmt.Sprint(key{x.Journey, x.Cohort}, x.A)] {
			t.Errorf("%+v: more leaked than visitors", x)
		}
	}
	for k, s := range by {
		if s.entered != s.status || s.active != s.inStages {
			t.Errorf("%v: %d entered, %d with a status; %d active, %d in stages", k, s.entered, s.status, s.active, s.inStages)
		}
	}
}

// The cohort an upgrade gives an outbox item is that of its send as
// counted: none for a send of an instance a newer one had replaced when
// it was decided (Of counted no pending for it), though that instance's
// own cohort is still known.
func TestReplayerSendCohort(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	entry := func(id string, at time.Time) store.JourneyRecord {
		return store.JourneyRecord{Transition: &engine.Transition{Instance: id, Journey: "j", To: "s", Cause: "entry:e", Status: engine.StatusActive, At: at}}
	}
	mail := func(id string, at time.Time) store.JourneyRecord {
		return store.JourneyRecord{Send: &store.SendRecord{Send: engine.Send{Key: id + "/1/mail", Journey: "j", Instance: id, Name: "mail", Fate: engine.FateDeliver, At: at}}}
	}
	p := tally.NewReplayer("j")
	for _, r := range []store.JourneyRecord{
		entry("c/j/1", t0), mail("c/j/1", t0),
		entry("c/j/2", t0.Add(2*time.Hour)),
		mail("c/j/2", t0.Add(3*time.Hour)),
		// A held send of c/j/1 released: c/j/2 has its slot.
		{Send: &store.SendRecord{Send: engine.Send{Key: "c/j/1/2/mail", Journey: "j", Instance: "c/j/1", Name: "mail", Fate: engine.FateDeliver, At: t0.Add(3 * time.Hour)}}},
	} {
		p.Add(r)
	}
	for _, tt := range []struct {
		key    string
		cohort int64
		ok     bool
	}{
		{"c/j/1/1/mail", tally.Cohort(t0), true},
		{"c/j/2/1/mail", tally.Cohort(t0.Add(2 * time.Hour)), true},
		{"c/j/1/2/mail", 0, false},
		{"nobody/j/1/1/mail", 0, false},
	} {
		instance := tt.key[:strings.LastIndexByte(tt.key[:strings.LastIndexByte(tt.key, '/')], '/')]
		if c, ok := p.SendCohort(tt.key, instance); c != tt.cohort || ok != tt.ok {
			t.Errorf("SendCohort(%s) = %d, %v, want %d, %v", tt.key, c, ok, tt.cohort, tt.ok)
		}
	}
	if _, ok := p.Cohort("c/j/1"); !ok {
		t.Errorf("Cohort(c/j/1) unknown: the test no longer shows why SendCohort is needed")
	}
	var pending int64
	for _, x := range p.Tallies() {
		if x.Kind == tally.KindSendDelivery && x.B == store.DeliveryPending {
			pending += x.N
		}
	}
	if pending != 2 {
		t.Errorf("pending sends counted: %d, want 2 (c/j/1's first and c/j/2's)", pending)
	}
}
