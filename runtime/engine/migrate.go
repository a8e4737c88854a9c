package engine

import (
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Migrate moves the customer's active instances that run an older version of
// a journey to the version in this engine's program, by stage name, at time
// now, and returns what it did. Step does the same first thing on every
// call, so a customer loaded after a reload is never run on stale waits; a
// reload shell calls Migrate for every customer with active instances so
// that their wake times (Result.NextWake) are right before they are due.
//
// For each active instance whose version differs:
//   - its journey is gone: it ends "exited", cause "journey_removed";
//   - its stage is gone: it ends "exited", cause "stage_removed";
//   - otherwise it stays in the stage of that name (a transition from the
//     stage to itself, cause "migrate", is recorded), without running the
//     stage's actions again. A waiting stage's timers are recomputed: an
//     after counts from when the stage was entered (never earlier than
//     now); an at keeps its time when the new at block has the same
//     expression, and is evaluated afresh otherwise. A stage that is now
//     immediate (goto, branch, split, or no transition) is left at once by
//     that transition.
//
// Held sends are not touched: they were evaluated when they were made, and
// are decided again with the new policy when they are due.
func (e *Engine) Migrate(c *Customer, now time.Time) Result {
	now = now.UTC()
	var res Result
	r := e.getRun(c, &res, now)
	defer e.putRun(r)
	r.migrate()
	r.flush()
	r.pruneSends()
	res.NextWake = c.NextWake()
	return res
}

func (r *run) migrate() {
	for _, in := range r.c.Instances {
		if !in.Active() {
			continue
		}
		j := r.e.byName[in.Journey]
		if j == nil {
			r.finish(in, nil, StatusExited, "journey_removed")
			continue
		}
		if in.Version == j.version {
			continue
		}
		in.Version = j.version
		st := j.stages[in.Stage]
		if st == nil {
			r.finish(in, j, StatusExited, "stage_removed")
			continue
		}
		r.transition(in, st.name, "migrate", StatusActive)
		old := in.Waits
		in.Waits = nil
		if st.kind != ir.TransitionWait {
			next, cause, _ := r.leave(in, j, st)
			r.enter(in, j, next, cause)
			continue
		}
		r.rewait(in, j, st, old)
	}
}

// rewait recomputes a waiting stage's timers after a migration. Nothing
// fires here: a wait already due is clamped to now and fires when the Step
// drains its timers.
func (r *run) rewait(in *Instance, j *journey, st *stage, old []Wait) {
	for k, a := range st.afters {
		due := in.StageEnteredAt.Add(a.d)
		if due.Before(r.at) {
			due = r.at
		}
		in.Waits = append(in.Waits, Wait{Kind: WaitAfter, Index: k, Due: due})
	}
	used := make([]bool, len(old))
	for k := range st.ats {
		a := &st.ats[k]
		kept := false
		for i, w := range old {
			if !used[i] && w.Kind == WaitAt && w.Src == a.src {
				used[i], kept = true, true
				in.Waits = append(in.Waits, Wait{Kind: WaitAt, Index: k, Due: w.Due, Src: a.src})
				break
			}
		}
		if kept {
			continue
		}
		t, ok := r.atTime(in, j, a)
		if !ok {
			continue
		}
		if t.Before(r.at) {
			t = r.at
		}
		in.Waits = append(in.Waits, Wait{Kind: WaitAt, Index: k, Due: t, Src: a.src})
	}
}
