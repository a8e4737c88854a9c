package sqlite

import (
	"container/heap"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// billSim runs the engine over customers of testdata/tally's journey in
// time order, the way a server would handle their inputs, and hands out
// the writes a window of time at a time: realistic records, stamped by the
// engine with what the tallies need, for the upgrade test and the
// analytics benchmark.
//
// Customer i is issued a bill at t0 + i×gap; i%3 == 1 opts out 3½ hours
// later, i%3 == 0 pays 3 hours later (both in the last stage), the others
// complete at 4 hours; i%2 == 0 rates (score i%11) 90 minutes later, while
// reminded, which it leaves for thanks and enters again; every other move
// is a timer. About ten records an instance.
type billSim struct {
	eng     *engine.Engine
	t0, now time.Time
	gap     time.Duration
	n, next int
	q       simQueue
	custs   map[int]*simCustomer
	seq     int
	Steps   int // inputs handled so far
}

type simCustomer struct {
	c       *engine.Customer
	wake    time.Time // the wake queued, zero for none
	pending int       // inputs queued
}

type simInput struct {
	at     time.Time
	i, seq int
	in     engine.Input
}

type simQueue []simInput

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(a, b int) bool {
	if !q[a].at.Equal(q[b].at) {
		return q[a].at.Before(q[b].at)
	}
	return q[a].seq < q[b].seq
}
func (q simQueue) Swap(a, b int) { q[a], q[b] = q[b], q[a] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simInput)) }
func (q *simQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func newBillSim(tb testing.TB, n int, gap time.Duration, t0 time.Time) *billSim {
	tb.Helper()
	res, diags := compiler.CompileDir("testdata/tally")
	if diags.HasErrors() || res.Program == nil {
		tb.Fatalf("compiling testdata/tally: %v", diags)
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return &billSim{eng: eng, t0: t0, now: t0, gap: gap, n: n, custs: make(map[int]*simCustomer)}
}

func (s *billSim) push(at time.Time, i int, in engine.Input) {
	s.seq++
	heap.Push(&s.q, simInput{at: at, i: i, seq: s.seq, in: in})
	s.custs[i].pending++
}

// Done reports whether every input has been handled.
func (s *billSim) Done() bool { return s.next == s.n && s.q.Len() == 0 }

// Window handles the inputs before now+d, in time order, and returns one
// write per customer that had any (its Results in order, its state after
// the last).
func (s *billSim) Window(d time.Duration) []store.CustomerWrite {
	end := s.now.Add(d)
	s.now = end
	for ; s.next < s.n; s.next++ {
		i := s.next
		at := s.t0.Add(time.Duration(i) * s.gap)
		if !at.Before(end) {
			break
		}
		id := "c" + strconv.Itoa(i)
		s.custs[i] = &simCustomer{c: &engine.Customer{ID: id}}
		ev := func(name string) engine.Input {
			return engine.Input{Kind: engine.KindEvent, Event: name, MessageID: id + "-" + name}
		}
		s.push(at, i, ev("bill_issued"))
		// People answer when they answer: each later event comes up to 20
		// minutes (to the millisecond) before or after its slot, so the
		// times in stage spread over many duration buckets as real ones do
		// (a commit's tallies are then many rows, not a few).
		jitter := time.Duration((i*7919)%2_400_000-1_200_000) * time.Millisecond
		switch i % 3 {
		case 1:
			s.push(at.Add(210*time.Minute+jitter), i, ev("opted_out"))
		case 0:
			s.push(at.Add(3*time.Hour+jitter), i, ev("paid"))
		}
		if i%2 == 0 {
			in := ev("rated")
			in.Properties = map[string]any{"score": float64(i % 11)}
			s.push(at.Add(90*time.Minute+jitter), i, in)
		}
	}
	var order []int
	writes := make(map[int]*store.CustomerWrite)
	for s.q.Len() > 0 && s.q[0].at.Before(end) {
		x := heap.Pop(&s.q).(simInput)
		sc := s.custs[x.i]
		sc.pending--
		if x.in.Kind == engine.KindWake {
			if !x.at.Equal(sc.wake) {
				continue // superseded by a later step
			}
			sc.wake = time.Time{}
		}
		w := writes[x.i]
		if w == nil {
			w = &store.CustomerWrite{State: sc.c}
			writes[x.i] = w
			order = append(order, x.i)
		}
		res := s.eng.Step(sc.c, x.in, x.at)
		s.Steps++
		w.Results = append(w.Results, res)
		if x.in.MessageID != "" {
			w.MessageIDs = append(w.MessageIDs, x.in.MessageID)
		}
		if nw := sc.c.NextWake(); !nw.IsZero() && !nw.Equal(sc.wake) {
			sc.wake = nw
			s.push(nw, x.i, engine.Input{Kind: engine.KindWake})
		}
	}
	out := make([]store.CustomerWrite, 0, len(order))
	for _, i := range order {
		w := writes[i]
		w.NextWake = w.State.NextWake()
		out = append(out, *w)
		if sc := s.custs[i]; sc.pending == 0 {
			delete(s.custs, i)
		}
	}
	return out
}

// Fork returns a simulation that goes on from where s is with the states
// load returns (a store's, read back) instead of s's own: two stores
// then each take the writes of the engine run on their own states.
func (s *billSim) Fork(tb testing.TB, load func(id string) (*engine.Customer, error)) *billSim {
	tb.Helper()
	f := *s
	f.q = slices.Clone(s.q)
	f.custs = make(map[int]*simCustomer, len(s.custs))
	for i, sc := range s.custs {
		c, err := load(sc.c.ID)
		if err != nil {
			tb.Fatalf("loading %s: %v", sc.c.ID, err)
		}
		cp := *sc
		cp.c = c
		f.custs[i] = &cp
	}
	return &f
}
