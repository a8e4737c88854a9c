package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/pebble"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
)

var (
	bg = context.Background()
	t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// compileDir compiles testdata/ (the running program of these tests).
func compileDir(t *testing.T) *ir.Program {
	t.Helper()
	p, err := compileTestdata()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func compileTestdata() (*ir.Program, error) {
	res, diags := compiler.CompileDir("testdata")
	if diags.HasErrors() {
		return nil, diags
	}
	return res.Program, nil
}

// edit copies p, lets change edit the copy's journey trial, and hashes
// its version afresh.
func edit(p *ir.Program, change func(j *ir.Journey)) *ir.Program {
	data, _ := ir.Encode(p) // plain data: it encodes
	c, _ := ir.Decode(data)
	j := c.Journey("trial")
	change(j)
	j.Version = ir.Hash(j)
	return c
}

func stage(name string, tr ir.Transition) ir.Stage { return ir.Stage{Name: name, Transition: tr} }

func after(spec string, d time.Duration, to string) ir.Transition {
	return ir.Transition{Kind: ir.TransitionWait, Afters: []ir.After{{Spec: spec, Seconds: int64(d / time.Second), Goto: to}}}
}

// issueExample is the issue's edit: welcome removed (its customers go to
// intro), engaged renamed active_user with a wait of an hour.
func issueExample(j *ir.Journey) {
	j.Stages = []ir.Stage{
		stage("intro", after("1d", 24*time.Hour, ir.End)),
		stage("nudge", after("3d", 72*time.Hour, ir.End)),
		stage("active_user", after("1h", time.Hour, ir.End)),
	}
	j.Start = "intro"
	j.Removed = []ir.StageRemoval{{From: "welcome", Goto: "intro"}}
	j.Moved = []ir.StageMove{{From: "engaged", To: "active_user"}}
}

func editIssueExample(p *ir.Program) *ir.Program { return edit(p, issueExample) }

// openStore opens a new, empty store of a kind: sqlite, pebble (which
// pages no states: the plan reads them by id), or postgres (on the shared
// test server, pgtest).
func openStore(t *testing.T, kind string) store.Store {
	t.Helper()
	var st store.Store
	var err error
	switch kind {
	case "postgres":
		st, err = postgres.Open(pgtest.DB(t))
	case "pebble":
		st, err = pebble.Open(filepath.Join(t.TempDir(), "plan.pebble"))
	default:
		st, err = sqlite.Open(filepath.Join(t.TempDir(), "plan.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// populate commits customers into a new store of a kind through eng:
// welcome customers in welcome (signed up only), engaged in engaged.
func populate(t *testing.T, kind string, eng *engine.Engine, welcome, engaged int) store.Store {
	t.Helper()
	st := openStore(t, kind)
	var b store.Batch
	for i := range welcome + engaged {
		c := &engine.Customer{ID: fmt.Sprintf("c%04d", i)}
		cw := store.CustomerWrite{State: c}
		cw.Results = append(cw.Results, eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signed_up"}, t0))
		if i >= welcome {
			cw.Results = append(cw.Results, eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "project_created"}, t0))
		}
		cw.NextWake = c.NextWake()
		b.Customers = append(b.Customers, cw)
	}
	if err := st.Commit(bg, &b); err != nil {
		t.Fatal(err)
	}
	return st
}

// Each edit of the running journey, planned over 20 customers in welcome
// and 10 in engaged, on each store.
func TestRun(t *testing.T) {
	base := compileDir(t)
	baseEng, err := engine.New(base, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		edit    func(j *ir.Journey)
		impact  []diff.Impact
		earlier []diff.TimerImpact
		sum     diff.Summary
		code    int
	}{{
		name: "the issue's example: welcome removed to intro, engaged moved to active_user with a shorter wait",
		edit: issueExample,
		impact: []diff.Impact{
			{Stage: "welcome", Customers: 20, Disposition: diff.Redirected, To: "intro"},
			{Stage: "engaged", Customers: 10, Disposition: diff.MovedTo, To: "active_user"},
		},
		earlier: []diff.TimerImpact{{Stage: "engaged", Customers: 10, AtOnce: 10}},
		sum:     diff.Summary{InFlight: 30, Moved: 10, Redirected: 20},
		code:    diff.ExitDisturbs,
	}, {
		name: "a stage removed without a removed block: its customers exit",
		edit: func(j *ir.Journey) {
			j.Stages = j.Stages[1:]
			j.Start = "nudge"
		},
		impact: []diff.Impact{
			{Stage: "welcome", Customers: 20, Disposition: diff.Exited, Cause: "stage_removed"},
			{Stage: "engaged", Customers: 10, Disposition: diff.Stay},
		},
		sum:  diff.Summary{InFlight: 30, Stay: 10, Exited: 20},
		code: diff.ExitDisturbs,
	}, {
		name: "a longer wait: everyone stays",
		edit: func(j *ir.Journey) {
			j.Stages[0].Transition.Afters[0] = ir.After{Spec: "3d", Seconds: 3 * 86400, Goto: "nudge"}
		},
		impact: []diff.Impact{
			{Stage: "welcome", Customers: 20, Disposition: diff.Stay},
			{Stage: "engaged", Customers: 10, Disposition: diff.Stay},
		},
		sum:  diff.Summary{InFlight: 30, Stay: 30},
		code: diff.ExitChangesOnly,
	}, {
		name: "welcome made immediate: its customers leave at once",
		edit: func(j *ir.Journey) {
			j.Stages[0].Transition = ir.Transition{Kind: ir.TransitionGoto, Goto: "nudge"}
		},
		impact: []diff.Impact{
			{Stage: "welcome", Customers: 20, Disposition: diff.Left, To: "nudge"},
			{Stage: "engaged", Customers: 10, Disposition: diff.Stay},
		},
		sum:  diff.Summary{InFlight: 30, Stay: 10, Left: 20},
		code: diff.ExitDisturbs,
	}, {
		name: "in_flight pin: everyone finishes on their version",
		edit: func(j *ir.Journey) {
			j.InFlight = ir.InFlightPin
			j.Stages = j.Stages[1:]
			j.Start = "nudge"
		},
		impact: []diff.Impact{
			{Stage: "welcome", Customers: 20, Disposition: diff.Pinned},
			{Stage: "engaged", Customers: 10, Disposition: diff.Pinned},
		},
		sum:  diff.Summary{InFlight: 30, Pinned: 30},
		code: diff.ExitChangesOnly,
	}, {
		name: "no change",
		edit: func(j *ir.Journey) {},
		code: diff.ExitNoChange,
	}} {
		for _, kind := range []string{"sqlite", "pebble", "postgres"} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				st := populate(t, kind, baseEng, 20, 10)
				data, _ := ir.Encode(base)
				if err := st.SaveProgram(bg, store.Program{Hash: "old", IR: data, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
				cand := edit(base, tc.edit)
				version := "new"
				if tc.code == diff.ExitNoChange {
					version = "old"
				}
				// As reload.CandidateEngine builds it: the running program
				// holds the versions pinned instances run.
				eng, err := engine.New(cand, engine.Options{Versions: []*ir.Program{base}})
				if err != nil {
					t.Fatal(err)
				}
				p, err := Run(bg, st, Input{Base: base, BaseVersion: "old", Candidate: cand, Version: version, Engine: eng},
					Options{Now: t0.Add(2 * time.Hour), PageSize: 7})
				if err != nil {
					t.Fatal(err)
				}
				if p.Format != diff.PlanFormat {
					t.Errorf("format %q", p.Format)
				}
				if p.Summary != tc.sum {
					t.Errorf("summary %+v, want %+v", p.Summary, tc.sum)
				}
				var impact []diff.Impact
				var earlier []diff.TimerImpact
				for _, j := range p.Journeys {
					impact = append(impact, j.Impact...)
					earlier = append(earlier, j.Earlier...)
				}
				if fmt.Sprint(impact) != fmt.Sprint(tc.impact) {
					t.Errorf("impact\n got %+v\nwant %+v", impact, tc.impact)
				}
				if fmt.Sprint(earlier) != fmt.Sprint(tc.earlier) {
					t.Errorf("earlier timers\n got %+v\nwant %+v", earlier, tc.earlier)
				}
				if got := p.ExitCode(); got != tc.code {
					t.Errorf("exit code %d, want %d", got, tc.code)
				}
				// Dry: the store still holds every customer where it was.
				counts, err := st.StageCounts(bg)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(counts) != fmt.Sprintf("[{trial %[1]s engaged 10} {trial %[1]s welcome 20}]", base.Journeys[0].Version) {
					t.Errorf("the plan changed the store: %v", counts)
				}
			})
		}
	}
}

const heldWorkspace = `
channel "log" {
  type = "log"
}

policy "daytime" {
  quiet_hours = "21:00-08:00"
}

event "signed_up" {}

journey "greet" {
  policy = policy.daytime

  entry "signed_up" {}

  stage "hello" {
    send "hi" {
      channel = channel.log
      data    = { text = "hi" }
    }
    after "30d" { goto = end }
  }
}
`

// Held sends whose send or policy changed are listed, counted.
func TestRunHeldSends(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greet.journey.hcl"), []byte(heldWorkspace), 0o644); err != nil {
		t.Fatal(err)
	}
	res, diags := compiler.CompileDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	base := res.Program
	eng, err := engine.New(base, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "held.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	night := time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC) // in quiet hours: the send is held
	var b store.Batch
	for i := range 3 {
		c := &engine.Customer{ID: fmt.Sprintf("h%d", i)}
		r := eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signed_up"}, night)
		if len(c.Held) != 1 {
			t.Fatalf("the send was not held: %+v", r.Sends)
		}
		b.Customers = append(b.Customers, store.CustomerWrite{State: c, NextWake: c.NextWake(), Results: []engine.Result{r}})
	}
	if err := st.Commit(bg, &b); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		edit   func(p *ir.Program)
		reason string
	}{
		{"the send's data changed", func(p *ir.Program) {
			a := &p.Journey("greet").Stages[0].Actions[0]
			a.Fields[0].Expr.Src = `{ text = "hello" }`
		}, diff.HeldSendChanged},
		{"the policy changed", func(p *ir.Program) { p.Policies[0].QuietHours = "22:00-08:00" }, diff.HeldPolicyChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := ir.Encode(base)
			cand, _ := ir.Decode(data)
			tc.edit(cand)
			j := cand.Journey("greet")
			j.Version = ir.Hash(j)
			ceng, err := engine.New(cand, engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := Run(bg, st, Input{Base: base, Candidate: cand, Engine: ceng}, Options{Now: night.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			want := []diff.HeldImpact{{Stage: "hello", Send: "hi", Sends: 3, Reason: tc.reason}}
			var got []diff.HeldImpact
			for _, jp := range p.Journeys {
				got = append(got, jp.Held...)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("held %+v, want %+v", got, want)
			}
		})
	}
}

// noReads is a store whose customers cannot be read: a plan that needs
// no state must not try.
type noReads struct{ store.Store }

var errRead = fmt.Errorf("read a state")

func (noReads) ActiveCustomers(context.Context, string, int) ([]string, error) { return nil, errRead }
func (noReads) Customer(context.Context, string) (*engine.Customer, error)     { return nil, errRead }

// An edit no active instance would migrate for (a channel, a schema) is
// planned from the stage index alone; one that changes a journey reads
// every state.
func TestRunReadsOnlyWhenNeeded(t *testing.T) {
	base := compileDir(t)
	baseEng, err := engine.New(base, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := noReads{populate(t, "pebble", baseEng, 2, 1)}
	run := func(cand *ir.Program) (*diff.Plan, error) {
		eng, err := engine.New(cand, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return Run(bg, st, Input{Base: base, Candidate: cand, Engine: eng}, Options{})
	}

	data, _ := ir.Encode(base)
	cand, _ := ir.Decode(data)
	cand.Events = append(cand.Events, ir.Event{Name: "new_event"})
	p, err := run(cand)
	if err != nil {
		t.Fatalf("a schema-only edit read the states: %v", err)
	}
	if p.Summary.InFlight != 0 || len(p.Changes.Schemas) != 1 || p.ExitCode() != diff.ExitChangesOnly {
		t.Errorf("plan %+v, changes %+v", p.Summary, p.Changes.Schemas)
	}

	if _, err := run(edit(base, issueExample)); err == nil || !strings.Contains(err.Error(), errRead.Error()) {
		t.Errorf("a journey edit did not read the states: %v", err)
	}
}
