package deliver

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// memStore is an in-memory outbox behind store.Store: the four outbox
// methods with the contract's semantics (due and unleased items are claimed,
// a lease hides an item until it runs out), and a log of every settlement.
// The other methods are not used by the dispatcher and panic.
type memStore struct {
	store.Store // nil: any other method panics

	mu      sync.Mutex
	items   map[string]*memItem
	settled []settlement
	claims  int
	changed chan struct{} // signalled on every settlement
}

type memItem struct {
	send        engine.Send
	attempt     int
	next        time.Time
	leasedUntil time.Time
	state       string
	lastError   string
}

type settlement struct {
	Op      string // delivered | retry | dead
	Key     string
	Attempt int
	At      time.Time // delivered/dead: when; retry: the next attempt
	Error   string
}

func newMemStore() *memStore {
	return &memStore{items: map[string]*memItem{}, changed: make(chan struct{}, 1000)}
}

func (m *memStore) add(s engine.Send, due time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[s.Key] = &memItem{send: s, next: due, state: store.DeliveryPending}
}

func (m *memStore) ClaimOutbox(_ context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims++
	var due []*memItem
	for _, it := range m.items {
		if it.state == store.DeliveryPending && !it.next.After(now) && !it.leasedUntil.After(now) {
			due = append(due, it)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].next.Equal(due[j].next) {
			return due[i].next.Before(due[j].next)
		}
		return due[i].send.Key < due[j].send.Key
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]store.OutboxItem, len(due))
	for i, it := range due {
		it.leasedUntil = now.Add(lease)
		out[i] = store.OutboxItem{Send: it.send, Attempt: it.attempt}
	}
	return out, nil
}

func (m *memStore) settle(s settlement, f func(*memItem)) error {
	m.mu.Lock()
	it, ok := m.items[s.Key]
	if !ok {
		m.mu.Unlock()
		return store.ErrNotFound
	}
	f(it)
	it.leasedUntil = time.Time{}
	m.settled = append(m.settled, s)
	m.mu.Unlock()
	m.changed <- struct{}{}
	return nil
}

func (m *memStore) Delivered(_ context.Context, key string, at time.Time) error {
	return m.settle(settlement{Op: "delivered", Key: key, At: at}, func(it *memItem) {
		it.state = store.DeliveryDelivered
		it.attempt++
	})
}

func (m *memStore) Retry(_ context.Context, key string, attempt int, next time.Time, lastError string) error {
	return m.settle(settlement{Op: "retry", Key: key, Attempt: attempt, At: next, Error: lastError}, func(it *memItem) {
		it.attempt, it.next, it.lastError = attempt, next, lastError
	})
}

func (m *memStore) Dead(_ context.Context, key string, attempt int, at time.Time, lastError string) error {
	return m.settle(settlement{Op: "dead", Key: key, Attempt: attempt, At: at, Error: lastError}, func(it *memItem) {
		it.state, it.attempt, it.lastError = store.DeliveryDead, attempt, lastError
	})
}

func (m *memStore) settlements() []settlement {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]settlement(nil), m.settled...)
}

func (m *memStore) item(key string) memItem {
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.items[key]
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
