package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// flightV1 has one stage per line so that a test can rename or drop one by
// replacing its line.
const flightV1 = `
journey "j" {
  entry "go" {}
  stage "a" {
    after "2d" { goto = stage.b }
  }
  stage "b" {
    send "b_hello" {
      channel = channel.log
      data    = "b"
    }
    after "1d" { goto = end }
  }
  stage "c" {
    after "5d" { goto = end }
  }
}`

const stageA = `stage "a" {
    after "2d" { goto = stage.b }
  }`

func TestMigrationDispositions(t *testing.T) {
	v1 := newEngine(t, compile(t, flightV1), Options{})
	tests := []struct {
		name     string
		new      string              // replaces stage "a"'s line
		patch    func(j *ir.Journey) // the migration blocks, on v2's IR
		want     Migration           // Disposition, To, Cause
		path     []string
		sent     []string
		status   string
		entered  time.Time // the instance's stage entry time after the migration
		nextWake time.Time
	}{
		{"stay: same stage, timers recomputed", `stage "a" {
    after "3d" { goto = stage.b }
  }`, nil,
			Migration{Disposition: MigrationStay}, []string{"a>a(migrate)"}, nil, StatusActive, t0, t0.Add(3 * day)},
		{"moved: renamed stage, entry time kept", `stage "first" {
    after "2d" { goto = stage.b }
  }`,
			func(j *ir.Journey) { j.Moved = []ir.StageMove{{From: "a", To: "first"}} },
			Migration{Disposition: MigrationMoved, To: "first"}, []string{"a>first(moved)"}, nil, StatusActive, t0, t0.Add(2 * day)},
		{"moved to an immediate stage: left", `stage "first" {
    goto = stage.b
  }`,
			func(j *ir.Journey) { j.Moved = []ir.StageMove{{From: "a", To: "first"}} },
			Migration{Disposition: MigrationLeft, To: "b"}, []string{"a>first(moved)", "first>b(goto)"}, []string{"b_hello"}, StatusActive, t0.Add(12 * time.Hour), t0.Add(36 * time.Hour)},
		{"left: the stage is now immediate", `stage "a" {
    goto = stage.c
  }`, nil,
			Migration{Disposition: MigrationLeft, To: "c"}, []string{"a>a(migrate)", "a>c(goto)"}, nil, StatusActive, t0.Add(12 * time.Hour), t0.Add(12*time.Hour + 5*day)},
		{"left to the end", `stage "a" {
    goto = end
  }`, nil,
			Migration{Disposition: MigrationLeft, To: "end"}, []string{"a>a(migrate)", "a>end(goto)"}, nil, StatusCompleted, t0, time.Time{}},
		{"redirected: the goto stage is entered, its actions run", ``,
			func(j *ir.Journey) { j.Removed = []ir.StageRemoval{{From: "a", Goto: "b"}} },
			Migration{Disposition: MigrationRedirected, To: "b", Cause: "removed"}, []string{"a>b(removed)"}, []string{"b_hello"}, StatusActive, t0.Add(12 * time.Hour), t0.Add(36 * time.Hour)},
		{"redirected to the end: completed", ``,
			func(j *ir.Journey) { j.Removed = []ir.StageRemoval{{From: "a", Goto: ir.End}} },
			Migration{Disposition: MigrationRedirected, To: "end", Cause: "removed"}, []string{"a>end(removed)"}, nil, StatusCompleted, t0, time.Time{}},
		{"removed without goto: exited", ``,
			func(j *ir.Journey) { j.Removed = []ir.StageRemoval{{From: "a"}} },
			Migration{Disposition: MigrationExited, Cause: "stage_removed"}, []string{"a>end(stage_removed)"}, nil, StatusExited, t0, time.Time{}},
		{"stage gone without a block: exited", ``, nil,
			Migration{Disposition: MigrationExited, Cause: "stage_removed"}, []string{"a>end(stage_removed)"}, nil, StatusExited, t0, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p2 := compile(t, strings.Replace(flightV1, stageA, tc.new, 1))
			if tc.patch != nil {
				tc.patch(&p2.Journeys[0])
				p2.Journeys[0].Version = ir.Hash(&p2.Journeys[0])
			}
			v2 := newEngine(t, p2, Options{})
			s := newSim(t, v1, "c-1", nil)
			s.event("go", nil)
			from := s.inst("j").Version
			r := v2.Migrate(s.c, t0.Add(12*time.Hour))
			eq(t, "path", path("j", r), tc.path)
			eq(t, "sent", sent(FateDeliver, r), tc.sent)
			want := tc.want
			want.Instance, want.Journey, want.FromVersion, want.Stage = "c-1/j/1", "j", from, "a"
			if want.Disposition != MigrationExited || want.Cause != "journey_removed" {
				want.ToVersion = p2.Journeys[0].Version
			}
			if len(r.Migrations) != 1 || r.Migrations[0] != want {
				t.Errorf("migrations:\n got  %+v\n want [%+v]", r.Migrations, want)
			}
			in := s.inst("j")
			if in.Status != tc.status {
				t.Errorf("status %s, want %s", in.Status, tc.status)
			}
			if in.Active() && !in.StageEnteredAt.Equal(tc.entered) {
				t.Errorf("stage entered at %v, want %v", in.StageEnteredAt, tc.entered)
			}
			if !r.NextWake.Equal(tc.nextWake) {
				t.Errorf("next wake %v, want %v", r.NextWake, tc.nextWake)
			}
			if again := v2.Migrate(s.c, t0.Add(12*time.Hour)); len(again.Migrations)+len(again.Transitions) != 0 {
				t.Errorf("a second migration did something: %+v", again)
			}
		})
	}
}

func TestMigrationJourneyRemoved(t *testing.T) {
	v1 := newEngine(t, compile(t, flightV1+`
journey "k" {
  entry "go" {}
  stage "s" {
    after "1d" { goto = end }
  }
}`), Options{})
	v2 := newEngine(t, compile(t, flightV1), Options{})
	s := newSim(t, v1, "c-1", nil)
	s.event("go", nil)
	r := v2.Migrate(s.c, t0.Add(time.Hour))
	want := Migration{Instance: "c-1/k/1", Journey: "k", FromVersion: v1.byName["k"].version, Stage: "s", Disposition: MigrationExited, Cause: "journey_removed"}
	if len(r.Migrations) != 1 || r.Migrations[0] != want {
		t.Errorf("migrations:\n got  %+v\n want [%+v]", r.Migrations, want)
	}
}

// A chain of renames over three versions, written as the compiler reads
// it: v2 renamed a to y, v3 renames y to z and keeps v2's block. A customer
// who was in a when v1 ran, and one in y under v2, both land in z.
func TestMigrationChainedMove(t *testing.T) {
	v1 := newEngine(t, compile(t, flightV1), Options{})
	p3 := compile(t, strings.Replace(flightV1, stageA, `stage "z" {
    after "2d" { goto = stage.b }
  }
  moved {
    from = stage.a
    to   = stage.y
  }
  moved {
    from = stage.y
    to   = stage.z
  }`, 1))
	v3 := newEngine(t, p3, Options{})
	s := newSim(t, v1, "c-1", nil)
	s.event("go", nil)
	r := v3.Migrate(s.c, t0.Add(time.Hour))
	eq(t, "path", path("j", r), []string{"a>z(moved)"})
	if len(r.Migrations) != 1 || r.Migrations[0].Disposition != MigrationMoved || r.Migrations[0].To != "z" {
		t.Errorf("migrations %+v", r.Migrations)
	}
	// The state a v2 (stage y) left behind moves too.
	s2 := newSim(t, v1, "c-2", nil)
	s2.event("go", nil)
	s2.inst("j").Stage = "y"
	r = v3.Migrate(s2.c, t0.Add(time.Hour))
	eq(t, "path", path("j", r), []string{"y>z(moved)"})
}

// pinV is version n of a journey that pins its customers from v2 on; each
// version sends a message naming itself, after a wait of n days.
func pinV(n int) string {
	v := string(rune('0' + n))
	inFlight := `in_flight = "pin"`
	if n == 1 {
		inFlight = ""
	}
	return `
journey "j" {
  ` + inFlight + `
  entry "go" {}
  stage "a" {
    after "` + v + `d" { goto = stage.b }
  }
  stage "b" {
    send "hello" {
      channel = channel.log
      data    = "v` + v + `"
    }
    after "10d" { goto = end }
  }
}`
}

func TestPinTwoLiveVersions(t *testing.T) {
	p1, p2, p3 := compile(t, pinV(1)), compile(t, pinV(2)), compile(t, pinV(3))
	e1 := newEngine(t, p1, Options{})
	e2 := newEngine(t, p2, Options{Versions: []*ir.Program{p1}})
	// c-1 entered under v1, c-2 under v2; then v3 arrives, which can run
	// both older versions.
	c1, c2 := newSim(t, e1, "c-1", nil), newSim(t, e2, "c-2", nil)
	c1.event("go", nil)
	c2.event("go", nil)
	e3 := newEngine(t, p3, Options{Versions: []*ir.Program{p1, p2}})
	eq(t, "pinned versions", e3.PinnedVersions(), sortedOf(p1.Journeys[0].Version, p2.Journeys[0].Version))
	for _, s := range []*sim{c1, c2} {
		r := e3.Migrate(s.c, t0.Add(time.Hour))
		if len(r.Migrations) != 1 || r.Migrations[0].Disposition != MigrationPinned || r.Migrations[0].ToVersion != "" || len(r.Transitions) != 0 {
			t.Errorf("%s: %+v", s.c.ID, r)
		}
		s.e = e3
	}
	c3 := newSim(t, e3, "c-3", nil)
	c3.event("go", nil)
	for day := 1; day <= 3; day++ {
		for _, s := range []*sim{c1, c2, c3} {
			s.advance(24 * time.Hour)
		}
	}
	// Each customer got its own version's message, on its own version's day.
	for i, s := range []*sim{c1, c2, c3} {
		sends := fieldsOf(s.results, "hello")
		want := "v" + string(rune('1'+i))
		if len(sends) != 1 || sends[0].Fields["data"] != want || !sends[0].At.Equal(t0.Add(time.Duration(i+1)*day)) {
			t.Errorf("%s: sends %+v, want one %q at day %d", s.c.ID, sends, want, i+1)
		}
		s.noErrors()
	}
	if c1.inst("j").Version != p1.Journeys[0].Version || c3.inst("j").Version != p3.Journeys[0].Version {
		t.Errorf("versions: c-1 %s, c-3 %s", c1.inst("j").Version, c3.inst("j").Version)
	}
	// A Step does not report a pinned instance that it leaves alone.
	if r := c1.advance(time.Hour); len(r.Migrations) != 0 {
		t.Errorf("step reported %+v", r.Migrations)
	}
	// Without the old program, the pin cannot hold: the instance migrates
	// by stage name and an error says why.
	c4 := newSim(t, e1, "c-4", nil)
	c4.event("go", nil)
	bare := newEngine(t, p3, Options{})
	r := bare.Migrate(c4.c, t0.Add(time.Hour))
	if len(r.Migrations) != 1 || r.Migrations[0].Disposition != MigrationStay || !hasError([]Result{r}, "pin") {
		t.Errorf("unloaded pin: %+v", r)
	}
	// Back to migrate: a later version without pin moves pinned customers on.
	p4 := compile(t, strings.Replace(pinV(3), `in_flight = "pin"`, `in_flight = "migrate"`, 1))
	e4 := newEngine(t, p4, Options{Versions: []*ir.Program{p1}})
	if len(e4.PinnedVersions()) != 0 {
		t.Errorf("a journey that migrates kept pinned versions %v", e4.PinnedVersions())
	}
}

func sortedOf(s ...string) []string { slices.Sort(s); return s }

func fieldsOf(rs []Result, name string) []Send {
	var out []Send
	for _, r := range rs {
		for _, s := range r.Sends {
			if s.Name == name && s.Fate == FateDeliver {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestJourneyMove(t *testing.T) {
	old := strings.Replace(flightV1, `journey "j"`, `journey "old_name"`, 1)
	v1 := newEngine(t, compile(t, old), Options{})
	p2 := compile(t, strings.Replace(flightV1, `journey "j"`, `journey "new_name"`, 1)+`
moved {
  from = journey.old_name
  to   = journey.new_name
}`)
	v2 := newEngine(t, p2, Options{})
	s := newSim(t, v1, "c-1", nil)
	s.event("go", nil)
	r := v2.Migrate(s.c, t0.Add(time.Hour))
	want := Migration{Instance: "c-1/old_name/1", Journey: "new_name", FromJourney: "old_name", FromVersion: v1.byName["old_name"].version,
		ToVersion: v2.byName["new_name"].version, Stage: "a", Disposition: MigrationStay}
	if len(r.Migrations) != 1 || r.Migrations[0] != want {
		t.Errorf("migrations:\n got  %+v\n want [%+v]", r.Migrations, want)
	}
	in := s.inst("new_name")
	if in.ID != "c-1/old_name/1" || s.c.Instance("old_name") != nil {
		t.Errorf("instance %+v", in)
	}
	// It runs on under the new name, and the re-entry rule still sees it.
	s.e = v2
	s.event("go", nil)
	s.advance(3 * day)
	eq(t, "path", s.path("new_name"), []string{"a>b(after:2d)", "b>end(after:1d)"})
	s.event("go", nil)
	if r := s.results[len(s.results)-1]; len(r.Refusals) != 1 || r.Refusals[0].Reason != RefusedReentry {
		t.Errorf("re-entry after the rename: %+v", r.Refusals)
	}
	s.noErrors()
}

// A renamed journey that pins: its customers keep running the version they
// entered, under the journey's new name.
func TestJourneyMovePinned(t *testing.T) {
	p1 := compile(t, strings.Replace(pinV(1), `journey "j"`, `journey "old_name"`, 1))
	p2 := compile(t, strings.Replace(pinV(2), `journey "j"`, `journey "new_name"`, 1)+`
moved {
  from = journey.old_name
  to   = journey.new_name
}`)
	v2 := newEngine(t, p2, Options{Versions: []*ir.Program{p1}})
	s := newSim(t, newEngine(t, p1, Options{}), "c-1", nil)
	s.event("go", nil)
	s.e = v2
	s.advance(day)
	sends := fieldsOf(s.results, "hello")
	if len(sends) != 1 || sends[0].Fields["data"] != "v1" || sends[0].Journey != "new_name" {
		t.Errorf("sends %+v", sends)
	}
	s.noErrors()
}

func TestNewRefusesInconsistentMigrationBlocks(t *testing.T) {
	tests := []struct {
		name  string
		patch func(p *ir.Program)
		want  string
	}{
		{"moved from a stage that exists", func(p *ir.Program) { p.Journeys[0].Moved = []ir.StageMove{{From: "a", To: "b"}} }, `moved from stage "a", which still exists`},
		{"moved to a stage that does not", func(p *ir.Program) { p.Journeys[0].Moved = []ir.StageMove{{From: "x", To: "y"}} }, `"y", which does not exist`},
		{"removed stage exists", func(p *ir.Program) { p.Journeys[0].Removed = []ir.StageRemoval{{From: "b"}} }, `removed stage "b" still exists`},
		{"removed goto unknown", func(p *ir.Program) { p.Journeys[0].Removed = []ir.StageRemoval{{From: "x", Goto: "y"}} }, `"y", which does not exist`},
		{"unknown in_flight", func(p *ir.Program) { p.Journeys[0].InFlight = "keep" }, `unknown in_flight "keep"`},
		{"journey moved from one that exists", func(p *ir.Program) { p.Moved = []ir.JourneyMove{{From: "j", To: "j"}} }, `journey "j" still exists`},
		{"journey moved to one that does not", func(p *ir.Program) { p.Moved = []ir.JourneyMove{{From: "x", To: "y"}} }, `"y", which does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, flightV1)
			tc.patch(p)
			_, err := New(p, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %s", err, tc.want)
			}
		})
	}
}
