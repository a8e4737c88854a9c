package reload

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/plan"
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
