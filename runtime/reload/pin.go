package reload

import (
	"context"
	"fmt"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Earlier returns the earlier programs the engine of p needs for its pinned
// instances: for every journey p pins (in_flight = "pin"), the programs
// holding the versions its active instances run (store.StageCounts says
// which). known are programs already at hand (the one running before a
// reload, and those it ran pinned instances on), searched first; the
// store's saved programs (store.Programs, newest first) after them. A
// program that pins nothing, or whose pinned journeys have no instance on
// another version, needs nothing and costs no query but the counts. A
// version found nowhere is left out: the engine migrates its instances by
// stage name, with an error saying so.
func Earlier(ctx context.Context, st store.Store, p *ir.Program, known []*ir.Program) ([]*ir.Program, error) {
	pinned := map[string]string{} // a name instances may carry -> the pinned journey's version
	for _, j := range p.Journeys {
		if j.InFlight == ir.InFlightPin {
			pinned[j.Name] = j.Version
		}
	}
	for _, m := range p.Moved {
		if v, ok := pinned[m.To]; ok {
			pinned[m.From] = v
		}
	}
	if len(pinned) == 0 {
		return nil, nil
	}
	counts, err := st.StageCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: counting active instances: %w", err)
	}
	need := map[string]bool{}
	for _, c := range counts {
		if v, ok := pinned[c.Journey]; ok && c.Active > 0 && c.Version != v {
			need[c.Version] = true
		}
	}
	var out []*ir.Program
	take := func(q *ir.Program) {
		useful := false
		for _, j := range q.Journeys {
			if need[j.Version] {
				delete(need, j.Version)
				useful = true
			}
		}
		if useful {
			out = append(out, q)
		}
	}
	for _, q := range known {
		if len(need) == 0 {
			return out, nil
		}
		if q != nil {
			take(q)
		}
	}
	if len(need) == 0 {
		return out, nil
	}
	progs, err := st.Programs(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: listing programs: %w", err)
	}
	for _, sp := range progs {
		if len(need) == 0 {
			break
		}
		q, err := ir.Decode(sp.IR)
		if err != nil {
			continue // a program this binary cannot read runs nothing; its instances migrate
		}
		take(q)
	}
	return out, nil
}

// Pin rebuilds p's engine with the earlier programs its pinned instances
// run (see Earlier), when there are any; p.Earlier keeps them, so that the
// next reload finds them without the store. A store failure is returned as
// one (a reload retries it); an engine that refuses an earlier program is
// not.
func Pin(ctx context.Context, st store.Store, p *Program, opts engine.Options, known []*ir.Program) error {
	earlier, err := Earlier(ctx, st, p.IR, known)
	if err != nil {
		return storeError{err}
	}
	p.Earlier = nil
	if len(earlier) == 0 {
		return nil
	}
	opts.Versions = earlier
	eng, err := engine.New(p.IR, opts)
	if err != nil {
		return fmt.Errorf("the engine refuses the program with its pinned versions: %w", err)
	}
	p.Engine, p.Earlier = eng, earlier
	return nil
}

// known lists the programs a reload from p can take pinned versions from
// without the store: p's own and those p's engine runs.
func (p *Program) known() []*ir.Program {
	return append([]*ir.Program{p.IR}, p.Earlier...)
}
