package engine

import (
	"strings"
	"testing"
	"time"
)

const migrateV1 = `
journey "j" {
  entry "go" {}
  entry "go_later" {}
  stage "a" {
    after "2d" { goto = stage.b }
  }
  stage "b" {
    at {
      time = timeadd(now, "1h")
      goto = stage.c
    }
    after "10d" { goto = end }
  }
  stage "c" {
    after "1d" { goto = end }
  }
  stage "gone" {
    after "1d" { goto = end }
  }
}
journey "old" {
  entry "go" {}
  stage "s" {
    after "1d" { goto = end }
  }
}`

func TestMigrate(t *testing.T) {
	v1 := newEngine(t, compile(t, migrateV1), Options{})
	// inStage puts a fresh customer into stage of j at t0 under v1.
	inStage := func(t *testing.T, stage string) *sim {
		s := newSim(t, v1, "c-1", nil)
		s.event("go", nil)
		in := s.inst("j")
		if stage != "a" {
			// Place the instance directly: the state is plain data, and this
			// is what an older version could have left behind.
			in.Stage, in.StageEnteredAt, in.Waits = stage, t0, nil
			if stage == "b" {
				in.Waits = []Wait{{Kind: WaitAt, Index: 0, Due: t0.Add(time.Hour), Src: `timeadd(now, "1h")`}, {Kind: WaitAfter, Index: 0, Due: t0.Add(10 * day)}}
			}
		}
		return s
	}
	tests := []struct {
		name     string
		stage    string
		v2       string // replaces migrateV1's text old -> new
		old, new string
		at       time.Duration // when the migration happens
		path     []string      // j's transitions made by Migrate
		next     time.Time     // the earliest timer of j's instance
	}{
		{"after recomputed from the stage entry", "a", migrateV1, `after "2d" { goto = stage.b }`, `after "1d" { goto = stage.b }`, 12 * time.Hour,
			[]string{"a>a(migrate)"}, t0.Add(day)},
		{"after already past: due now", "a", migrateV1, `after "2d" { goto = stage.b }`, `after "1d" { goto = stage.b }`, 36 * time.Hour,
			[]string{"a>a(migrate)"}, t0.Add(36 * time.Hour)},
		{"stage removed", "gone", migrateV1, `stage "gone" {
    after "1d" { goto = end }
  }`, ``, time.Hour, []string{"gone>end(stage_removed)"}, time.Time{}},
		{"same at expression: its time is kept", "b", migrateV1, `after "10d" { goto = end }`, `after "9d" { goto = end }`, 30 * time.Minute,
			[]string{"b>b(migrate)"}, t0.Add(time.Hour)},
		{"new at expression: evaluated now", "b", migrateV1, `timeadd(now, "1h")`, `timeadd(now, "2h")`, 30 * time.Minute,
			[]string{"b>b(migrate)"}, t0.Add(150 * time.Minute)},
		{"new at time bad and no other wait: exited bad_time", "b", migrateV1, `    at {
      time = timeadd(now, "1h")
      goto = stage.c
    }
    after "10d" { goto = end }`, `    at {
      time = "next tuesday"
      goto = stage.c
    }`, 30 * time.Minute, []string{"b>b(migrate)", "b>end(bad_time)"}, time.Time{}},
		{"stage now immediate: left at once", "c", migrateV1, `stage "c" {
    after "1d" { goto = end }
  }`, `stage "c" {
    goto = end
  }`, time.Hour, []string{"c>c(migrate)", "c>end(goto)"}, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(tc.v2, tc.old, tc.new, 1)
			if src == tc.v2 {
				t.Fatal("the test's replacement changed nothing")
			}
			v2 := newEngine(t, compile(t, src), Options{})
			s := inStage(t, tc.stage)
			oldVersion := s.inst("j").Version
			r := v2.Migrate(s.c, t0.Add(tc.at))
			eq(t, "path", path("j", r), tc.path)
			in := s.inst("j")
			var next time.Time
			for _, w := range in.Waits {
				if next.IsZero() || w.Due.Before(next) {
					next = w.Due
				}
			}
			if !next.Equal(tc.next) {
				t.Errorf("j's next timer = %v, want %v", next, tc.next)
			}
			if want := s.c.NextWake(); !r.NextWake.Equal(want) {
				t.Errorf("NextWake = %v, want %v", r.NextWake, want)
			}
			if in.Version == oldVersion || in.Version != v2.byName["j"].version {
				t.Errorf("version %s, want the new one", in.Version)
			}
			if old := s.inst("old"); old.Version != v1.byName["old"].version || !old.Active() {
				t.Errorf("an unchanged journey's instance was touched: %+v", old)
			}
			// Migrating again does nothing.
			if again := v2.Migrate(s.c, t0.Add(tc.at)); len(again.Transitions) != 0 {
				t.Errorf("second migration: %+v", again.Transitions)
			}
		})
	}
}

func TestStepMigratesFirst(t *testing.T) {
	v1 := newEngine(t, compile(t, migrateV1), Options{})
	src := strings.Replace(migrateV1, `after "2d" { goto = stage.b }`, `after "1d" { goto = stage.c }`, 1)
	src = strings.Replace(src, `journey "old" {
  entry "go" {}
  stage "s" {
    after "1d" { goto = end }
  }
}`, ``, 1)
	v2 := newEngine(t, compile(t, src), Options{})
	s := newSim(t, v1, "c-1", nil)
	s.event("go", nil)
	// The new version arrives; the shell wakes the customer late, at t0+2d:
	// the instance moves to v2 at that time, then its new after (due at
	// t0+1d, so clamped to now) fires, into the stage v2 names.
	s.e = v2
	r := s.advance(2 * day)
	eq(t, "path", path("", r), []string{"a>a(migrate)", "s>end(journey_removed)", "a>c(after:1d)"})
	if in := s.inst("old"); in.Status != StatusExited || in.Cause != "journey_removed" {
		t.Errorf("old: %+v", in)
	}
}

func TestMigrateDropsHeldSendsOfRemovedStage(t *testing.T) {
	src := `
policy "p" {
  quiet_hours = "21:00-08:00"
}
journey "j" {
  policy = policy.p
  entry "go" {}
  stage "a" {
    send "hello" {
      channel = channel.log
      data    = "x"
    }
    after "3d" { goto = end }
  }
}`
	v1 := newEngine(t, compile(t, src), Options{})
	v2 := newEngine(t, compile(t, strings.Replace(src, `stage "a"`, `stage "b"`, 1)), Options{})
	s := newSim(t, v1, "c-1", nil)
	s.now = time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)
	s.event("go", nil)
	r := v2.Migrate(s.c, s.now.Add(time.Hour))
	eq(t, "fates", fates(r), []string{"hello:" + FateDropped})
	if !r.NextWake.IsZero() {
		t.Errorf("next wake %v", r.NextWake)
	}
}
