package plan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Input is what a plan compares: the program running now and a candidate,
// with the engine the candidate would run on, built as a reload builds it
// (reload.CandidateEngine: with the earlier versions pinned instances run).
type Input struct {
	Base        *ir.Program
	BaseVersion string
	Candidate   *ir.Program
	Version     string
	Engine      *engine.Engine
}

// Options tune Run. The zero value is usable.
type Options struct {
	// PageSize is how many customers are read per store query (default
	// 1000).
	PageSize int
	// Workers decode and migrate pages in parallel (default GOMAXPROCS).
	Workers int
	// Now is the time the migration is run at (default time.Now()).
	Now time.Time
}

func (o *Options) defaults() {
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
}

// Run is the dry run of a reload: it reads every customer with an active
// instance, runs engine.Migrate with the candidate's engine on the copy it
// read, counts what happened, and commits nothing. The plan holds counts
// only, never a customer's id or traits.
func Run(ctx context.Context, st store.Store, in Input, opts Options) (*diff.Plan, error) {
	opts.defaults()
	if in.Engine == nil {
		return nil, errors.New("plan: no engine for the candidate")
	}
	changes := diff.Compute(in.Base, in.Candidate)
	base := in.Base
	if base == nil {
		base = &ir.Program{}
	}
	aggs := make([]*Aggregator, opts.Workers)
	for i := range aggs {
		aggs[i] = NewAggregator()
	}
	read, err := mustRead(ctx, st, in.Candidate, changes)
	if err != nil {
		return nil, err
	}
	if read {
		err = scan(ctx, st, opts, func(w int, c *engine.Customer) {
			Customer(aggs[w], in.Engine, changes, base, c, opts.Now)
		})
		if err != nil {
			return nil, err
		}
	}
	agg := NewAggregator()
	for _, a := range aggs {
		agg.Merge(a)
	}
	journeys, sum := agg.Journeys(changes, in.Base)
	return &diff.Plan{
		Format: diff.PlanFormat, BaseVersion: in.BaseVersion, Version: in.Version,
		Journeys: journeys, Summary: sum, Changes: changes,
	}, nil
}

// mustRead reports whether the customers' states must be read: a journey
// or a policy changed (held sends are decided anew), or some active
// instance runs a journey version the candidate does not have (pinned
// instances of an earlier reload). Otherwise Migrate would do nothing to
// anyone, and the plan of an edit to channels, schemas or templates alone
// costs one count of the stage index (store.StageCounts) instead of
// reading every state.
func mustRead(ctx context.Context, st store.Store, cand *ir.Program, changes *diff.Diff) (bool, error) {
	if len(changes.Journeys) > 0 || len(changes.Policies) > 0 {
		return true, nil // the usual case: no need to count first
	}
	if cand == nil {
		cand = &ir.Program{}
	}
	counts, err := st.StageCounts(ctx)
	if err != nil {
		return false, fmt.Errorf("plan: counting active instances: %w", err)
	}
	for _, c := range counts {
		if j := cand.Journey(c.Journey); c.Active > 0 && (j == nil || j.Version != c.Version) {
			return true, nil
		}
	}
	return false, nil
}

// Customer migrates one customer's state (which it changes: pass a copy)
// with eng at now and counts into a what happened to each active instance,
// the held sends that changes concern, and the timers that fall due
// earlier.
func Customer(a *Aggregator, eng *engine.Engine, changes *diff.Diff, base *ir.Program, c *engine.Customer, now time.Time) {
	for _, h := range c.Held {
		if why := changes.HeldChange(base, h.Journey, h.Stage, h.Name); why != "" {
			a.AddHeld(changes.NewName(h.Journey), h.Stage, h.Name, why)
		}
	}
	type before struct {
		in   *engine.Instance
		next time.Time
	}
	var was []before
	for _, in := range c.Instances {
		if in.Active() && len(in.Waits) > 0 {
			was = append(was, before{in, nextDue(in.Waits)})
		}
	}
	res := eng.Migrate(c, now)
	for _, m := range res.Migrations {
		a.Add(m)
		if m.Disposition != engine.MigrationStay && m.Disposition != engine.MigrationMoved {
			continue
		}
		for _, b := range was {
			if b.in.ID != m.Instance || !b.in.Active() {
				continue
			}
			if next := nextDue(b.in.Waits); !next.IsZero() && next.Before(b.next) {
				a.AddEarlier(m.Journey, m.Stage, !next.After(now))
			}
		}
	}
}

func nextDue(ws []engine.Wait) time.Time {
	var next time.Time
	for _, w := range ws {
		if next.IsZero() || w.Due.Before(next) {
			next = w.Due
		}
	}
	return next
}

// Read reads and decodes every customer with an active instance the way
// Run does, and does nothing with them: the baseline a plan's time is
// measured against. It returns how many it read.
func Read(ctx context.Context, st store.Store, opts Options) (int, error) {
	opts.defaults()
	counts := make([]int, opts.Workers)
	err := scan(ctx, st, opts, func(w int, c *engine.Customer) { counts[w]++ })
	n := 0
	for _, k := range counts {
		n += k
	}
	return n, err
}

// scan pages through the customers with an active instance and hands each
// state to work on one of opts.Workers goroutines (w is its number, from
// 0): one goroutine reads pages while the others decode and work.
func scan(ctx context.Context, st store.Store, opts Options, work func(w int, c *engine.Customer)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []row, opts.Workers)
	var readErr error
	go func() {
		defer close(pages)
		readErr = readPages(ctx, st, opts.PageSize, func(page []row) bool {
			select {
			case pages <- page:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var wg sync.WaitGroup
	var once sync.Once
	var workErr error
	for w := range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page := range pages {
				for _, r := range page {
					c := r.c
					if c == nil {
						var err error
						if c, err = decodeState(r.raw); err != nil {
							once.Do(func() {
								workErr = fmt.Errorf("plan: customer %q: decoding the state: %w", r.id, err)
								cancel()
							})
							return
						}
					}
					work(w, c)
				}
			}
		}()
	}
	wg.Wait()
	for range pages { // what the reader still held when a worker gave up
	}
	if workErr != nil {
		return workErr
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// row is a customer read: its stored JSON (raw) from a store that pages
// states, or its decoded state (c) from one read by id.
type row struct {
	id  string
	raw []byte
	c   *engine.Customer
}

// readPages reads the customers with an active instance a page at a time:
// one query per page from a store that can (store.ActiveStateReader), else
// ActiveCustomers and Customer for each id. page returns false to stop.
func readPages(ctx context.Context, st store.Store, size int, page func([]row) bool) error {
	bulk, _ := st.(store.ActiveStateReader)
	after := ""
	for {
		var rows []row
		n := 0 // rows the store listed: fewer than size is the last page
		if bulk != nil {
			states, err := bulk.ActiveStates(ctx, after, size)
			if err != nil {
				return fmt.Errorf("plan: reading active customers: %w", err)
			}
			rows = make([]row, len(states))
			for i, s := range states {
				rows[i] = row{id: s.ID, raw: s.State}
			}
			if n = len(states); n > 0 {
				after = states[n-1].ID
			}
		} else {
			ids, err := st.ActiveCustomers(ctx, after, size)
			if err != nil {
				return fmt.Errorf("plan: listing active customers: %w", err)
			}
			rows = make([]row, 0, len(ids))
			for _, id := range ids {
				c, err := st.Customer(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue // gone meanwhile
				}
				if err != nil {
					return fmt.Errorf("plan: reading customer %q: %w", id, err)
				}
				rows = append(rows, row{id: id, c: c})
			}
			if n = len(ids); n > 0 {
				after = ids[n-1]
			}
		}
		if len(rows) > 0 && !page(rows) {
			return nil
		}
		if n < size {
			return nil
		}
	}
}
