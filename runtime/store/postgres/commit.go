package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// A commit is one pgx.Batch, then COPYs for the message ids, the outbox
// and the history: the batch's rows go as arrays, one parameter per
// column, unnested by the server, so a commit of any size is a fixed
// number of round trips. The statements (the INSERTs of messages and
// outbox run only when a COPY met a row already there: insertUnique):
const (
	// Active instances of the customers whose active set changed (their
	// signature differs from the stored one) are deleted, then the new
	// sets inserted where no customer row holds the new signature yet;
	// both before the customers' rows are overwritten. (Two writers of one
	// customer at once, which shard ownership rules out, would meet on the
	// primary key: the later one updates the row.)
	qDeleteActive = `DELETE FROM active_instances AS a
		USING unnest($1::text[], $2::bigint[]) AS n(id, sig), customers AS c
		WHERE a.customer = n.id AND c.id = n.id AND c.active_sig <> n.sig`
	qInsertActive = `INSERT INTO active_instances(customer, shard, instance, journey, version, stage)
		SELECT r.customer, r.shard, r.instance, r.journey, r.version, r.stage
		FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			AS r(customer, shard, instance, journey, version, stage, sig)
		WHERE NOT EXISTS (SELECT 1 FROM customers AS c WHERE c.id = r.customer AND c.active_sig = r.sig)
		ON CONFLICT (customer, instance) DO UPDATE SET journey = excluded.journey, version = excluded.version, stage = excluded.stage`
	qUpsertCustomers = `INSERT INTO customers(id, shard, state, next_wake, active_sig)
		SELECT * FROM unnest($1::text[], $2::integer[], $3::bytea[], $4::timestamptz[], $5::bigint[])
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, next_wake = excluded.next_wake, active_sig = excluded.active_sig`
	// A message id seen twice (two requests racing past ingest's check,
	// or twice in one batch) is kept once.
	qInsertMessages = `INSERT INTO messages(id, at) SELECT u.id, $2 FROM unnest($1::text[]) AS u(id) ON CONFLICT (id) DO NOTHING`
	qDeleteInbox    = `DELETE FROM inbox WHERE message_id = ANY($1)`
	// The outbox keeps the first item under a key: a replay that decides
	// the same send again must not enqueue it twice.
	qInsertOutbox = `INSERT INTO outbox(key, customer, shard, send, next_attempt, created_at, journey, name, cohort)
		SELECT u.key, u.customer, u.shard, u.send, u.at, $6, u.journey, u.name, u.cohort
		FROM unnest($1::text[], $2::text[], $3::integer[], $4::bytea[], $5::timestamptz[], $7::text[], $8::text[], $9::bigint[])
			WITH ORDINALITY AS u(key, customer, shard, send, at, journey, name, cohort, ord)
		ORDER BY u.ord
		ON CONFLICT (key) DO NOTHING`
	// The tallies of a group's commits (tally.Merge of each shard's, so no
	// key twice), added to the stored ones in (shard, key) order: each
	// shard's rows are its owner's alone, and one node's commits run one
	// at a time.
	qAddTallies = `INSERT INTO tallies AS t(shard, journey, cohort, kind, a, b, n, sum)
		SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::float8[])
		ON CONFLICT (journey, cohort, kind, a, b, shard) DO UPDATE SET n = t.n + excluded.n, sum = t.sum + excluded.sum`
)

// rows is a batch flattened into column arrays, built in the caller's
// goroutine (JSON encoding is most of the CPU a commit costs here).
type rows struct {
	shards []int
	// tokens are the batch's store.Batch.Tokens by shard: the epoch its
	// customers' states were read under (staleToken when they differ).
	tokens map[int]int64

	cID     []string
	cShard  []int32
	cState  [][]byte
	cWake   []*time.Time
	cSig    []int64
	aCust   []string
	aShard  []int32
	aInst   []string
	aJour   []string
	aVer    []string
	aStage  []string
	aSig    []int64
	msgs    []string
	hist    histCols
	oKey    []string
	oCust   []string
	oShard  []int32
	oSend   [][]byte
	oAt     []time.Time
	oJour   []string
	oName   []string
	oCohort []*int64
	tallies map[int][]store.Tally // by shard (one of the commit's), each merged
	written time.Time
}

// tallyCols are tally rows as column arrays, for qAddTallies.
type tallyCols struct {
	shard               []int32
	journey, kind, a, b []string
	cohort, n           []int64
	sum                 []float64
}

func (c *tallyCols) add(shard int, ts []store.Tally) {
	for _, t := range ts {
		c.shard = append(c.shard, int32(shard))
		c.journey = append(c.journey, t.Journey)
		c.cohort = append(c.cohort, t.Cohort)
		c.kind = append(c.kind, t.Kind)
		c.a = append(c.a, t.A)
		c.b = append(c.b, t.B)
		c.n = append(c.n, t.N)
		c.sum = append(c.sum, t.Sum)
	}
}

func (c *tallyCols) args() []any {
	return []any{c.shard, c.journey, c.cohort, c.kind, c.a, c.b, c.n, c.sum}
}

type histCols struct {
	customer, kind                                                 []string
	at                                                             []time.Time
	journey, instance, version, from, to, cause, status, key, name []string
	fate, reason                                                   []string
	data                                                           [][]byte
}

func (h *histCols) add(customer, kind string, at time.Time, journey, instance, version, from, to, cause, status, key, name, fate, reason string, data []byte) {
	h.customer = append(h.customer, customer)
	h.kind = append(h.kind, kind)
	h.at = append(h.at, at)
	h.journey = append(h.journey, journey)
	h.instance = append(h.instance, instance)
	h.version = append(h.version, version)
	h.from = append(h.from, from)
	h.to = append(h.to, to)
	h.cause = append(h.cause, cause)
	h.status = append(h.status, status)
	h.key = append(h.key, key)
	h.name = append(h.name, name)
	h.fate = append(h.fate, fate)
	h.reason = append(h.reason, reason)
	h.data = append(h.data, data)
}

// Commit implements store.Store: Stage, then CommitStaged. A customer that
// appears more than once in the batch ends with its last state; the
// history and outbox rows of every write are kept, in batch order. With a
// fence set (SetFence) the commit is refused, whole, with a *FencedError
// when one of its customers' shards is no longer the node's, or (Stale)
// when a state was read under an epoch of its shard other than the one
// the node owns it at now (store.Batch.Tokens).
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	st, err := s.Stage(b)
	if err != nil {
		return err
	}
	return s.CommitStaged(ctx, st)
}

// staged is a batch Stage has encoded: its statements' parameters and the
// COPY data of its message ids, outbox items and history in the binary
// wire format, the shards it writes to (the fence is encoded at commit
// time: epochs move), the epochs its states were read under, and its
// tallies.
type staged struct {
	b      *store.Batch
	shards []int
	stmts  []wireStmt
	// batch is stmts as the messages to send, built by Stage (copying the
	// parameters into it is no small part of a large commit's encoding)
	// and taken by the first attempt to commit.
	batch   *pgconn.Batch
	history []byte // nil without history rows
	tallies map[int][]store.Tally
	// messages and outbox are the COPY data of the message ids and the
	// outbox items (nil without rows): COPY takes half the server's time
	// of the INSERTs that skip rows already there, which only a replay
	// meets. A COPY that meets one fails the commit, and the next attempt
	// (skipping set) runs those INSERTs, encoded then from r.
	messages, outbox []byte
	skipping         bool
	r                *rows
}

func (st *staged) Batch() *store.Batch { return st.b }

// Stage implements store.Stager: everything a commit computes before it
// writes (the JSON of states and records, the tallies, every parameter
// and the history's COPY data), done by the caller's goroutine.
func (s *Store) Stage(b *store.Batch) (store.Staged, error) {
	if b == nil || len(b.Customers) == 0 {
		return &staged{b: b}, nil
	}
	r, err := s.flatten(b)
	if err != nil {
		return nil, err
	}
	st, err := s.stage(r)
	if err != nil {
		return nil, err
	}
	st.b = b
	return st, nil
}

// stage encodes r.
func (s *Store) stage(r *rows) (*staged, error) {
	st := &staged{shards: r.shards, tallies: r.tallies}
	add := func(q string, args ...any) error {
		w, err := s.types.encode(q, args...)
		if err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		st.stmts = append(st.stmts, w)
		return nil
	}
	if err := add(qDeleteActive, r.cID, r.cSig); err != nil {
		return nil, err
	}
	if err := add(qInsertActive, r.aCust, r.aShard, r.aInst, r.aJour, r.aVer, r.aStage, r.aSig); err != nil {
		return nil, err
	}
	if err := add(qUpsertCustomers, r.cID, r.cShard, r.cState, r.cWake, r.cSig); err != nil {
		return nil, err
	}
	if len(r.msgs) > 0 {
		// The inputs applied leave the inbox in the commit that holds
		// their effects: an input is applied exactly once.
		if err := add(qDeleteInbox, r.msgs); err != nil {
			return nil, err
		}
	}
	// What a retry's skipping INSERTs and the token check need, not the
	// states: the staged batch may wait while another commits.
	st.r = &rows{msgs: r.msgs, written: r.written, tokens: r.tokens,
		oKey: r.oKey, oCust: r.oCust, oShard: r.oShard, oSend: r.oSend, oAt: r.oAt, oJour: r.oJour, oName: r.oName, oCohort: r.oCohort}
	st.messages = r.messagesCopy()
	st.outbox = r.outboxCopy()
	st.history = r.hist.copyData()
	st.batch = st.takeBatch()
	return st, nil
}

// CommitStaged implements store.Stager.
func (s *Store) CommitStaged(ctx context.Context, x store.Staged) error {
	st, ok := x.(*staged)
	if !ok {
		return fmt.Errorf("postgres: commit: a batch staged by another store (%T)", x)
	}
	if st.b == nil || len(st.b.Customers) == 0 {
		return s.read(func() error { return nil })
	}
	// Checked again in the transaction: refused here, a stale commit does
	// not roll back the others of its group.
	if err := s.checkTokens(st.r); err != nil {
		return err
	}
	if err := s.writeStaged(ctx, func(w *wtx) error { return s.commit(w, st) }); err != nil {
		return err
	}
	s.wrote()
	return nil
}

func (s *Store) flatten(b *store.Batch) (*rows, error) {
	last := make(map[string]int, len(b.Customers))
	for i, cw := range b.Customers {
		if cw.State == nil {
			return nil, fmt.Errorf("postgres: commit: write %d has no state", i)
		}
		if cw.State.ID == "" {
			return nil, fmt.Errorf("postgres: commit: write %d: customer without an id", i)
		}
		last[cw.State.ID] = i
	}
	r := &rows{written: s.now()}
	var tallies tally.Sums
	for i, cw := range b.Customers {
		c := cw.State
		sh := s.ShardOf(c.ID)
		tallies.Add(tally.Of(&b.Customers[i]))
		if last[c.ID] == i {
			if err := r.customer(c, cw.NextWake, sh); err != nil {
				return nil, err
			}
			if tok, ok := b.Tokens[c.ID]; ok {
				r.token(sh, tok)
			}
		}
		for _, id := range cw.MessageIDs {
			if id != "" {
				r.msgs = append(r.msgs, id)
			}
		}
		for k := range cw.Results {
			if err := r.result(c.ID, sh, &cw.Results[k]); err != nil {
				return nil, err
			}
		}
		if err := r.received(c.ID, cw.Received); err != nil {
			return nil, err
		}
	}
	// All under one shard of the commit, its lowest: its owner is the
	// only writer of that shard's rows (the commit is fenced on it), and
	// a commit adds a few rows per journey, not a few per shard it
	// touches (500 wakes over 32 shards upserted ~490 rows, now ~15).
	if ts := tallies.Merged(); len(ts) > 0 {
		r.tallies = map[int][]store.Tally{slices.Min(r.shards): ts}
	}
	return r, nil
}

// staleToken marks a shard whose customers were read under different
// tokens: no epoch is both.
const staleToken = store.TokenNotOwned

// token notes that a customer of shard was read under tok.
func (r *rows) token(shard int, tok int64) {
	if r.tokens == nil {
		r.tokens = map[int]int64{}
	}
	if was, ok := r.tokens[shard]; ok && was != tok {
		tok = staleToken
	}
	r.tokens[shard] = tok
}

func (r *rows) customer(c *engine.Customer, nextWake time.Time, shard int) error {
	state, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("postgres: commit: customer %q: encoding the state: %w", c.ID, err)
	}
	var wake *time.Time // NULL: the customer leaves the timer index
	if !nextWake.IsZero() {
		w := ceilMicros(nextWake)
		wake = &w
	}
	var act []*engine.Instance
	for _, in := range c.Instances {
		if in != nil && in.Active() {
			act = append(act, in)
		}
	}
	slices.SortFunc(act, func(a, b *engine.Instance) int { return strings.Compare(a.ID, b.ID) })
	h := fnv.New64a()
	for _, in := range act {
		for _, f := range []string{in.ID, in.Journey, in.Version, in.Stage} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
	}
	sig := int64(h.Sum64())
	for _, in := range act {
		r.aCust = append(r.aCust, c.ID)
		r.aShard = append(r.aShard, int32(shard))
		r.aInst = append(r.aInst, in.ID)
		r.aJour = append(r.aJour, in.Journey)
		r.aVer = append(r.aVer, in.Version)
		r.aStage = append(r.aStage, in.Stage)
		r.aSig = append(r.aSig, sig)
	}
	r.shards = append(r.shards, shard)
	r.cID = append(r.cID, c.ID)
	r.cShard = append(r.cShard, int32(shard))
	r.cState = append(r.cState, state)
	r.cWake = append(r.cWake, wake)
	r.cSig = append(r.cSig, sig)
	return nil
}

func (r *rows) result(customer string, shard int, res *engine.Result) error {
	for k := range res.Transitions {
		t := &res.Transitions[k]
		r.hist.add(customer, "transition", t.At, t.Journey, t.Instance, t.Version, t.From, t.To, t.Cause, t.Status, "", "", "", "", store.TransitionData(t))
	}
	for k := range res.Sends {
		sd := &res.Sends[k]
		data, err := json.Marshal(sd)
		if err != nil {
			return fmt.Errorf("postgres: commit: customer %q: encoding send %q: %w", customer, sd.Key, err)
		}
		r.hist.add(customer, "send", sd.At, sd.Journey, sd.Instance, "", "", "", "", "", sd.Key, sd.Name, sd.Fate, sd.Reason, data)
		if sd.Fate == engine.FateDeliver {
			// Deliverable from the moment it was decided.
			r.oKey = append(r.oKey, sd.Key)
			r.oCust = append(r.oCust, customer)
			r.oShard = append(r.oShard, int32(shard))
			r.oSend = append(r.oSend, data)
			r.oAt = append(r.oAt, sd.At)
			r.oJour = append(r.oJour, sd.Journey)
			r.oName = append(r.oName, sd.Name)
			// NULL without the instance's entry time: tally.Of counted no
			// pending for the send, so its settlement moves nothing.
			var cohort *int64
			if !sd.Entered.IsZero() {
				c := tally.Cohort(sd.Entered)
				cohort = &c
			}
			r.oCohort = append(r.oCohort, cohort)
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
			return fmt.Errorf("postgres: commit: customer %q: encoding a response to %q: %w", customer, rp.Metric, err)
		}
		r.hist.add(customer, store.HistoryResponse, rp.At, rp.Journey, rp.Instance, "", "", "", "", "", "", rp.Metric, "", "", data)
	}
	return nil
}

func (r *rows) event(customer, kind, journey, instance string, at time.Time, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("postgres: commit: customer %q: encoding a %s: %w", customer, kind, err)
	}
	r.hist.add(customer, kind, at, journey, instance, "", "", "", "", "", "", "", "", "", data)
	return nil
}

// commit writes st in the group's transaction: the fence (its own round
// trip), the batch of statements, then the message ids and outbox items
// (insertUnique) and the history by COPY (the history's measured a third
// cheaper than an unnest insert for a batch of 500 events; COPY numbers
// the rows in the order it is given them).
func (s *Store) commit(w *wtx, st *staged) error {
	if err := s.checkFenceLocal(st.shards); err != nil {
		return err
	}
	if err := s.checkTokens(st.r); err != nil {
		return err
	}
	if f := s.getFence(); f != nil {
		// Its own round trip, before the statements: the epochs are those
		// of now, and the statements' batch is encoded already.
		ids, epochs, _ := fenceArgs(f, st.shards)
		if _, err := w.tx.Exec(w.ctx, qFence, ids, epochs); err != nil {
			if isCode(err, "WM001") {
				return s.fenceLost(movedShards(err, st.shards))
			}
			return fmt.Errorf("postgres: commit: %w", err)
		}
	}
	conn := w.tx.Conn().PgConn()
	if err := execBatch(w.ctx, conn, st.takeBatch()); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	if err := s.insertUnique(w, conn, st); err != nil {
		return err
	}
	// The tallies wait for the end of the group (wtx.addTallies): a
	// group's commits mostly add to the same few rows (the hour's
	// entries, a stage's moves), each row then written once.
	w.addTallies(st.tallies)
	if st.history != nil {
		if _, err := conn.CopyFrom(w.ctx, bytes.NewReader(st.history), qCopyHistory); err != nil {
			return fmt.Errorf("postgres: commit: history: %w", err)
		}
	}
	return nil
}

// insertUnique writes st's message ids and outbox items: by COPY the
// first time, then (the commit is tried again: a COPY may have met a row
// that was there) by INSERTs that skip those there.
func (s *Store) insertUnique(w *wtx, conn *pgconn.PgConn, st *staged) error {
	if !st.skipping {
		st.skipping = true
		if st.messages != nil {
			if _, err := conn.CopyFrom(w.ctx, bytes.NewReader(st.messages), qCopyMessages); err != nil {
				return fmt.Errorf("postgres: commit: message ids: %w", err)
			}
		}
		if st.outbox != nil {
			if _, err := conn.CopyFrom(w.ctx, bytes.NewReader(st.outbox), qCopyOutbox); err != nil {
				return fmt.Errorf("postgres: commit: outbox: %w", err)
			}
		}
		return nil
	}
	r := st.r
	if len(r.msgs) > 0 {
		if _, err := w.tx.Exec(w.ctx, qInsertMessages, r.msgs, r.written); err != nil {
			return fmt.Errorf("postgres: commit: message ids: %w", err)
		}
	}
	if len(r.oKey) > 0 {
		if _, err := w.tx.Exec(w.ctx, qInsertOutbox, r.oKey, r.oCust, r.oShard, r.oSend, r.oAt, r.written, r.oJour, r.oName, r.oCohort); err != nil {
			return fmt.Errorf("postgres: commit: outbox: %w", err)
		}
	}
	return nil
}

// writeStaged runs fn, which commits staged batches, in a write; when it
// fails on a unique violation, once more: the commits then skip the rows
// that were there (staged.skipping).
func (s *Store) writeStaged(ctx context.Context, fn func(w *wtx) error) error {
	err := s.write(ctx, fn)
	if isCode(err, codeUniqueViolation) {
		err = s.write(ctx, fn)
	}
	return err
}

// execBatch runs b and returns the first error of its statements.
func execBatch(ctx context.Context, conn *pgconn.PgConn, b *pgconn.Batch) error {
	results, err := conn.ExecBatch(ctx, b).ReadAll()
	for _, r := range results {
		if err == nil {
			err = r.Err
		}
	}
	return err
}

// takeBatch returns the batch of the staged statements: the one Stage
// built, the first time; a new one for a retry (running a pgconn.Batch
// appends to it).
func (st *staged) takeBatch() *pgconn.Batch {
	if b := st.batch; b != nil {
		st.batch = nil
		return b
	}
	b := &pgconn.Batch{}
	for k := range st.stmts {
		st.stmts[k].queue(b)
	}
	return b
}

// qCopyMessages and qCopyOutbox are the COPYs of a commit's message ids
// and outbox items (rows.messagesCopy, rows.outboxCopy).
const (
	qCopyMessages = `COPY messages (id, at) FROM STDIN (FORMAT binary)`
	qCopyOutbox   = `COPY outbox (key, customer, shard, send, next_attempt, created_at, journey, name, cohort) FROM STDIN (FORMAT binary)`
)

// messagesCopy encodes r's message ids for qCopyMessages; nil without.
func (r *rows) messagesCopy() []byte {
	if len(r.msgs) == 0 {
		return nil
	}
	size := 0
	for _, id := range r.msgs {
		size += 2 + 4 + len(id) + 4 + 8
	}
	c := newCopyData(size)
	seen := make(map[string]bool, len(r.msgs))
	for _, id := range r.msgs {
		// Twice in a batch (two requests raced past ingest's check) is
		// kept once.
		if seen[id] {
			continue
		}
		seen[id] = true
		c.tuple(2)
		c.text(id)
		c.timestamptz(r.written)
	}
	return c.bytes()
}

// outboxCopy encodes r's outbox items for qCopyOutbox; nil without.
func (r *rows) outboxCopy() []byte {
	if len(r.oKey) == 0 {
		return nil
	}
	size := 0
	for i := range r.oKey {
		size += 2 + 9*4 + 4 + 8 + 8 + 8 + len(r.oKey[i]) + len(r.oCust[i]) + len(r.oSend[i]) + len(r.oJour[i]) + len(r.oName[i])
	}
	c := newCopyData(size)
	seen := make(map[string]bool, len(r.oKey))
	for i := range r.oKey {
		// The first item under a key is kept, as qInsertOutbox keeps it.
		if seen[r.oKey[i]] {
			continue
		}
		seen[r.oKey[i]] = true
		c.tuple(9)
		c.text(r.oKey[i])
		c.text(r.oCust[i])
		c.int4(r.oShard[i])
		c.bytea(r.oSend[i])
		c.timestamptz(r.oAt[i])
		c.timestamptz(r.written)
		c.text(r.oJour[i])
		c.text(r.oName[i])
		if r.oCohort[i] == nil {
			c.null()
		} else {
			c.int8(*r.oCohort[i])
		}
	}
	return c.bytes()
}

// qCopyHistory is the COPY of a commit's history rows (histCols.copyData).
const qCopyHistory = `COPY history (customer, kind, at, journey, instance, version, from_stage, to_stage, cause, status, key, name, fate, reason, data) FROM STDIN (FORMAT binary)`

// copyData encodes the rows for qCopyHistory; nil without rows.
func (h *histCols) copyData() []byte {
	if len(h.customer) == 0 {
		return nil
	}
	size := 0
	for i := range h.customer {
		size += 2 + 15*4 + 8 + len(h.customer[i]) + len(h.kind[i]) + len(h.journey[i]) + len(h.instance[i]) + len(h.version[i]) +
			len(h.from[i]) + len(h.to[i]) + len(h.cause[i]) + len(h.status[i]) + len(h.key[i]) + len(h.name[i]) + len(h.fate[i]) +
			len(h.reason[i]) + len(h.data[i])
	}
	c := newCopyData(size)
	for i := range h.customer {
		c.tuple(15)
		c.text(h.customer[i])
		c.text(h.kind[i])
		c.timestamptz(h.at[i])
		c.text(h.journey[i])
		for _, v := range []string{h.instance[i], h.version[i], h.from[i], h.to[i], h.cause[i], h.status[i], h.key[i], h.name[i], h.fate[i], h.reason[i]} {
			c.textOrNull(v)
		}
		c.bytea(h.data[i])
	}
	return c.bytes()
}
