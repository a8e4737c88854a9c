package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Pool is how many customers the benchmark events are spread over.
const Pool = 20000

// Events hands out the writes of a store benchmark, the same for every
// store so their figures compare: first every customer of the pool once, in
// a random order, then customers drawn at random, each with its next input;
// the clock moves a millisecond per event. Safe for concurrent use.
type Events struct {
	mu   sync.Mutex
	rng  *rand.Rand
	perm []int
	i    int
	n    []int
}

// NewEvents returns the events from the start, seeded the same every time.
func NewEvents() *Events {
	rng := rand.New(rand.NewPCG(1, 2))
	return &Events{rng: rng, perm: rng.Perm(Pool), n: make([]int, Pool)}
}

// SkipPool moves past the first pass over the pool, for a store that did
// not write it (a floor measurement).
func (e *Events) SkipPool() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.i = max(e.i, Pool)
}

// Batch returns the next size events as one store batch.
func (e *Events) Batch(size int) *store.Batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	bt := &store.Batch{Customers: make([]store.CustomerWrite, size)}
	for k := range bt.Customers {
		c := e.rng.IntN(Pool)
		if e.i < Pool {
			c = e.perm[e.i]
		}
		e.n[c]++
		bt.Customers[k] = Write(fmt.Sprintf("customer-%07d", c), e.n[c], T0.Add(time.Duration(e.i)*time.Millisecond))
		e.i++
	}
	return bt
}
