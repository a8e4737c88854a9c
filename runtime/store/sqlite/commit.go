package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

var (
	upsertCustomers = newBulk(
		"INSERT INTO customers(id, state, next_wake, has_active, active_sig) VALUES ", "(?,?,?,?,?)", ",",
		" ON CONFLICT(id) DO UPDATE SET state = excluded.state, next_wake = excluded.next_wake,"+
			" has_active = excluded.has_active, active_sig = excluded.active_sig")
	deleteActive = newBulk("DELETE FROM active_instances WHERE customer IN (", "?", ",", ")")
	insertActive = newBulk(
		"INSERT INTO active_instances(customer, instance, journey, version, stage) VALUES ", "(?,?,?,?,?)", ",", "")
	// A message id seen twice (two requests racing past ingest's check, or
	// twice in one batch) is kept once; it must not fail the batch.
	insertMessages = newBulk("INSERT INTO messages(id, at) VALUES ", "(?,?)", ",", " ON CONFLICT(id) DO NOTHING")
	// seq is given, not left to SQLite: the outbox rows of the same batch
	// point at their sends' history rows.
	insertHistory = newBulk(
		"INSERT INTO history(seq, customer, kind, at, journey, instance, version, from_stage, to_stage, cause, status, key, name, fate, reason, data) VALUES ",
		"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", ",", "")
	// The outbox keeps the first item under a key: a replay that decides
	// the same send again must not enqueue it twice.
	insertReceived = newBulk("INSERT INTO received(customer, at, kind, name, message_id, commit_seq) VALUES ", "(?,?,?,?,?,?)", ",", "")
	insertOutbox   = newBulk(
		"INSERT INTO outbox(key, customer, send_seq, next_attempt, created_at, cohort) VALUES ", "(?,?,?,?,?,?)", ",",
		" ON CONFLICT(key) DO NOTHING")
)

const (
	qActiveSigs = "SELECT c.id, c.active_sig FROM json_each(?) AS j CROSS JOIN customers AS c ON c.id = j.value"
	// The history's high-water mark (see the schema on AUTOINCREMENT).
	qLastSeq = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'history'), 0)"
)

// rows holds a batch flattened into statement arguments, table by table.
// It is built by the caller's goroutine (JSON encoding is most of the CPU
// a commit costs outside SQLite), so the writer does nothing but SQL.
type rows struct {
	customers, messages []any
	received            []any
	// history rows start with a seq slot and outbox rows have a send_seq
	// slot, which the writer fills in from the table's last seq (the
	// outbox row k's send is history row outboxSend[k]).
	history, outbox []any
	outboxSend      []int
	// tallies are the batch's analytics tallies, merged (tally.Merge).
	tallies []store.Tally
	// active holds the active instances of each customer's final state
	// with their signature, and ids those customers as a JSON array (one
	// parameter for the query that reads their signatures now).
	active []customerActive
	ids    []byte
}

type customerActive struct {
	id   string
	sig  int64
	rows []any // customer, instance, journey, version, stage; per active instance
}

// Commit implements store.Store. A customer that appears more than once in
// the batch ends with its last state; the history and outbox rows of every
// write are kept, in batch order.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if b == nil || len(b.Customers) == 0 {
		return s.read(func() error { return nil })
	}
	r, err := flatten(b, s.now(), !s.noTallies)
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *writer) error { return w.commit(ctx, r) })
}

// flatten turns b into rows; with tallies, the batch's analytics tallies
// too (off only in the benchmark's baseline).
func flatten(b *store.Batch, now time.Time, tallies bool) (*rows, error) {
	n := len(b.Customers)
	last := make(map[string]int, n)
	for i, cw := range b.Customers {
		if cw.State == nil {
			return nil, fmt.Errorf("sqlite: commit: write %d has no state", i)
		}
		if cw.State.ID == "" {
			return nil, fmt.Errorf("sqlite: commit: write %d: customer without an id", i)
		}
		last[cw.State.ID] = i
	}
	r := &rows{
		customers: make([]any, 0, 4*len(last)),
		active:    make([]customerActive, 0, len(last)),
	}
	ids := make([]string, 0, len(last))
	at := micros(now)
	var bt tally.Sums
	for i, cw := range b.Customers {
		c := cw.State
		if last[c.ID] == i {
			if err := r.customer(c, cw.NextWake); err != nil {
				return nil, err
			}
			ids = append(ids, c.ID)
		}
		for _, id := range cw.MessageIDs {
			if id != "" {
				r.messages = append(r.messages, id, at)
			}
		}
		for k := range cw.Results {
			if err := r.result(c.ID, &cw.Results[k], at); err != nil {
				return nil, err
			}
		}
		for _, in := range cw.Received {
			r.received = append(r.received, c.ID, micros(in.At), in.Kind, in.Name, in.MessageID, in.Seq)
		}
		if tallies {
			bt.Add(tally.Of(&b.Customers[i]))
		}
	}
	r.tallies = bt.Merged()
	var err error
	if r.ids, err = json.Marshal(ids); err != nil {
		return nil, fmt.Errorf("sqlite: commit: %w", err)
	}
	return r, nil
}

func (r *rows) customer(c *engine.Customer, nextWake time.Time) error {
	state, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: commit: customer %q: encoding the state: %w", c.ID, err)
	}
	var wake any // NULL: the customer leaves the timer index
	if !nextWake.IsZero() {
		wake = ceilMicros(nextWake)
	}
	var act []*engine.Instance
	for _, in := range c.Instances {
		if in != nil && in.Active() {
			act = append(act, in)
		}
	}
	slices.SortFunc(act, func(a, b *engine.Instance) int { return strings.Compare(a.ID, b.ID) })
	ca := customerActive{id: c.ID}
	h := fnv.New64a()
	for _, in := range act {
		ca.rows = append(ca.rows, c.ID, in.ID, in.Journey, in.Version, in.Stage)
		for _, f := range []string{in.ID, in.Journey, in.Version, in.Stage} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	ca.sig = int64(h.Sum64())
	r.active = append(r.active, ca)
	r.customers = append(r.customers, c.ID, state, wake, min(len(act), 1), ca.sig)
	return nil
}

const historyCols = 16

// hist appends a history row and returns its index.
func (r *rows) hist(customer, kind string, at time.Time, journey string, rest ...any) int {
	k := len(r.history) / historyCols
	r.history = append(r.history, nil, customer, kind, micros(at), journey)
	r.history = append(r.history, rest...)
	return k
}

func (r *rows) result(customer string, res *engine.Result, now int64) error {
	for k := range res.Transitions {
		t := &res.Transitions[k]
		var data any // NULL: no Seq to keep
		if d := store.TransitionData(t); d != nil {
			data = d
		}
		r.hist(customer, "transition", t.At, t.Journey,
			t.Instance, t.Version, t.From, t.To, t.Cause, t.Status, nil, nil, nil, nil, data)
	}
	for k := range res.Sends {
		sd := &res.Sends[k]
		data, err := json.Marshal(sd)
		if err != nil {
			return fmt.Errorf("sqlite: commit: customer %q: encoding send %q: %w", customer, sd.Key, err)
		}
		h := r.hist(customer, "send", sd.At, sd.Journey,
			sd.Instance, nil, nil, nil, nil, nil, sd.Key, sd.Name, sd.Fate, sd.Reason, data)
		if sd.Fate == engine.FateDeliver {
			// Deliverable from the moment it was decided.
			var cohort any // NULL: no cohort, no delivery tally to move
			if !sd.Entered.IsZero() {
				cohort = tally.Cohort(sd.Entered)
			}
			r.outbox = append(r.outbox, sd.Key, customer, nil, micros(sd.At), now, cohort)
			r.outboxSend = append(r.outboxSend, h)
		}
	}
	if err := store.EachEvent(res, func(e store.HistoryEvent) error {
		return r.event(customer, e.Kind, e.Journey, e.Instance, e.At, e.Value)
	}); err != nil {
		return err
	}
	for k := range res.Responses {
		rp := &res.Responses[k]
		data, err := json.Marshal(rp)
		if err != nil {
			return fmt.Errorf("sqlite: commit: customer %q: encoding a response to %q: %w", customer, rp.Metric, err)
		}
		var in any
		if rp.Instance != "" {
			in = rp.Instance
		}
		r.hist(customer, store.HistoryResponse, rp.At, rp.Journey, in, nil, nil, nil, nil, nil, nil, rp.Metric, nil, nil, data)
	}
	return nil
}

func (r *rows) event(customer, kind, journey, instance string, at time.Time, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sqlite: commit: customer %q: encoding a %s: %w", customer, kind, err)
	}
	var in any
	if instance != "" {
		in = instance
	}
	r.hist(customer, kind, at, journey, in, nil, nil, nil, nil, nil, nil, nil, nil, nil, data)
	return nil
}

// commit writes r in the writer's transaction. The order matters: the
// active signatures are read before the customers' rows are overwritten,
// and customers come before active_instances, which references them.
func (w *writer) commit(ctx context.Context, r *rows) error {
	changed, err := w.activeChanged(r)
	if err != nil {
		return fmt.Errorf("sqlite: commit: active instances: %w", err)
	}
	if _, err := w.run(upsertCustomers, r.customers); err != nil {
		return fmt.Errorf("sqlite: commit: customers: %w", err)
	}
	if w.failHook != nil {
		if err := w.failHook("customers", r); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		var del, ins []any
		for _, ca := range changed {
			del = append(del, ca.id)
			ins = append(ins, ca.rows...)
		}
		if _, err := w.run(deleteActive, del); err != nil {
			return fmt.Errorf("sqlite: commit: active instances: %w", err)
		}
		if _, err := w.run(insertActive, ins); err != nil {
			return fmt.Errorf("sqlite: commit: active instances: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := w.run(insertMessages, r.messages); err != nil {
		return fmt.Errorf("sqlite: commit: messages: %w", err)
	}
	if len(r.history) > 0 {
		var last int64
		if err := w.conn.QueryRowContext(bg, qLastSeq).Scan(&last); err != nil {
			return fmt.Errorf("sqlite: commit: history: %w", err)
		}
		for k := 0; k < len(r.history); k += historyCols {
			r.history[k] = last + 1 + int64(k/historyCols)
		}
		for k, h := range r.outboxSend {
			r.outbox[6*k+2] = last + 1 + int64(h)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := w.run(insertHistory, r.history); err != nil {
		return fmt.Errorf("sqlite: commit: history: %w", err)
	}
	if w.failHook != nil {
		if err := w.failHook("outbox", r); err != nil {
			return err
		}
	}
	if _, err := w.run(insertOutbox, r.outbox); err != nil {
		return fmt.Errorf("sqlite: commit: outbox: %w", err)
	}
	if _, err := w.run(insertReceived, r.received); err != nil {
		return fmt.Errorf("sqlite: commit: received inputs: %w", err)
	}
	if _, err := w.run(upsertTallies, tallyArgs(r.tallies)); err != nil {
		return fmt.Errorf("sqlite: commit: tallies: %w", err)
	}
	return nil
}

// activeChanged returns the customers of r whose active instances differ
// from what active_instances holds, by comparing a signature of each set
// (kept in the customer's row) with the stored one. Most inputs move no
// instance; rewriting unchanged rows anyway would dirty their pages (in the
// table and the stage index, at random places), which measured as the
// largest share of the bytes a commit wrote, and reading the rows back to
// compare them cost a tenth of the writer's time.
func (w *writer) activeChanged(r *rows) ([]*customerActive, error) {
	st, err := w.stmt(qActiveSigs)
	if err != nil {
		return nil, err
	}
	rs, err := st.QueryContext(bg, string(r.ids)) // text: a BLOB would be read as JSONB
	if err != nil {
		return nil, err
	}
	old := make(map[string]int64, len(r.active))
	for rs.Next() {
		var id string
		var sig int64
		if err := rs.Scan(&id, &sig); err != nil {
			rs.Close()
			return nil, err
		}
		old[id] = sig
	}
	if err := rs.Close(); err != nil {
		return nil, err
	}
	var changed []*customerActive
	for k := range r.active {
		ca := &r.active[k]
		sig, ok := old[ca.id]
		if ok && sig == ca.sig || !ok && len(ca.rows) == 0 {
			continue
		}
		changed = append(changed, ca)
	}
	return changed, nil
}
