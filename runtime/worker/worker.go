package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/lograte"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Item is one input for one customer.
type Item struct {
	CustomerID string
	Input      engine.Input
}

// Options tunes a Worker. The zero value is usable.
type Options struct {
	// FlushInterval, with Pipeline, is how long a batch being collected
	// while the previous commit runs waits for more inputs before it is
	// prepared anyway (default 5ms). Batches never wait on an idle store:
	// a batch is whatever queued during the previous commit (see the
	// package doc), so without Pipeline this is unused.
	FlushInterval time.Duration
	// MaxBatch bounds a batch's inputs (default 500). One Submit is never
	// split, so a batch exceeds it when a single Submit does.
	MaxBatch int
	// Now is the clock engine steps run at (default time.Now().UTC()); one
	// reading per batch.
	Now    func() time.Time
	Logger *slog.Logger

	// OnCommit, when set, is called after every commit that returned nil,
	// before the Submits it holds return, with the batch committed: the
	// delivery dispatcher's Notify, the scheduler's OnCommit (new wake
	// times). It runs on the writer's path, so it must be quick; it must
	// neither modify the batch nor keep it after it returns.
	OnCommit func(b *store.Batch)
	// CacheSize is how many committed customer states are kept in memory in
	// front of store.Customer (default 10000; a state is a few KB). Negative
	// turns the cache off: needed when anything else may write the same
	// customers, unless Ownership says when.
	CacheSize int
	// Ownership, on a node that shares its store with others (a cluster
	// on PostgreSQL), says whether the node owns a customer now, and under
	// which token (its shard's epoch, which moves on whenever the shard
	// changes hands, and which every commit is fenced by). A state is
	// cached only under the token it was read under and used only while
	// the token is the same: a state cached before the node lost the shard
	// is never used after it took it back. Customers not owned are not
	// cached. Each batch carries the tokens its states were read under
	// (store.Batch.Tokens), so that the store refuses the commit of a
	// batch prepared before the node lost a shard it has taken back since.
	// Nil: every customer is owned, under one token, and batches carry
	// none.
	Ownership func(customerID string) (token int64, owned bool)
	// QueueSize bounds the Submits waiting to be collected (default 4096);
	// beyond it Submit blocks, which pushes back on ingest.
	QueueSize int
	// Pipeline prepares each batch (loads, dedup, engine steps) while the
	// previous commit runs, instead of after it. It can pay where a commit
	// mostly waits (PostgreSQL over a network, spare cores). On 2 vCPUs it
	// made no difference beyond run-to-run noise with the embedded SQLite
	// (whose commits are CPU work) or with a commit that sleeps 2ms, and it
	// cost a third with an in-memory store and one event per Submit
	// (BenchmarkWorker), so it is off by default. Submits queue while a
	// commit runs either way, and the next batch takes them all at once.
	Pipeline bool
}

// Errors returned by Submit.
var (
	// ErrClosed: the worker has stopped (Run returned) or is stopping.
	ErrClosed = errors.New("worker: stopped")
	// ErrNoCustomer: an item has no CustomerID.
	ErrNoCustomer = errors.New("worker: item without a customer id")
)

// Worker is the single writer. Create it with New, start Run in a goroutine,
// then Submit from anywhere.
type Worker struct {
	st store.Store
	// stager is st when it stages batches (store.Stager): each batch is
	// encoded when it is prepared, its commit only writes.
	stager store.Stager
	// tokened: the caller gave Options.Ownership, so batches carry the
	// tokens their states were read under (store.Batch.Tokens).
	tokened bool
	opts    Options
	log     *slog.Logger
	// lim lets a failure that repeats (a full disk fails every commit)
	// reach the log once per interval, with a count of the rest.
	lim *lograte.Limiter
	eng atomic.Pointer[engine.Engine]

	in       chan *request
	stopping chan struct{} // closed when Run begins to stop: Submit refuses new work
	mu       sync.RWMutex  // Submit holds it shared while enqueueing; Run takes it to close
	closed   bool
	running  atomic.Bool
	queued   atomic.Int64 // Submits enqueued and not yet taken into a batch being prepared

	// Owned by the Run goroutine.
	cache  *cache
	erased recent   // customers erased lately (see erase.go)
	carry  *request // collected but did not fit the previous batch

	prepared func() // test hook: a batch has been prepared, its predecessor may still commit

	n counters
}

// request is one Submit waiting for its commit, or one Erase.
type request struct {
	ctx   context.Context
	items []Item
	at    time.Time  // when it was enqueued: the flush deadline counts from the oldest
	done  chan error // buffered: the writer never blocks on a Submit that has gone away
	// erase, when set, makes the request an Erase of that customer
	// (items is empty): a batch of its own (see erase.go).
	erase  string
	erased store.Erased // the outcome, set before done is answered
	// eraseElsewhere are merged ids the erase leaves to its caller.
	eraseElsewhere map[string]bool
	// mergeFrom and mergeInto, when set, make the request a Merge
	// (merge.go), a batch of its own too.
	mergeFrom, mergeInto string
	merged               bool // the outcome of a merge, set before done is answered
	// exclusive, when set, makes the request an Exclusive (exclusive.go),
	// a batch of its own too; its customers' cached states are dropped.
	exclusive    func(ctx context.Context, now time.Time) (*store.Batch, error)
	exclusiveIDs []string
}

// alone reports whether r is a batch of its own: an erase, a merge or an
// Exclusive.
func (r *request) alone() bool { return r.erase != "" || r.mergeInto != "" || r.exclusive != nil }

// New returns a Worker writing to st with eng. It does nothing until Run.
func New(st store.Store, eng *engine.Engine, opts Options) *Worker {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Millisecond
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 500
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 10000
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	w := &Worker{
		st:       st,
		opts:     opts,
		log:      opts.Logger.With("component", "worker"),
		lim:      lograte.New(0, nil),
		in:       make(chan *request, opts.QueueSize),
		stopping: make(chan struct{}),
		cache:    newCache(opts.CacheSize),
	}
	w.stager, _ = st.(store.Stager)
	w.tokened = w.opts.Ownership != nil
	if !w.tokened {
		w.opts.Ownership = func(string) (int64, bool) { return 0, true }
	}
	w.eng.Store(eng)
	return w
}

// Engine returns the engine that the next batch will run on.
func (w *Worker) Engine() *engine.Engine { return w.eng.Load() }

// Swap installs eng for every batch prepared from now on (hot reload). A
// batch already being prepared or committed finishes on the engine it began
// with.
func (w *Worker) Swap(eng *engine.Engine) {
	w.eng.Store(eng)
	w.n.swaps.Add(1)
}

// Submit hands items to the writer and waits until the commit holding all of
// them has returned. nil means they are durable: acknowledge them. An error
// means nothing may be acknowledged (see the package doc for when the items
// may still have been committed, and why a retry is safe).
func (w *Worker) Submit(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	for i := range items {
		if items[i].CustomerID == "" {
			return ErrNoCustomer
		}
	}
	return w.enqueue(ctx, &request{ctx: ctx, items: items, at: time.Now(), done: make(chan error, 1)})
}

// enqueue queues r and waits for its answer.
func (w *Worker) enqueue(ctx context.Context, r *request) error {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	w.queued.Add(1)
	select {
	case w.in <- r:
		w.n.submits.Add(1)
	case <-w.stopping:
		w.queued.Add(-1)
		w.mu.RUnlock()
		return ErrClosed
	case <-ctx.Done():
		w.queued.Add(-1)
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		select {
		case err := <-r.done: // answered as ctx ended: the answer is better news
			return err
		default:
			return ctx.Err()
		}
	}
}

// Stats returns the counters so far.
func (w *Worker) Stats() Stats {
	fates, failed := w.n.sends.snapshot()
	return Stats{
		Sends:       fates,
		FailedSends: failed,
		Submits:     w.n.submits.Load(),
		Inputs:      w.n.inputs.Load(),
		Duplicates:  w.n.duplicates.Load(),
		Failed:      w.n.failed.Load(),
		Abandoned:   w.n.abandoned.Load(),
		Customers:   w.n.customers.Load(),
		Batches:     w.n.batches.Load(),
		Errors:      w.n.errors.Load(),
		Swaps:       w.n.swaps.Load(),
		CacheHits:   w.n.cacheHits.Load(),
		CacheLoads:  w.n.cacheLoads.Load(),
		Queued:      int(w.queued.Load()),
		Commit:      w.n.commit.Snapshot(),
	}
}

// Run is the writer loop. It returns nil when ctx ends, after committing
// everything submitted before then; later Submits get ErrClosed. Call it once.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("worker: Run called twice")
	}
	// Store calls outlive ctx: a commit under way when the process is asked
	// to stop should finish rather than fail the inputs it holds.
	sctx := context.WithoutCancel(ctx)
	var prev *batch // the batch whose commit may still be running
	for {
		var busy <-chan struct{}
		if prev != nil {
			busy = prev.done
		}
		reqs, open := w.collect(ctx, busy)
		w.queued.Add(-int64(len(reqs)))
		if prev != nil && prev.finished() {
			// Settled already: the new batch starts from its outcome
			// instead of depending on it.
			w.finish(prev)
			prev = nil
		}
		for len(reqs) > 0 {
			if r := reqs[0]; r.alone() {
				// Everything before the erase or merge is committed
				// first, and nothing after it is prepared until it is
				// done.
				if prev != nil {
					w.finish(prev)
					prev = nil
				}
				switch {
				case r.erase != "":
					w.runErase(sctx, r)
				case r.exclusive != nil:
					w.runExclusive(sctx, r)
				default:
					w.runMerge(sctx, r)
				}
				reqs = reqs[1:]
				continue
			}
			k := 1
			for k < len(reqs) && !reqs[k].alone() {
				k++
			}
			var seg []*request
			seg, reqs = reqs[:k], reqs[k:]
			b := w.prepare(sctx, w.eng.Load(), seg, prev)
			if w.prepared != nil {
				w.prepared()
			}
			if prev != nil {
				w.finish(prev)
				if prev.err != nil && b != nil && b.dependsOnPrev {
					w.n.errors.Add(1)
					w.fail(b.reqs, &DependentError{Err: prev.err})
					b = nil
				}
				prev = nil
			}
			if b != nil {
				if !w.opts.Pipeline {
					w.commit(sctx, b)
					w.finish(b)
				} else {
					go w.commit(sctx, b)
					prev = b
				}
			}
		}
		if !open {
			if prev != nil {
				w.finish(prev)
			}
			return nil
		}
	}
}

// DependentError fails a batch that was prepared on top of customer states
// (or message ids) of a batch whose commit then failed.
type DependentError struct{ Err error }

func (e *DependentError) Error() string {
	return "worker: an earlier commit this batch builds on failed: " + e.Err.Error()
}

func (e *DependentError) Unwrap() error { return e.Err }

// collect returns the next batch of requests: it waits for one, then takes
// more until the batch holds MaxBatch inputs, or the queue is empty and the
// store is idle (busy is nil or closed: nothing is being committed), or
// FlushInterval has passed since the oldest was submitted while a commit
// still runs. open is false once ctx has ended: the requests returned then
// are the last ones, and Submit refuses new ones.
//
// Waiting while the store is idle would only add latency: batches grow by
// themselves from what arrives while a commit runs, as large as the load
// and the commit's duration make them. The interval bounds how long a batch
// waits for a slow commit before it is prepared anyway (and then waits for
// the commit, prepared).
func (w *Worker) collect(ctx context.Context, busy <-chan struct{}) (reqs []*request, open bool) {
	var first *request
	if w.carry != nil {
		first, w.carry = w.carry, nil
	} else {
		select {
		case first = <-w.in:
		case <-ctx.Done():
			return w.close(nil), false
		}
	}
	reqs = append(reqs, first)
	if first.alone() {
		return reqs, true // an erase or a merge is a batch of its own
	}
	n := len(first.items)
	deadline := first.at.Add(w.opts.FlushInterval)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for n < w.opts.MaxBatch {
		var r *request
		select {
		case r = <-w.in: // whatever is already queued joins without waiting
		default:
			if busy == nil {
				return reqs, true
			}
			d := time.Until(deadline)
			if d <= 0 {
				return reqs, true
			}
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case r = <-w.in:
			case <-busy:
				busy = nil // the store is free: take what is queued, then go
				continue
			case <-timer.C:
				return reqs, true
			case <-ctx.Done():
				return w.close(reqs), false
			}
		}
		if r.alone() || n > 0 && n+len(r.items) > w.opts.MaxBatch {
			w.carry = r
			return reqs, true
		}
		reqs = append(reqs, r)
		n += len(r.items)
	}
	return reqs, true
}

// close stops Submit from enqueueing and returns reqs with everything still
// queued: the final batch.
func (w *Worker) close(reqs []*request) []*request {
	close(w.stopping) // Submits blocked on a full queue give up...
	w.mu.Lock()       // ...and once none is inside the enqueue, none can be
	w.closed = true
	w.mu.Unlock()
	if w.carry != nil {
		reqs = append(reqs, w.carry)
		w.carry = nil
	}
	for {
		select {
		case r := <-w.in:
			reqs = append(reqs, r)
		default:
			return reqs
		}
	}
}

// fail answers reqs with err.
func (w *Worker) fail(reqs []*request, err error) {
	for _, r := range reqs {
		w.n.failed.Add(uint64(len(r.items)))
		r.done <- err
	}
}
