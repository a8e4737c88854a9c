package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Migration dispositions: what a migration did with one active instance.
const (
	MigrationStay       = "stay"       // same stage name in the new version; timers recomputed
	MigrationMoved      = "moved"      // a moved block: continues in the renamed stage, entry time kept
	MigrationRedirected = "redirected" // a removed block with goto: the goto stage was entered (or the end)
	MigrationLeft       = "left"       // its stage is now immediate and sent it on at once
	MigrationExited     = "exited"     // its stage or journey is gone: ended exited (Cause)
	MigrationPinned     = "pinned"     // in_flight = "pin": untouched, runs its version to the end
)

// Migration says what a migration did with one active instance.
type Migration struct {
	Instance string `json:"instance"`
	// Journey is the journey's name in the new program (after a journey
	// move); FromJourney its name before, when a top-level moved block
	// renamed it, "" otherwise.
	Journey     string `json:"journey"`
	FromJourney string `json:"from_journey,omitempty"`
	FromVersion string `json:"from_version"`
	// ToVersion is the version it runs now: "" when it exited because its
	// journey is gone, or when it is pinned to FromVersion.
	ToVersion   string `json:"to_version,omitempty"`
	Stage       string `json:"stage"` // the stage it was in
	Disposition string `json:"disposition"`
	// To is, for moved, redirected and left, the stage it is in after the
	// migration ("end" when it completed).
	To string `json:"to,omitempty"`
	// Cause is, for exited, "stage_removed" or "journey_removed"; for
	// redirected, "removed".
	Cause string `json:"cause,omitempty"`
}

// Migrate moves the customer's active instances that run an older version of
// a journey to the version in this engine's program, at time now, and
// returns what it did (Result.Migrations: one per active instance whose
// version changed, or that stays pinned to its version). Step does the same
// first thing on every call (reporting only the instances it changes), so a
// customer loaded after a reload is never run on stale waits; a reload
// shell calls Migrate for every customer with active instances so that
// their wake times (Result.NextWake) are right before they are due.
//
// First, instances of a journey renamed by a top-level moved block take the
// new name (ended ones too, so that the re-entry rule still sees them).
// They keep their ids: ids key the store's history and every send key, and
// a rename must not make a delivered message look new. Held sends follow.
// Should the customer already have an instance under the new name, an
// ended one gives up its slot; an active one stays, and the renamed
// instance ends "exited", cause "journey_removed".
//
// Then, for each active instance whose version differs:
//   - its journey is gone: it ends "exited", cause "journey_removed";
//   - the journey says in_flight = "pin" and the engine has the instance's
//     version (Options.Versions): nothing changes ("pinned"); the instance
//     runs its version until it ends. Without that version it migrates as
//     below and an Error says why;
//   - its stage exists by name ("stay"), or a moved block renamed it
//     ("moved", a transition cause "moved" to the new stage; the stage
//     entry time is kept): it stays there, without running the stage's
//     actions again (a "stay" records a transition from the stage to
//     itself, cause "migrate"). A waiting stage's timers are recomputed: an
//     after counts from when the stage was entered (never earlier than
//     now); an at keeps its time when the new at block has the same
//     expression, and is evaluated afresh otherwise. A stage that is now
//     immediate (goto, branch, split, or no transition) is left at once by
//     that transition ("left");
//   - a removed block names its stage: with goto, the goto stage is
//     entered, its actions run, cause "removed" (goto end completes the
//     instance) ("redirected"); without, it ends "exited", cause
//     "stage_removed";
//   - its stage is gone otherwise: it ends "exited", cause "stage_removed".
//
// Held sends are not touched: they were evaluated when they were made, and
// are decided again with the new policy when they are due.
func (e *Engine) Migrate(c *Customer, now time.Time) Result {
	now = now.UTC()
	var res Result
	r := e.getRun(c, &res, now)
	defer e.putRun(r)
	r.migrate(true)
	r.flush()
	r.pruneSends()
	res.NextWake = c.NextWake()
	return res
}

// migrate applies the program's journey moves, then migrates every active
// instance; pinned ones are reported only when report is set.
func (r *run) migrate(report bool) {
	e := r.main
	r.use(nil)
	var renamed map[*Instance]string
	if len(e.renamed) > 0 {
		renamed = r.rename()
	}
	for _, in := range r.c.Instances {
		if !in.Active() {
			continue
		}
		j := e.byName[in.Journey]
		if j != nil && in.Version == j.version {
			continue
		}
		m := Migration{Instance: in.ID, Journey: in.Journey, FromJourney: renamed[in], FromVersion: in.Version, Stage: in.Stage}
		if j == nil {
			r.finish(in, nil, StatusExited, "journey_removed")
			m.Disposition, m.Cause = MigrationExited, "journey_removed"
			r.res.Migrations = append(r.res.Migrations, m)
			continue
		}
		if j.pin {
			if e.pinned[in.Version] != nil {
				if report {
					m.Disposition = MigrationPinned
					r.res.Migrations = append(r.res.Migrations, m)
				}
				continue
			}
			r.errorf(j, in, nil, "pin", fmt.Errorf("the journey pins instances to their version, but version %s is not loaded; the instance moves to %s by stage name", in.Version, j.version))
		}
		in.Version, m.ToVersion = j.version, j.version
		r.res.Migrations = append(r.res.Migrations, r.migrateStage(in, j, m))
	}
}

// causeMigrate is the cause of the transition that notes an instance
// staying in its stage across a migration, from the stage to itself.
const causeMigrate = "migrate"

// migrateStage moves an instance already on j's version to j's stage for
// it, and completes m with what happened.
func (r *run) migrateStage(in *Instance, j *journey, m Migration) Migration {
	st, cause := j.stages[in.Stage], causeMigrate
	m.Disposition = MigrationStay
	if st == nil {
		st, cause = j.moved[in.Stage], "moved"
		m.Disposition = MigrationMoved
	}
	if st == nil {
		rm, ok := j.removed[in.Stage]
		if !ok || rm.exit {
			r.finish(in, j, StatusExited, "stage_removed")
			m.Disposition, m.Cause = MigrationExited, "stage_removed"
			return m
		}
		in.Waits = nil
		r.enter(in, j, rm.to, "removed")
		m.Disposition, m.Cause, m.To = MigrationRedirected, "removed", where(in)
		return m
	}
	r.transition(in, st.name, cause, StatusActive)
	in.Stage = st.name // the entry time is kept: the customer is where they were
	old := in.Waits
	in.Waits = nil
	if st.kind != ir.TransitionWait {
		next, why, _ := r.leave(in, j, st)
		r.enter(in, j, next, why)
		m.Disposition, m.To = MigrationLeft, where(in)
		return m
	}
	r.rewait(in, j, st, old)
	if r.noWayOut(in, st) { // the new version's at times all failed
		r.finish(in, j, StatusExited, CauseBadTime)
		m.Disposition, m.Cause = MigrationExited, CauseBadTime
		return m
	}
	if m.Disposition == MigrationMoved {
		m.To = st.name
	}
	return m
}

// where is the stage an instance is in, or "end" once it has ended.
func where(in *Instance) string {
	if in.Active() {
		return in.Stage
	}
	return ir.End
}

// rename gives the instances of journeys renamed by top-level moved blocks
// their new name, and returns the old name of each renamed active one.
func (r *run) rename() map[*Instance]string {
	e := r.main
	var from map[*Instance]string
	for k := 0; k < len(r.c.Instances); k++ {
		in := r.c.Instances[k]
		to := e.renamed[in.Journey]
		if to == "" {
			continue
		}
		old := in.Journey
		if i := slices.IndexFunc(r.c.Instances, func(x *Instance) bool { return x.Journey == to }); i >= 0 {
			if other := r.c.Instances[i]; other.Active() {
				if in.Active() {
					r.finish(in, nil, StatusExited, "journey_removed")
					r.res.Migrations = append(r.res.Migrations, Migration{Instance: in.ID, Journey: old, FromVersion: in.Version,
						Stage: in.Stage, Disposition: MigrationExited, Cause: "journey_removed"})
				}
				// The destination's instance keeps the slot; this one is
				// history, which the store keeps.
				r.c.Instances = slices.Delete(r.c.Instances, k, k+1)
				k--
				continue
			}
			r.c.Instances = slices.Delete(r.c.Instances, i, i+1)
			if i < k {
				k--
			}
		}
		in.Journey = to
		for h := range r.c.Held {
			if r.c.Held[h].Instance == in.ID {
				r.c.Held[h].Journey = to
			}
		}
		if in.Active() {
			if from == nil {
				from = map[*Instance]string{}
			}
			from[in] = old
		}
	}
	return from
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
