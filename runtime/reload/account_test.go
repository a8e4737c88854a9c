package reload

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/plan"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// v3 renames count to tally and removes parked, sending its customers to
// tally.
const v3 = `
journey "welcome" {
  policy  = policy.gentle
  reentry = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "tally" {
    on "ping" { goto = stage.bump }
    after "60d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    goto = stage.tally
  }

  moved {
    from = stage.count
    to   = stage.tally
  }

  removed {
    from = stage.parked
    goto = stage.tally
  }
}
`

// shape is what a plan and a reload's account share: per journey and
// stage, counts and dispositions (held sends and earlier timers are the
// plan's alone).
func shape(js []diff.JourneyPlan, sum diff.Summary) string {
	out := make([]diff.JourneyPlan, len(js))
	for i, j := range js {
		j.Held, j.Earlier = nil, nil
		out[i] = j
	}
	data, _ := json.MarshalIndent(struct {
		J []diff.JourneyPlan
		S diff.Summary
	}{out, sum}, "", "  ")
	return string(data)
}

// A plan and the reload that follows on the same state agree exactly: the
// reload's account (GET /v1/status's migration, and the log) is the
// plan's, count for count, and every customer is where the plan said.
func TestReloadAccountAgreesWithPlan(t *testing.T) {
	g := newRig(t, v1, Options{})
	for i := range 6 {
		g.submit(fmt.Sprintf("c%d", i), "signed_up")
	}
	for i := range 4 {
		g.submit(fmt.Sprintf("p%d", i), "signed_up", "park")
	}

	// The plan, as POST /v1/plan makes it.
	candDir := t.TempDir()
	write(t, filepath.Join(candDir, "schema.journey.hcl"), schema)
	write(t, filepath.Join(candDir, "welcome.journey.hcl"), v3)
	cand, diags, err := Load(candDir, engine.Options{})
	if err != nil || cand == nil {
		t.Fatalf("v3: %v %s", err, diags.Error())
	}
	ctx := context.Background()
	running := g.r.Current()
	eng, err := CandidateEngine(ctx, g.st, cand.IR, []*ir.Program{running.IR}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Run(ctx, g.st, plan.Input{Base: running.IR, BaseVersion: running.Version, Candidate: cand.IR, Version: cand.Version, Engine: eng}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := diff.Summary{InFlight: 10, Moved: 6, Redirected: 4}
	if p.Summary != want {
		t.Fatalf("plan summary %+v, want %+v", p.Summary, want)
	}

	// The reload.
	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), v3)
	s := g.waitStatus("the migration to v3", func(s Status) bool {
		return s.Version == cand.Version && s.Migration != nil && !s.Migration.Finished.IsZero()
	})
	if s.Migration.Summary == nil {
		t.Fatalf("the migration has no account: %+v", s.Migration)
	}
	if got, want := shape(s.Migration.Journeys, *s.Migration.Summary), shape(p.Journeys, p.Summary); got != want {
		t.Errorf("the reload's account differs from the plan:\n--- reload\n%s\n--- plan\n%s", got, want)
	}
	for i := range 6 {
		if c := g.customer(fmt.Sprintf("c%d", i)); c.Instances[0].Stage != "tally" || !c.Instances[0].Active() {
			t.Errorf("c%d: %+v, the plan said moved to tally", i, c.Instances[0])
		}
	}
	for i := range 4 {
		if c := g.customer(fmt.Sprintf("p%d", i)); c.Instances[0].Stage != "tally" || !c.Instances[0].Active() {
			t.Errorf("p%d: %+v, the plan said redirected to tally", i, c.Instances[0])
		}
	}
	if !strings.Contains(g.log.String(), `"redirected":4`) {
		t.Errorf("the log does not carry the account:\n%s", g.log)
	}
}

// A restart on a store that last ran another program wakes the active
// customers at start (WakeOnStart): that pass gets its account too, with
// each journey's change read against the program the store ran before.
func TestWakeOnStartAccount(t *testing.T) {
	ctx := context.Background()
	dir1, dir2 := t.TempDir(), t.TempDir()
	for dir, journey := range map[string]string{dir1: v1, dir2: v3} {
		write(t, filepath.Join(dir, "schema.journey.hcl"), schema)
		write(t, filepath.Join(dir, "welcome.journey.hcl"), journey)
	}
	p1, diags, err := Load(dir1, engine.Options{})
	if err != nil || p1 == nil {
		t.Fatalf("v1: %v %s", err, diags.Error())
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Install(ctx, st, p1, time.Now()); err != nil {
		t.Fatal(err)
	}
	var r atomic.Pointer[Reloader]
	w := worker.New(st, p1.Engine, worker.Options{OnCommit: func(b *store.Batch) {
		if rr := r.Load(); rr != nil {
			rr.Observe(b)
		}
	}})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()
	for i := range 3 {
		items := []worker.Item{{CustomerID: fmt.Sprintf("c%d", i), Input: engine.Input{Kind: engine.KindEvent, Event: "signed_up"}}}
		if err := w.Submit(ctx, items); err != nil {
			t.Fatal(err)
		}
	}

	// The restart: v3 on the same store.
	p3, diags, err := Load(dir2, engine.Options{})
	if err != nil || p3 == nil {
		t.Fatalf("v3: %v %s", err, diags.Error())
	}
	migrate, err := Install(ctx, st, p3, time.Now().Add(time.Second))
	if err != nil || !migrate {
		t.Fatalf("Install: %v, migrate %v", err, migrate)
	}
	w.Swap(p3.Engine)
	rl := New(dir2, st, w, p3, Options{WakeOnStart: true})
	r.Store(rl)
	if err := rl.WakeActive(ctx); err != nil {
		t.Fatal(err)
	}
	m := rl.Status().Migration
	if m == nil || m.Summary == nil {
		t.Fatalf("no account: %+v", m)
	}
	if *m.Summary != (diff.Summary{InFlight: 3, Moved: 3}) || len(m.Journeys) != 1 || m.Journeys[0].Change != diff.Changed {
		t.Errorf("account %+v %+v, want 3 moved in a changed journey", *m.Summary, m.Journeys)
	}
}
