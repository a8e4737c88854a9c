package reload

import (
	"context"
	"fmt"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/plan"
	"github.com/waymark-dev/waymark/runtime/store"
)

// The reload's own account of what its migration did, in the plan's shape
// (runtime/plan counts both): every engine.Migration the worker commits
// after the swap, whichever input's Step made it (the wake pass's, or an
// event that came first), is counted; pinned instances, which a Step
// leaves alone without a word, are counted from the store once the pass is
// done. The account is shown in Status.Migration and logged.

// account counts one reload's migrations.
type account struct {
	prev, cur *ir.Program
	versions  map[string]string // journey -> its version in cur
	agg       *plan.Aggregator
}

func newAccount(prev, cur *ir.Program) *account {
	a := &account{prev: prev, cur: cur, versions: map[string]string{}, agg: plan.NewAggregator()}
	for _, j := range cur.Journeys {
		a.versions[j.Name] = j.Version
	}
	return a
}

// Observe counts the migrations of a committed batch: give it to the
// worker's OnCommit. It is quick, and a no-op while no reload is counted.
func (r *Reloader) Observe(b *store.Batch) {
	r.acctMu.Lock()
	defer r.acctMu.Unlock()
	a := r.acct
	if a == nil {
		return
	}
	for i := range b.Customers {
		for _, res := range b.Customers[i].Results {
			for _, m := range res.Migrations {
				// A batch prepared on an earlier engine may commit after
				// the swap: its migrations (to another version) are not
				// this reload's.
				if m.ToVersion == "" || m.ToVersion == a.versions[m.Journey] {
					a.agg.Add(m)
				}
			}
		}
	}
}

// startAccount begins counting the migrations to cur; prev (nil when not
// known: a start on a store that ran another program) is what ran before.
func (r *Reloader) startAccount(prev, cur *ir.Program) {
	a := newAccount(prev, cur)
	r.acctMu.Lock()
	r.acct = a
	r.acctMu.Unlock()
}

// settle completes the account once the wake pass is done: the pinned
// instances (active, of a pinning journey, on another version) are counted
// from the store, and the counts are written into m in the plan's shape.
func (r *Reloader) settle(ctx context.Context, m *Migration) error {
	r.acctMu.Lock()
	a := r.acct
	var agg *plan.Aggregator
	if a != nil {
		agg = plan.NewAggregator()
		agg.Merge(a.agg)
	}
	r.acctMu.Unlock()
	if a == nil {
		return nil
	}
	pins := map[string]bool{}
	for _, j := range a.cur.Journeys {
		if j.InFlight == ir.InFlightPin {
			pins[j.Name] = true
		}
	}
	if len(pins) > 0 {
		counts, err := r.st.StageCounts(ctx)
		if err != nil {
			return fmt.Errorf("store: counting pinned instances: %w", err)
		}
		for _, c := range counts {
			if pins[c.Journey] && c.Version != a.versions[c.Journey] {
				agg.AddN(c.Journey, c.Stage, engine.MigrationPinned, c.Active)
			}
		}
	}
	prev := a.prev
	if prev == nil {
		prev = r.previousProgram(ctx)
	}
	var changes *diff.Diff
	if prev != nil {
		changes = diff.Compute(prev, a.cur)
	}
	journeys, sum := agg.Journeys(changes, prev)
	m.Journeys, m.Summary = journeys, &sum
	return nil
}

// previousProgram is, for a pass at start (the store last ran another
// program), the newest stored program other than the running one: what the
// customers migrated from. Nil when there is none or it cannot be read;
// the account then names no change per journey.
func (r *Reloader) previousProgram(ctx context.Context) *ir.Program {
	progs, err := r.st.Programs(ctx)
	if err != nil {
		return nil
	}
	cur := r.Current().Version
	for _, p := range progs {
		if p.Hash == cur {
			continue
		}
		prev, err := ir.Decode(p.IR)
		if err != nil {
			return nil
		}
		return prev
	}
	return nil
}

// CandidateEngine builds the engine a reload would run cand on, with the
// earlier programs its pinned instances run (see Earlier; known are
// programs at hand, like the running one): what a plan migrates with, so
// that it pins what the reload would pin.
func CandidateEngine(ctx context.Context, st store.Store, cand *ir.Program, known []*ir.Program, opts engine.Options) (*engine.Engine, error) {
	earlier, err := Earlier(ctx, st, cand, known)
	if err != nil {
		return nil, err
	}
	opts.Versions = earlier
	return engine.New(cand, opts)
}
