package pebble

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// History record kinds: the first byte of a value under h/, followed by
// the engine's JSON of the record.
const (
	kindTransition = 't'
	kindSend       = 's'
	kindRefusal    = 'r'
	kindError      = 'e'
	kindEmit       = 'm'
	kindResponse   = 'R' // a metric response (schema 5)
)

// prepared is a batch encoded by the caller's goroutine (JSON encoding is
// most of the CPU a commit costs), so the writer only reads a few keys and
// stages writes.
type prepared struct {
	custs []custWrite // one per customer: its last state in the batch
	msgs  []string    // distinct message ids
	hist  []histRec   // in batch order
	// tallies are the batch's analytics tallies (tally.Merge of every
	// write's tally.Of): each key once, added to the stored ones.
	tallies []store.Tally
	at      int64 // commit time (messages, outbox creation)
	// histAt is the time of the latest history record (unix microseconds,
	// rounded up): the batch's ht/ entry is filed under it.
	histAt int64
}

type custWrite struct {
	id  string
	rec custRec
}

type histRec struct {
	customer string
	val      []byte
	outbox   string // a send to deliver: its key, first occurrence in the batch
	outAt    int64  // and when it was decided (its first attempt is due then)
	failed   bool   // a send that failed: indexed under fs/ by failAt
	failAt   int64
	// A transition, send or metric response: indexed under jr/ by its
	// journey ("" for a response in no journey: its tallies are kept too).
	journal bool
	journey string
	// The outbox item's send: what its settlement moves (outRec).
	outJourney, outName string
	outCohort           int64
	// outHasCohort: the send has its instance's entry time. One decided
	// without (tally.Of counted no pending for it) moves no tally.
	outHasCohort bool
}

// Commit implements store.Store. A customer that appears more than once in
// the batch ends with its last state; the history and outbox records of
// every write are kept, in batch order.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if b == nil || len(b.Customers) == 0 {
		return s.read(func() error { return nil })
	}
	p, err := prepare(b, s.now())
	if err != nil {
		return err
	}
	return s.write(ctx, func(t *tx) error { return t.commit(p) })
}

func prepare(b *store.Batch, now time.Time) (*prepared, error) {
	last := make(map[string]int, len(b.Customers))
	for i, cw := range b.Customers {
		if cw.State == nil {
			return nil, fmt.Errorf("pebble: commit: write %d has no state", i)
		}
		if cw.State.ID == "" {
			return nil, fmt.Errorf("pebble: commit: write %d: customer without an id", i)
		}
		last[cw.State.ID] = i
	}
	p := &prepared{custs: make([]custWrite, 0, len(last)), at: micros(now)}
	seenMsg := make(map[string]bool)
	seenOut := make(map[string]bool)
	var tallies []store.Tally
	for i, cw := range b.Customers {
		c := cw.State
		tallies = append(tallies, tally.Of(&b.Customers[i])...)
		if last[c.ID] == i {
			rec, err := customerRec(c, cw.NextWake)
			if err != nil {
				return nil, err
			}
			p.custs = append(p.custs, custWrite{id: c.ID, rec: rec})
		}
		for _, id := range cw.MessageIDs {
			if id != "" && !seenMsg[id] {
				seenMsg[id] = true
				p.msgs = append(p.msgs, id)
			}
		}
		for k := range cw.Results {
			if err := p.result(c.ID, &cw.Results[k], seenOut); err != nil {
				return nil, err
			}
		}
		for k := range cw.Received {
			if err := p.record(c.ID, kindInput, cw.Received[k].At, &cw.Received[k]); err != nil {
				return nil, err
			}
		}
	}
	p.tallies = tally.Merge(tallies)
	return p, nil
}

func customerRec(c *engine.Customer, nextWake time.Time) (custRec, error) {
	state, err := json.Marshal(c)
	if err != nil {
		return custRec{}, fmt.Errorf("pebble: commit: customer %q: encoding the state: %w", c.ID, err)
	}
	r := custRec{state: state}
	if !nextWake.IsZero() {
		r.hasWake, r.wake = true, ceilMicros(nextWake)
	}
	for _, in := range c.Instances {
		if in != nil && in.Active() {
			r.active = append(r.active, activeInst{id: in.ID, journey: in.Journey, version: in.Version, stage: in.Stage})
		}
	}
	slices.SortFunc(r.active, func(a, b activeInst) int { return strings.Compare(a.id, b.id) })
	return r, nil
}

func (p *prepared) result(customer string, res *engine.Result, seenOut map[string]bool) error {
	for k := range res.Transitions {
		if err := p.record(customer, kindTransition, res.Transitions[k].At, &res.Transitions[k]); err != nil {
			return err
		}
		p.journal(res.Transitions[k].Journey)
	}
	for k := range res.Sends {
		sd := &res.Sends[k]
		if err := p.record(customer, kindSend, sd.At, sd); err != nil {
			return err
		}
		p.journal(sd.Journey)
		if sd.Fate == engine.FateFailed {
			h := &p.hist[len(p.hist)-1]
			h.failed, h.failAt = true, micros(sd.At)
		}
		// The first item under a key stays: a replay never enqueues twice.
		if sd.Fate == engine.FateDeliver && !seenOut[sd.Key] {
			seenOut[sd.Key] = true
			h := &p.hist[len(p.hist)-1]
			h.outbox, h.outAt = sd.Key, micros(sd.At)
			h.outJourney, h.outName = sd.Journey, sd.Name
			if !sd.Entered.IsZero() {
				h.outHasCohort, h.outCohort = true, tally.Cohort(sd.Entered)
			}
		}
	}
	for k := range res.Responses {
		if err := p.record(customer, kindResponse, res.Responses[k].At, &res.Responses[k]); err != nil {
			return err
		}
		p.journal(res.Responses[k].Journey)
	}
	for k := range res.Refusals {
		if err := p.record(customer, kindRefusal, res.Refusals[k].At, &res.Refusals[k]); err != nil {
			return err
		}
	}
	for k := range res.Errors {
		if err := p.record(customer, kindError, res.Errors[k].At, &res.Errors[k]); err != nil {
			return err
		}
	}
	for k := range res.Emitted {
		if err := p.record(customer, kindEmit, res.Emitted[k].At, &res.Emitted[k]); err != nil {
			return err
		}
	}
	return nil
}

// journal marks the last record as one of journey's (jr/).
func (p *prepared) journal(journey string) {
	h := &p.hist[len(p.hist)-1]
	h.journal, h.journey = true, journey
}

func (p *prepared) record(customer string, kind byte, at time.Time, v any) error {
	if len(p.hist) == 0 || ceilMicros(at) > p.histAt {
		p.histAt = ceilMicros(at)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pebble: commit: customer %q: encoding a history record: %w", customer, err)
	}
	val := make([]byte, 0, 1+len(data))
	val = append(append(val, kind), data...)
	p.hist = append(p.hist, histRec{customer: customer, val: val})
	return nil
}

// commit stages p: for each customer, its record and the index entries
// that changed (the previous record says where it was filed); the message
// ids; the history; and an outbox item for each send to deliver whose key
// is new.
func (t *tx) commit(p *prepared) error {
	for _, c := range p.custs {
		key := customerKey(c.id)
		v, found, err := t.get(key)
		if err != nil {
			return fmt.Errorf("pebble: commit: customer %q: %w", c.id, err)
		}
		var old custRec
		if found {
			if old, err = decodeCust(v, true); err != nil {
				return fmt.Errorf("pebble: commit: customer %q: %w", c.id, err)
			}
		}
		t.set(key, c.rec.encode())
		if old.hasWake != c.rec.hasWake || old.wake != c.rec.wake {
			if old.hasWake {
				t.del(wakeKey(old.wake, c.id))
			}
			if c.rec.hasWake {
				t.set(wakeKey(c.rec.wake, c.id), nil)
			}
		}
		if !sameActive(old.active, c.rec.active) {
			for _, a := range old.active {
				t.del(activeKey(a, c.id))
			}
			for _, a := range c.rec.active {
				t.set(activeKey(a, c.id), nil)
			}
			switch {
			case len(old.active) == 0:
				t.set(actCustKey(c.id), nil)
			case len(c.rec.active) == 0:
				t.del(actCustKey(c.id))
			}
		}
	}
	if t.s.failHook != nil {
		if err := t.s.failHook(p); err != nil {
			return err
		}
	}
	at := binary.AppendVarint(nil, p.at)
	for _, id := range p.msgs {
		// Written blind (no read): an id seen again is filed again under
		// the later time, and PruneMessages forgets an id only at the time
		// m/<id> holds.
		t.set(messageKey(id), at)
		t.set(msgTimeKey(p.at, id), nil)
	}
	index := make(histIndex, 0, len(p.hist))
	for _, h := range p.hist {
		seq := t.nextSeq()
		t.set(historyKey(h.customer, seq), h.val)
		index = append(index, histRef{customer: h.customer, seq: seq, outbox: h.outbox})
		if h.failed {
			t.set(failedKey(h.failAt, seq), []byte(h.customer))
		}
		if h.journal {
			t.set(journeyKey(h.journey, seq), []byte(h.customer))
		}
		if h.outbox == "" {
			continue
		}
		key := outboxKey(h.outbox)
		_, found, err := t.get(key)
		if err != nil {
			return fmt.Errorf("pebble: commit: outbox %q: %w", h.outbox, err)
		}
		if found {
			continue
		}
		r := outRec{state: statePending, next: h.outAt, customer: h.customer, seq: seq,
			journey: h.outJourney, name: h.outName, hasCohort: h.outHasCohort, cohort: h.outCohort}
		t.set(key, r.encode())
		t.set(outDueKey(h.outAt, h.outbox), nil)
	}
	if len(index) > 0 {
		// Filed under the latest record's time: once the retention passes
		// it, every record of the commit is older (PruneHistory).
		t.set(histTimeKey(p.histAt, index[0].seq), index.encode())
	}
	return t.addTallies(p.tallies)
}
