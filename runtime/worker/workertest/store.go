// Package workertest provides an in-memory store.Store for the tests and
// benchmarks of the worker and the scheduler: small, observable, and able to
// fail or slow down on demand. It is not a production store (no retention,
// no outbox leases worth the name); runtime/store/sqlite is.
//
// Like a real store it keeps customer states encoded (JSON), so a test
// cannot pass by sharing pointers with the worker, and it keeps the timer
// index in a heap, so Due over a million pending wakes costs what it costs
// in an indexed table: the earliest entries, not a scan.
package workertest

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Store is an in-memory store.Store. The zero value is not usable: call
// NewStore.
type Store struct {
	mu        sync.Mutex
	customers map[string][]byte // JSON of engine.Customer
	wake      map[string]time.Time
	idx       wakeHeap // may hold stale entries: valid iff wake[id] == at
	seen      map[string]bool
	messages  map[string][]string // per customer, in commit order
	results   map[string][]engine.Result
	outbox    map[string]store.OutboxItem
	programs  []store.Program
	commits   []int // customers per commit

	// BeforeCommit, when set, runs at the start of every Commit (outside
	// the lock); a non-nil error fails the Commit with nothing written.
	BeforeCommit func(b *store.Batch) error
	// LoadErr, when set, is asked before every Customer lookup; a non-nil
	// error is returned instead of the state.
	LoadErr func(id string) error
	// CommitDelay is slept in every Commit before writing: a disk's fsync.
	CommitDelay time.Duration
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		customers: map[string][]byte{},
		wake:      map[string]time.Time{},
		seen:      map[string]bool{},
		messages:  map[string][]string{},
		results:   map[string][]engine.Result{},
		outbox:    map[string]store.OutboxItem{},
	}
}

var _ store.Store = (*Store)(nil)

// Commit writes b atomically.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if s.BeforeCommit != nil {
		if err := s.BeforeCommit(b); err != nil {
			return err
		}
	}
	if s.CommitDelay > 0 {
		time.Sleep(s.CommitDelay)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Encode outside the lock, as a real store encodes before its write
	// transaction; fail before changing anything.
	enc := make([][]byte, len(b.Customers))
	for i, cw := range b.Customers {
		if cw.State == nil || cw.State.ID == "" {
			return errors.New("workertest: customer write without a state")
		}
		j, err := json.Marshal(cw.State)
		if err != nil {
			return err
		}
		enc[i] = j
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, cw := range b.Customers {
		id := cw.State.ID
		s.customers[id] = enc[i]
		s.setWakeLocked(id, cw.NextWake)
		for _, m := range cw.MessageIDs {
			s.seen[m] = true
		}
		s.messages[id] = append(s.messages[id], cw.MessageIDs...)
		s.results[id] = append(s.results[id], cw.Results...)
		for _, r := range cw.Results {
			for _, snd := range r.Sends {
				if snd.Fate == engine.FateDeliver {
					if _, ok := s.outbox[snd.Key]; !ok {
						s.outbox[snd.Key] = store.OutboxItem{Send: snd}
					}
				}
			}
		}
	}
	s.commits = append(s.commits, len(b.Customers))
	return nil
}

func (s *Store) setWakeLocked(id string, at time.Time) {
	if at.IsZero() {
		delete(s.wake, id)
	} else {
		at = at.UTC()
		if old, ok := s.wake[id]; ok && old.Equal(at) {
			return
		}
		s.wake[id] = at
		heap.Push(&s.idx, wakeEntry{at: at, id: id})
	}
	// Stale heap entries are skipped lazily; rebuild when they dominate.
	if len(s.idx) > 2*len(s.wake)+1024 {
		s.idx = s.idx[:0]
		for id, at := range s.wake {
			s.idx = append(s.idx, wakeEntry{at: at, id: id})
		}
		heap.Init(&s.idx)
	}
}

// Customer returns a customer's state, or store.ErrNotFound.
func (s *Store) Customer(ctx context.Context, id string) (*engine.Customer, error) {
	if s.LoadErr != nil {
		if err := s.LoadErr(id); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	j, ok := s.customers[id]
	s.mu.Unlock()
	if !ok {
		return nil, store.ErrNotFound
	}
	var c engine.Customer
	if err := json.Unmarshal(j, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// SeenMessages reports which ids were committed.
func (s *Store) SeenMessages(ctx context.Context, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		if s.seen[id] {
			out[id] = true
		}
	}
	return out, nil
}

// Due lists up to limit customers whose wake is at or before until, earliest
// first (ties by id).
func (s *Store) Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Wake
	var popped []wakeEntry
	for len(s.idx) > 0 && len(out) < limit {
		e := s.idx[0]
		if e.at.After(until) {
			break
		}
		heap.Pop(&s.idx)
		if at, ok := s.wake[e.id]; !ok || !at.Equal(e.at) {
			continue // stale: dropped for good
		}
		if n := len(popped); n > 0 && popped[n-1].id == e.id && popped[n-1].at.Equal(e.at) {
			continue // a duplicate entry of the same wake
		}
		popped = append(popped, e)
		out = append(out, store.Wake{CustomerID: e.id, At: e.at})
	}
	for _, e := range popped {
		heap.Push(&s.idx, e)
	}
	return out, nil
}

// ActiveCustomers lists ids of customers with an active instance after
// `after`, in id order.
func (s *Store) ActiveCustomers(ctx context.Context, after string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, j := range s.customers {
		if id <= after {
			continue
		}
		var c engine.Customer
		if err := json.Unmarshal(j, &c); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(c.Instances, (*engine.Instance).Active) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// ClaimOutbox returns nothing: the fake has no dispatcher.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	return nil, nil
}

// Delivered, Retry and Dead forget the item.
func (s *Store) Delivered(ctx context.Context, key string, at time.Time) error {
	return s.settle(key)
}

func (s *Store) Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error {
	return nil
}

func (s *Store) Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error {
	return s.settle(key)
}

func (s *Store) settle(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.outbox[key]; !ok {
		return store.ErrNotFound
	}
	delete(s.outbox, key)
	return nil
}

// Transitions returns a customer's transitions in commit order.
func (s *Store) Transitions(ctx context.Context, customerID string) ([]engine.Transition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.Transition
	for _, r := range s.results[customerID] {
		out = append(out, r.Transitions...)
	}
	return out, nil
}

// Sends returns a customer's send decisions in commit order.
func (s *Store) Sends(ctx context.Context, customerID string) ([]store.SendRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.SendRecord
	for _, r := range s.results[customerID] {
		for _, snd := range r.Sends {
			out = append(out, store.SendRecord{Send: snd})
		}
	}
	return out, nil
}

// SaveProgram keeps p (once per hash).
func (s *Store) SaveProgram(ctx context.Context, p store.Program) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.programs {
		if q.Hash == p.Hash {
			return nil
		}
	}
	s.programs = append([]store.Program{p}, s.programs...)
	return nil
}

// Programs lists saved programs, newest first.
func (s *Store) Programs(ctx context.Context) ([]store.Program, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.programs), nil
}

// StageCounts counts active instances per stage.
func (s *Store) StageCounts(ctx context.Context) ([]store.StageCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[store.StageCount]int{}
	for _, j := range s.customers {
		var c engine.Customer
		if err := json.Unmarshal(j, &c); err != nil {
			return nil, err
		}
		for _, in := range c.Instances {
			if in.Active() {
				counts[store.StageCount{Journey: in.Journey, Version: in.Version, Stage: in.Stage}]++
			}
		}
	}
	var out []store.StageCount
	for k, n := range counts {
		k.Active = n
		out = append(out, k)
	}
	return out, nil
}

// Close does nothing.
func (s *Store) Close() error { return nil }

// --- for tests ---

// Put writes one customer state directly, as a commit of it alone would.
func (s *Store) Put(c *engine.Customer) {
	j, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customers[c.ID] = j
	s.setWakeLocked(c.ID, c.NextWake())
}

// SetWake puts a customer in the timer index without a state: how a
// benchmark fills the index with a million pending wakes cheaply.
func (s *Store) SetWake(id string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setWakeLocked(id, at)
}

// Wake returns a customer's entry in the timer index (zero: none).
func (s *Store) Wake(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wake[id]
}

// Pending is the number of customers in the timer index.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.wake)
}

// Messages returns the message ids committed for a customer, in order.
// The worker commits them as store.DedupKey keys.
func (s *Store) Messages(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages[id])
}

// Results returns the Step results committed for a customer, in order.
func (s *Store) Results(id string) []engine.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.results[id])
}

// Commits returns the number of customer writes in each commit so far.
func (s *Store) Commits() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commits)
}

// Outbox returns the keys of the sends waiting for delivery.
func (s *Store) Outbox() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.outbox {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type wakeEntry struct {
	at time.Time
	id string
}

type wakeHeap []wakeEntry

func (h wakeHeap) Len() int { return len(h) }
func (h wakeHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].id < h[j].id
}
func (h wakeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *wakeHeap) Push(x any)   { *h = append(*h, x.(wakeEntry)) }
func (h *wakeHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
