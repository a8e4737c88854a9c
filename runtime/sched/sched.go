package sched

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Options tunes a Scheduler. The zero value is usable.
type Options struct {
	// Horizon is how far ahead a poll reads the index (default 1m): wakes
	// within it are held in memory and fire on their own timer.
	Horizon time.Duration
	// PollInterval is the time between polls (default 250ms): the worst
	// delay of a wake that no hint announced.
	PollInterval time.Duration
	// PageSize is how many wakes one poll reads at most, beyond those in
	// flight (default 1000).
	PageSize int
	// SubmitSize is how many wakes go in one Submit (default 500: the
	// worker's default batch).
	SubmitSize int
	// MaxInflight bounds the wakes submitted and not yet committed (default
	// 4*SubmitSize): several Submits in flight keep the worker's pipeline
	// full during a burst, such as everything overdue after a restart.
	MaxInflight int
	// Now is the clock (default time.Now().UTC()). Sleeps are real time,
	// but never longer than PollInterval, so a test clock is re-read often.
	Now    func() time.Time
	Logger *slog.Logger
}

// Submit hands wakes to the worker: worker.(*Worker).Submit.
type Submit func(ctx context.Context, items []worker.Item) error

// Scheduler fires due timers. Create it with New, run Run, and wire its
// OnCommit (or Hint) into the worker's Options.OnCommit.
type Scheduler struct {
	st     store.Store
	submit Submit
	opts   Options
	log    *slog.Logger
	kick   chan struct{} // cap 1: something changed, re-plan
	wg     sync.WaitGroup

	mu        sync.Mutex
	known     map[string]time.Time // the wake time the heap holds for a customer
	h         wakeHeap             // may hold stale entries: valid iff known[id] == at
	parked    []wake               // due while a wake of the same customer is in flight
	inflight  map[string]*flight   // submitted, not yet returned
	fired     map[string]firedWake // committed: a poll row with the same time is stale, not due
	watermark time.Time            // every index entry at or before it is known (or in flight)
	full      bool                 // the last poll filled its page: the index goes on past watermark
	polling   bool                 // a Due query is running: hints are also kept in pending
	pending   []store.Wake         // hints during the running poll, re-applied after it
	planned   time.Time            // when the loop means to wake up
	retryAt   time.Time            // after a failed Submit, fire nothing before this (real time)
	backoff   time.Duration

	n struct {
		fired, errors, polls, pollRows, stuck, hints atomic.Uint64
		lag                                          worker.Recorder
	}
}

type flight struct {
	at     time.Time
	hinted bool // a commit told the customer's wake time meanwhile
}

type firedWake struct {
	at   time.Time // the wake time that fired
	done time.Time // when its Submit returned (real time)
	told bool      // logged as stuck already
}

// Stats are the scheduler's counters, for /metrics.
type Stats struct {
	Fired    uint64 // wakes committed
	Errors   uint64 // failed Submits and failed Due queries
	Polls    uint64 // Due queries
	PollRows uint64 // rows they returned
	Hints    uint64 // Hint calls
	// Stuck counts rows a poll returned for a wake that had already
	// committed at that time: the store did not move the customer's
	// next_wake. They are not fired again (that would spin).
	Stuck    uint64
	Known    int // wakes held in memory, now
	Inflight int // wakes submitted and not yet committed, now
	// Lag is, for every wake committed, the time from its due time to the
	// return of the Submit that committed it.
	Lag worker.Histogram
}

// New returns a Scheduler reading st and firing through submit.
func New(st store.Store, submit Submit, opts Options) *Scheduler {
	if opts.Horizon <= 0 {
		opts.Horizon = time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.SubmitSize <= 0 {
		opts.SubmitSize = 500
	}
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = 4 * opts.SubmitSize
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Scheduler{
		st:       st,
		submit:   submit,
		opts:     opts,
		log:      opts.Logger.With("component", "sched"),
		kick:     make(chan struct{}, 1),
		known:    map[string]time.Time{},
		inflight: map[string]*flight{},
		fired:    map[string]firedWake{},
	}
}

// maxKnown bounds the wakes held from hints: beyond it a hint lowers the
// watermark instead, and a later poll reads the wake from the index.
func (s *Scheduler) maxKnown() int { return 4*s.opts.PageSize + s.opts.MaxInflight }

// Hint tells the scheduler that customerID's next wake is now at (zero:
// nothing due): the worker has just committed it. A wake sooner than the
// next poll would notice then fires on time. Safe for concurrent use; cheap.
func (s *Scheduler) Hint(customerID string, at time.Time) {
	s.n.hints.Add(1)
	s.mu.Lock()
	if s.polling {
		s.pending = append(s.pending, store.Wake{CustomerID: customerID, At: at})
	}
	kick := s.applyLocked(customerID, at)
	s.mu.Unlock()
	if kick {
		s.poke()
	}
}

// OnCommit hints every customer of a committed batch: install it as (part
// of) the worker's Options.OnCommit.
func (s *Scheduler) OnCommit(b *store.Batch) {
	for i := range b.Customers {
		cw := &b.Customers[i]
		s.Hint(cw.State.ID, cw.NextWake)
	}
}

// applyLocked records a customer's current wake time from a commit, and
// reports whether the loop must re-plan (it is due sooner than planned).
func (s *Scheduler) applyLocked(id string, at time.Time) bool {
	// A commit for the customer is newer than any wake that fired for it.
	delete(s.fired, id)
	if f, ok := s.inflight[id]; ok {
		f.hinted = true
	}
	if at.IsZero() || at.After(s.watermark) {
		// Nothing due, or beyond what the heap covers: a later poll reads it.
		delete(s.known, id)
		return false
	}
	if _, ok := s.known[id]; !ok && len(s.known) >= s.maxKnown() {
		// Too many to hold: stop claiming to know the index past this one,
		// so that it is read from the index once the heap is through.
		delete(s.known, id)
		s.watermark = at.Add(-time.Nanosecond)
		s.full = true
		return true
	}
	s.known[id] = at
	heap.Push(&s.h, wake{at: at, id: id})
	return s.planned.IsZero() || at.Before(s.planned)
}

func (s *Scheduler) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Stats returns the counters so far.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	known, inflight := len(s.known), len(s.inflight)
	s.mu.Unlock()
	return Stats{
		Fired:    s.n.fired.Load(),
		Errors:   s.n.errors.Load(),
		Polls:    s.n.polls.Load(),
		PollRows: s.n.pollRows.Load(),
		Hints:    s.n.hints.Load(),
		Stuck:    s.n.stuck.Load(),
		Known:    known,
		Inflight: inflight,
		Lag:      s.n.lag.Snapshot(),
	}
}

// Run fires timers until ctx ends, then waits for the Submits in flight and
// returns nil.
//
// Two clocks: Options.Now says which wakes are due; polls, retries and
// backoff run on real time, so that a test clock that stands still does not
// stop the polling.
func (s *Scheduler) Run(ctx context.Context) error {
	defer s.wg.Wait()
	var nextPoll time.Time // real time; zero: poll at once (a restart: everything overdue)
	var pollBackoff time.Duration
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := s.opts.Now()
		if !time.Now().Before(nextPoll) || s.needPage(now) {
			if err := s.poll(ctx, now); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.n.errors.Add(1)
				s.log.Error("reading due wakes failed", "err", err)
				pollBackoff = min(max(2*pollBackoff, 100*time.Millisecond), 10*time.Second)
				nextPoll = time.Now().Add(pollBackoff)
			} else {
				pollBackoff = 0
				nextPoll = time.Now().Add(s.opts.PollInterval)
			}
		}
		s.fire(ctx, now)

		// Sleep until the next wake, the next poll or a kick (a hint sooner
		// than planned, a Submit returning); at most a poll interval, so
		// that a test clock is re-read.
		d := time.Until(nextPoll)
		s.mu.Lock()
		switch {
		case time.Now().Before(s.retryAt):
			d = min(d, time.Until(s.retryAt))
		case len(s.inflight) < s.opts.MaxInflight:
			if at, ok := s.topLocked(); ok {
				d = min(d, at.Sub(s.opts.Now()))
			}
		}
		s.planned = now.Add(d)
		s.mu.Unlock()
		if d <= 0 {
			continue
		}
		timer.Reset(min(d, s.opts.PollInterval))
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-timer.C:
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// needPage reports whether the index goes on past what the heap knows, the
// heap has nothing left to fire before now, and there is room to fire more:
// then the next page is read without waiting for the next poll.
func (s *Scheduler) needPage(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full || now.Before(s.watermark) || len(s.inflight) >= s.opts.MaxInflight || time.Now().Before(s.retryAt) {
		return false
	}
	at, ok := s.topLocked()
	return !ok || at.After(now)
}

// poll reads the index up to now+Horizon and replaces what the heap knows
// with it: the index is the truth.
func (s *Scheduler) poll(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	// Rows of wakes in flight come first; read past them. (Rows of wakes
	// just fired, whose query raced their commit, are few and are not
	// counted: counting them lets the page grow with every burst.)
	limit := s.opts.PageSize + len(s.inflight)
	s.polling = true
	s.pending = s.pending[:0]
	s.mu.Unlock()
	began := time.Now()
	until := now.Add(s.opts.Horizon)
	rows, err := s.st.Due(ctx, until, limit)
	s.n.polls.Add(1)
	s.n.pollRows.Add(uint64(len(rows)))

	s.mu.Lock()
	defer s.mu.Unlock()
	s.polling = false
	if err != nil {
		return err
	}
	s.full = len(rows) >= limit
	if s.full {
		// Entries at the last row's time may go on beyond the page.
		s.watermark = rows[len(rows)-1].At.Add(-time.Nanosecond)
	} else {
		s.watermark = until
	}
	seen := make(map[string]bool, len(s.fired))
	clear(s.known)
	s.h = s.h[:0]
	for _, r := range rows {
		at := r.At.UTC()
		if f, ok := s.inflight[r.CustomerID]; ok && sameWake(f.at, at) {
			continue // the row of the wake in flight
		}
		if f, ok := s.fired[r.CustomerID]; ok && sameWake(f.at, at) {
			// Already committed at this time. A query that began before the
			// commit returned shows the old row; one that began after shows
			// a next_wake the wake did not move.
			seen[r.CustomerID] = true
			if began.After(f.done) && !f.told {
				s.n.stuck.Add(1)
				s.log.Warn("a fired wake did not move the customer's next wake; not firing it again", "customer", r.CustomerID, "at", at)
				f.told = true
				s.fired[r.CustomerID] = f
			}
			continue
		}
		s.known[r.CustomerID] = at
		s.h = append(s.h, wake{at: at, id: r.CustomerID})
	}
	heap.Init(&s.h)
	s.parked = s.parked[:0] // a parked wake that is still due came back in rows
	for id := range s.fired {
		if !seen[id] {
			delete(s.fired, id) // the index has moved on: forget it
		}
	}
	// Commits that happened while the query ran are newer than its rows.
	for _, p := range s.pending {
		s.applyLocked(p.CustomerID, p.At)
	}
	s.pending = s.pending[:0]
	return nil
}

// topLocked returns the earliest valid wake in the heap, dropping stale
// entries on the way. (A wake of a customer whose previous wake is still in
// flight may be on top: fire parks it.)
func (s *Scheduler) topLocked() (time.Time, bool) {
	for len(s.h) > 0 {
		w := s.h[0]
		if at, ok := s.known[w.id]; !ok || !at.Equal(w.at) {
			heap.Pop(&s.h)
			continue
		}
		return w.at, true
	}
	return time.Time{}, false
}

// fire submits every known wake due by now, in chunks of SubmitSize, each on
// its own goroutine, up to MaxInflight.
func (s *Scheduler) fire(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if time.Now().Before(s.retryAt) {
		s.mu.Unlock()
		return
	}
	var chunks [][]wake
	var chunk []wake
	for len(s.inflight) < s.opts.MaxInflight {
		at, ok := s.topLocked()
		if !ok || at.After(now) {
			break
		}
		w := heap.Pop(&s.h).(wake)
		if _, ok := s.inflight[w.id]; ok {
			// Never two wakes of one customer at once: this one waits for
			// the one in flight to return.
			s.parked = append(s.parked, w)
			continue
		}
		delete(s.known, w.id)
		s.inflight[w.id] = &flight{at: w.at}
		chunk = append(chunk, w)
		if len(chunk) == s.opts.SubmitSize {
			chunks = append(chunks, chunk)
			chunk = nil
		}
	}
	if len(chunk) > 0 {
		chunks = append(chunks, chunk)
	}
	s.mu.Unlock()
	for _, c := range chunks {
		s.wg.Add(1)
		go s.submitChunk(ctx, c)
	}
}

func (s *Scheduler) submitChunk(ctx context.Context, ws []wake) {
	defer s.wg.Done()
	items := make([]worker.Item, len(ws))
	for i, w := range ws {
		items[i] = worker.Item{CustomerID: w.id, Input: engine.Input{Kind: engine.KindWake}}
	}
	err := s.submit(ctx, items)
	done := time.Now()
	now := s.opts.Now()
	s.mu.Lock()
	hinted := make([]bool, len(ws))
	for i, w := range ws {
		hinted[i] = s.inflight[w.id].hinted
		delete(s.inflight, w.id)
	}
	parked := s.parked[:0]
	for _, p := range s.parked {
		if _, ok := s.inflight[p.id]; ok {
			parked = append(parked, p)
		} else {
			heap.Push(&s.h, p) // still valid iff known[id] == at
		}
	}
	s.parked = parked
	if err == nil {
		s.backoff = 0
		s.retryAt = time.Time{}
		for i, w := range ws {
			if !hinted[i] {
				// Without a hint, a poll that began before the commit
				// returned still shows this wake: remember not to fire it.
				s.fired[w.id] = firedWake{at: w.at, done: done}
			}
			s.n.lag.Observe(now.Sub(w.at))
		}
		s.n.fired.Add(uint64(len(ws)))
	} else if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		s.n.errors.Add(1)
		s.log.Error("submitting wakes failed; retrying", "err", err, "wakes", len(ws))
		for _, w := range ws {
			// Unless a commit has told a newer time meanwhile, fire it again.
			if _, ok := s.known[w.id]; !ok && !w.at.After(s.watermark) {
				s.known[w.id] = w.at
				heap.Push(&s.h, w)
			}
		}
		s.retryAt = done.Add(s.backoffLocked())
	}
	s.mu.Unlock()
	s.poke()
}

// backoffLocked doubles the retry delay, from 100ms up to 10s.
func (s *Scheduler) backoffLocked() time.Duration {
	switch {
	case s.backoff == 0:
		s.backoff = 100 * time.Millisecond
	case s.backoff < 10*time.Second:
		s.backoff = min(2*s.backoff, 10*time.Second)
	}
	return s.backoff
}

// sameWake reports whether two times name the same wake: a store keeps
// times to its own precision (SQLite and PostgreSQL: microseconds, rounded
// up), so a hinted time and the index's row of it may differ below that.
func sameWake(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Microsecond && d > -time.Microsecond
}

type wake struct {
	at time.Time
	id string
}

type wakeHeap []wake

func (h wakeHeap) Len() int { return len(h) }
func (h wakeHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].id < h[j].id
}
func (h wakeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)   { *h = append(*h, x.(wake)) }
func (h *wakeHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}
