package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// batch is one group commit on its way: the requests it answers and the
// store.Batch it writes.
type batch struct {
	reqs []*request
	sb   store.Batch
	// states are the customers written, by id: a batch prepared while this
	// one commits starts from copies of them.
	states map[string]*engine.Customer
	// msgs are the message ids handled: a batch prepared while this one
	// commits treats them as seen.
	msgs map[string]struct{}
	// tokens are the ownership tokens the states were read under, by id
	// (owned customers only): the states go back to the cache under them.
	tokens map[string]int64
	// dependsOnPrev is set when preparing read the previous batch's states
	// or message ids before that batch's commit had returned.
	dependsOnPrev bool
	inputs        int // inputs stepped
	dups          int // inputs skipped as duplicates

	// staged is the batch encoded by a store.Stager (nil: the store is
	// not one, or staging failed with stageErr, the batch's commit error).
	staged   store.Staged
	stageErr error

	done chan struct{} // closed when the commit has returned and every request is answered
	err  error         // the commit's error; read after done
}

// group is one customer's inputs in a batch, in arrival order.
type group struct {
	id    string
	items []*Item
	c     *engine.Customer
	// fresh: the store did not know the customer (c is empty).
	fresh bool
	// fromPrev: c is a copy of the previous batch's state (so it must not go
	// back to the cache before that batch's commit has returned).
	fromPrev bool
	// tok and owned: Options.Ownership of the customer when its state was
	// read (for a state from the previous batch, that batch's token).
	tok   int64
	owned bool
	err   error // loading failed
	// unreadable: only wakes, of a customer whose stored state cannot be
	// decoded (store.ErrUnreadable): skipped, not stepped nor written.
	unreadable bool
}

// loadParallelism is how many store.Customer calls run at once for one
// batch. A burst of wakes (everything overdue after a restart) is mostly
// cache misses: loading them one by one left a core idle. The SQLite
// store's read pool has at least this many connections.
const loadParallelism = 4

// load reads the states of gs from the store, several at a time; a customer
// the store does not know starts empty.
func (w *Worker) load(ctx context.Context, gs []*group) {
	if bulk, ok := w.st.(store.CustomersReader); ok && len(gs) > 1 {
		ids := make([]string, len(gs))
		for i, g := range gs {
			ids[i] = g.id
		}
		cs, err := bulk.Customers(ctx, ids)
		// An unreadable state fails the whole read: one by one below, the
		// error is only that customer's.
		if !errors.Is(err, store.ErrUnreadable) {
			for _, g := range gs {
				switch c := cs[g.id]; {
				case err != nil:
					g.err = fmt.Errorf("worker: load customers: %w", err)
				case c != nil:
					g.c = c
				default:
					g.c = &engine.Customer{ID: g.id}
				}
			}
			return
		}
	}
	one := func(g *group) {
		c, err := w.st.Customer(ctx, g.id)
		switch {
		case err == nil:
			g.c = c
		case errors.Is(err, store.ErrNotFound):
			g.c, g.fresh = &engine.Customer{ID: g.id}, true
		default:
			g.err = fmt.Errorf("worker: load customer %q: %w", g.id, err)
		}
	}
	if len(gs) < 2*loadParallelism {
		for _, g := range gs {
			one(g)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range loadParallelism {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(gs) {
					return
				}
				one(gs[i])
			}
		})
	}
	wg.Wait()
}

// prepare builds the batch for reqs on eng: it loads, deduplicates and steps.
// Requests whose customer cannot be loaded, or whose Step panics, are failed
// on their own and the rest is prepared again without them, so one broken
// customer does not fail everybody sharing its commit. It returns nil when
// no request is left.
func (w *Worker) prepare(ctx context.Context, eng *engine.Engine, reqs []*request, prev *batch) *batch {
	live := reqs[:0:0]
	for _, r := range reqs {
		if r.ctx.Err() != nil {
			// Its Submit has returned an error already: doing the work now
			// would commit inputs nobody will acknowledge.
			w.n.abandoned.Add(uint64(len(r.items)))
			r.done <- r.ctx.Err()
			continue
		}
		live = append(live, r)
	}
	reqs = live
	now := w.opts.Now()
	for len(reqs) > 0 {
		b, bad, err := w.tryPrepare(ctx, eng, reqs, prev, now)
		if err != nil {
			w.n.errors.Add(1)
			if ok, n := w.lim.Allow("prepare"); ok {
				w.log.Error("batch failed before commit", "err", err, "inputs", countItems(reqs), "suppressed", n)
			}
			w.fail(reqs, err)
			return nil
		}
		if len(bad) == 0 {
			w.stage(b)
			return b
		}
		keep := reqs[:0:0]
		for _, r := range reqs {
			var rerr error
			for i := range r.items {
				if e, ok := bad[r.items[i].CustomerID]; ok {
					rerr = e
					break
				}
			}
			if rerr != nil {
				w.fail([]*request{r}, rerr)
			} else {
				keep = append(keep, r)
			}
		}
		reqs = keep
	}
	return nil
}

// tryPrepare prepares reqs, or reports the customers (bad) that could not be
// loaded or whose Step panicked, or a store error (err) that fails all.
func (w *Worker) tryPrepare(ctx context.Context, eng *engine.Engine, reqs []*request, prev *batch, now time.Time) (b *batch, bad map[string]error, err error) {
	b = &batch{reqs: reqs, done: make(chan struct{})}

	// Group by customer, keeping arrival order within each customer.
	byID := make(map[string]*group)
	var groups []*group
	var ids []string
	for _, r := range reqs {
		for i := range r.items {
			it := &r.items[i]
			g := byID[it.CustomerID]
			if g == nil {
				g = &group{id: it.CustomerID}
				byID[it.CustomerID] = g
				groups = append(groups, g)
			}
			g.items = append(g.items, it)
			if id := it.Input.MessageID; id != "" {
				ids = append(ids, id)
			}
		}
	}

	// Ingest dedup across restarts: one query for the whole batch. The
	// store keeps ids as store.DedupKey hashes; the raw ids are looked up
	// too because stores written before the hashing hold them raw (for a
	// dedup window after the upgrade; harmless after it).
	var seen map[string]bool
	if len(ids) > 0 {
		lookups := make([]string, 0, 2*len(ids))
		for _, id := range ids {
			lookups = append(lookups, id, store.DedupKey(id))
		}
		seen, err = w.st.SeenMessages(ctx, lookups)
		if err != nil {
			return nil, nil, fmt.Errorf("worker: seen messages: %w", err)
		}
	}

	// Load: the previous batch's state while it commits (a copy: the store
	// may be encoding the original), else the cache, else the store.
	var misses []*group
	for _, g := range groups {
		if prev != nil {
			if c, ok := prev.states[g.id]; ok {
				g.c, g.fromPrev = cloneCustomer(c), true
				g.tok, g.owned = prev.tokens[g.id]
				b.dependsOnPrev = true
				continue
			}
		}
		g.tok, g.owned = w.opts.Ownership(g.id)
		if c, ok := w.cache.take(g.id, g.tok); ok && g.owned {
			w.n.cacheHits.Add(1)
			g.c = c
			continue
		}
		misses = append(misses, g)
	}
	w.n.cacheLoads.Add(uint64(len(misses)))
	w.load(ctx, misses)
	for _, g := range misses {
		if g.err != nil && errors.Is(g.err, store.ErrUnreadable) && onlyWakes(g.items) {
			// A state stored by an older version that cannot be read back:
			// its timer cannot be stepped, now or on a retry. Failing the
			// Submit would fail every wake sharing it (a scheduler page, a
			// reload's migration page), again at each retry. It is skipped
			// and named; the scheduler does not fire a wake that committed
			// without moving the customer's next wake again. An input
			// other than a wake still fails: it would be lost.
			g.unreadable = true
			w.n.errors.Add(1)
			if ok, n := w.lim.Allow("unreadable"); ok {
				w.log.Error("wake skipped: the customer's stored state cannot be decoded; erase or repair it", "customer", g.id, "err", g.err, "suppressed", n)
			}
			continue
		}
		if g.err != nil {
			if bad == nil {
				bad = map[string]error{}
			}
			bad[g.id] = g.err
		}
	}
	if bad != nil {
		// Nothing was stepped: the states taken are still the committed ones.
		for _, g := range groups {
			if g.c != nil && !g.fromPrev {
				w.keep(g.c, g.tok, g.owned)
			}
		}
		return nil, bad, nil
	}

	// Step, customer by customer, each customer's inputs in order.
	b.msgs = make(map[string]struct{}, len(ids))
	b.states = make(map[string]*engine.Customer, len(groups))
	b.tokens = make(map[string]int64, len(groups))
	if w.tokened {
		b.sb.Tokens = make(map[string]int64, len(groups))
	}
	b.sb.Customers = make([]store.CustomerWrite, 0, len(groups))
	for _, g := range groups {
		if g.unreadable {
			continue
		}
		if g.fresh && onlyWakes(g.items) && w.erased.has(g.id) {
			// A timer for a customer erased after the scheduler read its
			// wake: writing the empty state would bring the id back. (A
			// wake for an unknown id that was not erased still writes it,
			// which clears a stray index entry.)
			continue
		}
		var cw store.CustomerWrite
		next := 1 // the Seq of the write's next record (numberWrite)
		for _, it := range g.items {
			if id := it.Input.MessageID; id != "" {
				key := store.DedupKey(id)
				if seen[key] || seen[id] {
					b.dups++
					continue
				}
				if _, ok := b.msgs[id]; ok {
					b.dups++
					continue
				}
				if prev != nil {
					if _, ok := prev.msgs[id]; ok {
						b.dups++
						b.dependsOnPrev = true
						continue
					}
				}
				b.msgs[id] = struct{}{}
				cw.MessageIDs = append(cw.MessageIDs, key)
			}
			res, perr := w.step(eng, g.c, it.Input, now)
			if perr != nil {
				// g.c is half-mutated and is dropped; the states already
				// stepped are dropped too (they are not committed states any
				// more), so the retry reloads them from the store.
				return nil, map[string]error{g.id: perr}, nil
			}
			in := it.Input
			received := store.Received{Kind: in.Kind, Name: in.Event, MessageID: in.MessageID, At: now}
			next = numberWrite(&res, &received, in.Kind != engine.KindWake, next)
			cw.Results = append(cw.Results, res)
			if in.Kind != engine.KindWake {
				cw.Received = append(cw.Received, received)
			}
			b.inputs++
		}
		if len(cw.Results) == 0 {
			// Only duplicates: the state is untouched and still committed.
			if !g.fromPrev {
				w.keep(g.c, g.tok, g.owned)
			}
			continue
		}
		cw.State = g.c
		cw.NextWake = g.c.NextWake()
		b.sb.Customers = append(b.sb.Customers, cw)
		b.states[g.id] = g.c
		if g.owned {
			b.tokens[g.id] = g.tok
		}
		if b.sb.Tokens != nil {
			// The store refuses a state read under another epoch than
			// the commit's, or while the node did not own it.
			tok := g.tok
			if !g.owned {
				tok = store.TokenNotOwned
			}
			b.sb.Tokens[g.id] = tok
		}
	}
	return b, nil, nil
}

// stage has a store.Stager encode b, in the goroutine that prepared it:
// with Pipeline, while the previous batch commits. A batch that cannot be
// encoded fails at its commit, as if the store had refused it.
func (w *Worker) stage(b *batch) {
	if w.stager == nil || len(b.sb.Customers) == 0 {
		return
	}
	b.staged, b.stageErr = w.stager.Stage(&b.sb)
}

// step runs one engine Step, turning a panic into an error: the engine
// promises not to panic, but if it ever does, one customer's requests fail
// and the writer goes on.
func (w *Worker) step(eng *engine.Engine, c *engine.Customer, in engine.Input, now time.Time) (res engine.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("engine panic", "customer", c.ID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("worker: engine failed on customer %q: %v", c.ID, p)
		}
	}()
	return eng.Step(c, in, now), nil
}

// commit writes b, calls OnCommit, closes b.done and answers b's requests.
// It may run on its own goroutine while the next batch is prepared; it
// touches nothing the Run goroutine owns.
//
// b.done closes before any request is answered: whatever a client does
// after its answer (a retry, above all) is prepared after Run can see that
// b has finished, so a retry never builds on the failed batch it retries.
func (w *Worker) commit(ctx context.Context, b *batch) {
	var err error
	if len(b.sb.Customers) > 0 {
		start := time.Now()
		switch {
		case b.stageErr != nil:
			err = b.stageErr
		case b.staged != nil:
			err = w.stager.CommitStaged(ctx, b.staged)
		default:
			err = w.st.Commit(ctx, &b.sb)
		}
		w.n.commit.Observe(time.Since(start))
	}
	if err != nil {
		err = fmt.Errorf("worker: commit: %w", err)
		w.n.errors.Add(1)
		if ok, n := w.lim.Allow("commit"); ok {
			w.log.Error("commit failed", "err", err, "customers", len(b.sb.Customers), "inputs", b.inputs, "suppressed", n)
		}
		b.err = err
		close(b.done)
		w.fail(b.reqs, err)
		return
	}
	if len(b.sb.Customers) > 0 {
		w.n.batches.Add(1)
		w.n.inputs.Add(uint64(b.inputs))
		w.n.customers.Add(uint64(len(b.sb.Customers)))
		w.n.sends.add(&b.sb)
		w.logFailedSends(&b.sb)
		// Before done: once Run sees done, the states go back to the cache
		// and later batches mutate them.
		if w.opts.OnCommit != nil {
			w.opts.OnCommit(&b.sb)
		}
	}
	w.n.duplicates.Add(uint64(b.dups))
	close(b.done)
	for _, r := range b.reqs {
		r.done <- nil
	}
}

// logFailedSends warns of each committed send that failed at run time (a
// field that did not evaluate, like an email address from a trait never
// set): nothing else tells an operator, since the send never reaches the
// outbox. The fields are not logged (they hold the customer's data), only
// where the send is and why it failed; GET /v1/failed-sends lists them.
func (w *Worker) logFailedSends(b *store.Batch) {
	for i := range b.Customers {
		cw := &b.Customers[i]
		for k := range cw.Results {
			for _, sd := range cw.Results[k].Sends {
				if sd.Fate == engine.FateFailed {
					w.log.Warn("send failed", "journey", sd.Journey, "stage", sd.Stage, "send", sd.Name,
						"customer", cw.State.ID, "key", sd.Key, "reason", sd.Reason)
				}
			}
		}
	}
}

// finished reports whether b's commit has returned.
func (b *batch) finished() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// finish waits for b's commit and, when it succeeded, puts its states in the
// cache: they are committed now. A failed batch's states are dropped.
func (w *Worker) finish(b *batch) {
	<-b.done
	if b.err != nil {
		return
	}
	for i := range b.sb.Customers {
		c := b.sb.Customers[i].State
		tok, owned := b.tokens[c.ID]
		w.keep(c, tok, owned)
	}
}

// keep puts a committed state in the cache under the token it was read
// under, if the customer was owned then.
func (w *Worker) keep(c *engine.Customer, tok int64, owned bool) {
	if owned {
		w.cache.put(c, tok)
	}
}

func countItems(reqs []*request) int {
	n := 0
	for _, r := range reqs {
		n += len(r.items)
	}
	return n
}

func onlyWakes(items []*Item) bool {
	for _, it := range items {
		if it.Input.Kind != engine.KindWake {
			return false
		}
	}
	return true
}

// numberWrite renumbers the records of res, a Result of a customer's write
// whose next Seq is next, so that the write's records and inputs make one
// sequence in the order they happened: the records made before the input
// was handled (due timers, a migration), the input (in, when it is one: a
// wake is not kept), then what it caused. It returns the next Seq after
// them. A history reader can then interleave a commit's inputs and records
// exactly, though they share one time.
func numberWrite(res *engine.Result, in *store.Received, isInput bool, next int) int {
	inputAt := max(res.InputSeq, 1)
	shift := func(seq int) int {
		if isInput && seq >= inputAt {
			return seq + next // one more for the input
		}
		return seq + next - 1
	}
	n := 0
	for k := range res.Transitions {
		res.Transitions[k].Seq = shift(res.Transitions[k].Seq)
		n++
	}
	for k := range res.Sends {
		res.Sends[k].Seq = shift(res.Sends[k].Seq)
		n++
	}
	for k := range res.Refusals {
		res.Refusals[k].Seq = shift(res.Refusals[k].Seq)
		n++
	}
	for k := range res.Errors {
		res.Errors[k].Seq = shift(res.Errors[k].Seq)
		n++
	}
	for k := range res.Emitted {
		res.Emitted[k].Seq = shift(res.Emitted[k].Seq)
		n++
	}
	for k := range res.Responses {
		res.Responses[k].Seq = shift(res.Responses[k].Seq)
		n++
	}
	if isInput {
		in.Seq = inputAt + next - 1
		n++
	}
	return next + n
}
