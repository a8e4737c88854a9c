package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// ErrNotFound is returned by lookups of a customer, journey version or
// outbox item that does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by a store's methods after Close.
var ErrClosed = errors.New("store is closed")

// ErrSchemaTooNew is returned (wrapped) when a database was migrated by a
// newer binary than the running one: its schema may mean things this binary
// does not know, so the store refuses to touch it rather than guess.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// ErrInUse is returned (wrapped) by Open when another process, or another
// Open in this one, holds the store: two writers on one store lose
// acknowledged events, so the second refuses to start.
var ErrInUse = errors.New("store is in use")

// ErrNoSpace is returned (wrapped) by writes while a store's disk is too
// full to write safely. Nothing of the write happened; retry later. Reads
// go on, and the store writes again once there is space.
var ErrNoSpace = errors.New("the store's disk is full")

// WriteHealth is implemented by stores that know, without writing, that
// they cannot write now (a full disk): /healthz reports it, so that a load
// balancer sends events elsewhere until the store recovers.
type WriteHealth interface {
	// WriteError is nil when writes may succeed, else why they cannot
	// (wrapping ErrNoSpace for a full disk).
	WriteError() error
}

// Store is the runtime's durable state behind one narrow interface, so that
// the embedded SQLite store and PostgreSQL are interchangeable. Every method
// is safe for concurrent use. Times are UTC.
type Store interface {
	// Commit writes one group commit atomically: the new state of every
	// customer in it, with all the effects of the inputs that produced it.
	// Nothing of the batch is visible before Commit returns nil, and all of
	// it is after: that is when the inputs may be acknowledged.
	Commit(ctx context.Context, b *Batch) error

	// Customer returns a customer's state, or ErrNotFound.
	Customer(ctx context.Context, id string) (*engine.Customer, error)

	// SeenMessages returns which of ids were already committed (ingest
	// deduplication by messageId, kept for at least the retention window).
	SeenMessages(ctx context.Context, ids []string) (map[string]bool, error)

	// Due lists customers whose next wake is at or before until, earliest
	// first, at most limit: the timer index is the truth the scheduler reads.
	// Wake.At may be rounded up to the store's precision (under a
	// millisecond; both stores keep microseconds), never down, so a Step at
	// Wake.At handles everything the wake was for.
	Due(ctx context.Context, until time.Time, limit int) ([]Wake, error)

	// ActiveCustomers lists, page by page after the id `after`, the ids of
	// customers with an active instance: a reload migrates them.
	ActiveCustomers(ctx context.Context, after string, limit int) ([]string, error)

	// Outbox: ClaimOutbox leases up to limit deliverable items whose next
	// attempt is due at or before now, for lease (so a crashed dispatcher's
	// items come back); Delivered, Retry and Dead settle one.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	Delivered(ctx context.Context, key string, at time.Time) error
	Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error
	Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error

	// History of one customer, oldest first: every transition and every
	// send decision (with its delivery state for delivered sends).
	Transitions(ctx context.Context, customerID string) ([]engine.Transition, error)
	Sends(ctx context.Context, customerID string) ([]SendRecord, error)

	// SaveProgram stores a journey program version (the IR JSON) keyed by
	// the hash of the whole document; idempotent. Programs lists them,
	// newest first.
	SaveProgram(ctx context.Context, p Program) error
	Programs(ctx context.Context) ([]Program, error)

	// StageCounts counts active instances per (journey, version, stage).
	StageCounts(ctx context.Context) ([]StageCount, error)

	Close() error
}

// Batch is one group commit.
type Batch struct {
	Customers []CustomerWrite
	// Tokens are the ownership tokens the customers' states were read
	// under, by id (worker.Options.Ownership: on a cluster node, the
	// epoch of the customer's shard); nil without. A fenced store refuses
	// the whole commit when a customer's token is not the epoch its shard
	// is owned at when the commit runs: the state was read before the node
	// lost the shard, and another owner may have written it since, even if
	// the node has taken the shard back. A state read while the node did
	// not own the customer has TokenNotOwned.
	Tokens map[string]int64
}

// TokenNotOwned is the token of a state read while the node did not own
// the customer (Batch.Tokens): no epoch is it, so a fenced store refuses
// the commit even if the node owns the shard by the time it commits.
const TokenNotOwned int64 = -1

// CustomerWrite is the new state of one customer and everything the inputs
// handled for it in this batch produced.
type CustomerWrite struct {
	State    *engine.Customer
	NextWake time.Time // zero: nothing due; the customer leaves the timer index
	// MessageIDs of the inputs handled (ingest deduplication).
	MessageIDs []string
	// Results of each Step, in order. Sends with FateDeliver go to the
	// outbox keyed by Send.Key (a key already there is left as it is: a
	// replay never sends twice); every send, transition, refusal and error
	// goes to the history.
	Results []engine.Result
	// Received are the inputs handled (not timers), in order: stores that
	// implement ReceivedHistory keep them with the history.
	Received []Received
}

// Wake is a customer due for a timer.
type Wake struct {
	CustomerID string
	At         time.Time
}

// Delivery states of an outbox item.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// OutboxItem is a send waiting for delivery.
type OutboxItem struct {
	Send    engine.Send
	Attempt int // attempts made so far
}

// SendRecord is a send decision with its delivery state.
type SendRecord struct {
	engine.Send
	Delivery    string    `json:"delivery,omitempty"` // for FateDeliver: pending | delivered | dead
	Attempts    int       `json:"attempts,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// Program is a stored program version.
type Program struct {
	Hash      string
	IR        []byte
	CreatedAt time.Time
}

// StageCount is the number of active instances in one stage.
type StageCount struct {
	Journey, Version, Stage string
	Active                  int
}

// Stager is implemented by stores whose Commit spends much of its time
// turning the batch into what it sends (PostgreSQL: the states' JSON and
// the wire format of every row). A worker that prepares a batch while the
// previous one commits stages it then, so that the commit itself is only
// the writing: commits run one at a time, and what they do decides the
// throughput of the store's single writer.
type Stager interface {
	// Stage encodes b for CommitStaged. b and what it points to must not
	// change until CommitStaged has returned. An error here names what
	// could not be encoded; nothing was written.
	Stage(b *Batch) (Staged, error)
	// CommitStaged is Commit of the batch staged (and may be called again
	// with the same Staged after it failed).
	CommitStaged(ctx context.Context, s Staged) error
}

// Staged is a batch a Stager has encoded.
type Staged interface {
	// Batch is the batch staged.
	Batch() *Batch
}

// CustomersReader is implemented by stores that read many customers' states
// in one query: the worker then loads a batch's customers at once instead
// of one round trip each, which is what a store across a network (and a
// worker without a cache, on a cluster) pays most for.
type CustomersReader interface {
	// Customers returns the states of the ids the store knows; an id it
	// does not know is absent from the map.
	// A state that cannot be decoded fails the whole read with an error
	// wrapping ErrUnreadable (a caller may then read one by one).
	Customers(ctx context.Context, ids []string) (map[string]*engine.Customer, error)
}

// ActiveStateReader is implemented by stores that can read the states of
// the customers with an active instance a page at a time, in one query per
// page: a plan (runtime/plan) reads every one of them, and a point read per
// customer would cost it most of its time.
type ActiveStateReader interface {
	// ActiveStates returns, in id order after the id `after`, at most
	// limit customers with an active instance, each with its state as
	// stored (the JSON of an engine.Customer).
	ActiveStates(ctx context.Context, after string, limit int) ([]RawState, error)
}

// RawState is a customer's stored state, not yet decoded.
type RawState struct {
	ID    string
	State []byte
}

// MessagePruner is implemented by stores that keep ingest message ids (see
// SeenMessages) in a table of their own: the ids are kept for a retention
// window and then pruned, or the table would grow with every input ever
// received. The server calls it periodically with now minus the window.
type MessagePruner interface {
	// PruneMessages forgets the message ids committed before before and
	// returns how many it forgot.
	PruneMessages(ctx context.Context, before time.Time) (int64, error)
}

// HistoryPruner is implemented by stores that can forget old history, which
// otherwise grows with every input ever handled. The server calls it
// periodically with now minus the retention (waymark run --retention).
type HistoryPruner interface {
	// PruneHistory forgets the history records (transitions, send
	// decisions, refusals, errors, emitted events) whose time (their At)
	// is before before, and the outbox items delivered before it. A store
	// without a time index may keep, until a later call, records committed
	// well after their time (timers handled after an outage). It keeps
	// what is still needed: the send decision of an outbox item that is
	// pending or dead, which delivery and the dead-letter queue read. It
	// returns how many records and delivered items it forgot. Customers'
	// states are never touched: an active instance keeps its stage, waits
	// and entry; only the story of how it got there shortens. A delivered
	// item is what keeps a replayed input from sending again once its
	// message id is forgotten, so the retention must not be shorter than
	// the ingest dedup window.
	PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error)
}

// DeadLetterQueue is implemented by stores that can list the outbox items
// delivery gave up on across customers, and put them back: the operator's
// view after an outage or a misconfigured channel ("what did not go out,
// and why"), and the way to send them once it is fixed.
type DeadLetterQueue interface {
	// DeadLetters lists dead items by key, after the key `after`, at most
	// limit, each with its send and the last error.
	DeadLetters(ctx context.Context, after string, limit int) ([]DeadLetter, error)
	// Requeue makes the dead item under key pending again, due at at, with
	// its attempts counted from zero, its last error cleared (an error shown
	// on a pending item would read as a new failure) and its key unchanged
	// (the receiver still deduplicates by it). ErrNotFound when no dead
	// item has the key.
	Requeue(ctx context.Context, key string, at time.Time) error
}

// DeadLetter is an outbox item in the dead state.
type DeadLetter struct {
	Send      engine.Send `json:"send"`
	Customer  string      `json:"customer"`
	Attempts  int         `json:"attempts"`
	LastError string      `json:"last_error"`
	DeadAt    time.Time   `json:"dead_at"`
}

// EventHistory is implemented by stores that keep, besides transitions and
// sends, the other things the engine reports about a customer: refused
// entries, run-time errors and emitted events. They answer "why is this
// customer stuck?" when no transition or send does.
type EventHistory interface {
	// Events of one customer, oldest first.
	Events(ctx context.Context, customerID string) ([]Event, error)
}

// ResponseHistory is implemented by stores that read back a customer's
// metric responses (history kind HistoryResponse): the answers their
// surveys gave, on the customer's timeline beside the inputs that carried
// them.
type ResponseHistory interface {
	// Responses of one customer, oldest first.
	Responses(ctx context.Context, customerID string) ([]engine.Response, error)
}

// Event kinds.
const (
	EventRefusal = "refusal"
	EventError   = "error"
	EventEmit    = "emit"
)

// Event is one refusal, error or emitted event; exactly the field named by
// Kind is set.
type Event struct {
	Kind    string          `json:"kind"`
	Refusal *engine.Refusal `json:"refusal,omitempty"`
	Error   *engine.Error   `json:"error,omitempty"`
	Emitted *engine.Emitted `json:"emitted,omitempty"`
}

// HistoryEvent is one refusal, error or emitted event of a Step's result as
// a store files it: its kind (EventRefusal, EventError, EventEmit), the
// journey and instance it concerns ("" where it has none), its time, and
// the engine's value to encode.
type HistoryEvent struct {
	Kind, Journey, Instance string
	At                      time.Time
	Value                   any
}

// EachEvent calls fn with every refusal, error and emitted event of res, in
// that order, and stops at fn's first error.
func EachEvent(res *engine.Result, fn func(HistoryEvent) error) error {
	for k := range res.Refusals {
		f := &res.Refusals[k]
		if err := fn(HistoryEvent{EventRefusal, f.Journey, "", f.At, f}); err != nil {
			return err
		}
	}
	for k := range res.Errors {
		e := &res.Errors[k]
		if err := fn(HistoryEvent{EventError, e.Journey, e.Instance, e.At, e}); err != nil {
			return err
		}
	}
	for k := range res.Emitted {
		e := &res.Emitted[k]
		if err := fn(HistoryEvent{EventEmit, e.Journey, e.Instance, e.At, e}); err != nil {
			return err
		}
	}
	return nil
}

// DecodeEvent decodes the engine's JSON of an event of kind (EventRefusal,
// EventError, EventEmit) as a store keeps it.
func DecodeEvent(kind string, data []byte) (Event, error) {
	ev := Event{Kind: kind}
	var v any
	switch kind {
	case EventRefusal:
		ev.Refusal = new(engine.Refusal)
		v = ev.Refusal
	case EventError:
		ev.Error = new(engine.Error)
		v = ev.Error
	case EventEmit:
		ev.Emitted = new(engine.Emitted)
		v = ev.Emitted
	default:
		return ev, fmt.Errorf("unknown event kind %q", kind)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return ev, fmt.Errorf("decoding a %s: %w", kind, err)
	}
	return ev, nil
}

// FailedSendLister is implemented by stores that can list, across
// customers, the send decisions that failed at run time (fate "failed": a
// field that did not evaluate, like an email address from a trait never
// set). Such a send never reaches the outbox, so the dead-letter queue does
// not show it; this is where an operator finds them all.
type FailedSendLister interface {
	// FailedSends lists failed sends oldest first, by their time and then
	// their commit order, after the cursor `after` ("" from the start; a
	// FailedSend's Cursor otherwise), at most limit. The order is stable:
	// a send committed later never appears before a cursor already given
	// out, unless its time is earlier. A send whose history record was
	// pruned or erased is not listed.
	FailedSends(ctx context.Context, after string, limit int) ([]FailedSend, error)
}

// FailedSend is a send decision with fate "failed", with the customer it
// was for and its place in the list.
type FailedSend struct {
	// Cursor is the `after` that lists the failed sends following this one.
	Cursor   string      `json:"cursor"`
	Customer string      `json:"customer"`
	Send     engine.Send `json:"send"`
}

// FailedSendCursor is the cursor of a failed send whose history record has
// time at (unix microseconds, as the stores keep it) and sequence number
// seq: both decimal, "at.seq". Every store writes the same form, so that a
// cursor means the same thing whichever store gave it.
func FailedSendCursor(at int64, seq uint64) string {
	return strconv.FormatInt(at, 10) + "." + strconv.FormatUint(seq, 10)
}

// ParseFailedSendCursor reads a cursor made by FailedSendCursor; "" is the
// start of the list (ok false).
func ParseFailedSendCursor(s string) (at int64, seq uint64, ok bool, err error) {
	if s == "" {
		return 0, 0, false, nil
	}
	a, q, found := strings.Cut(s, ".")
	if found {
		if at, err = strconv.ParseInt(a, 10, 64); err == nil {
			seq, err = strconv.ParseUint(q, 10, 64)
		}
	}
	if !found || err != nil {
		return 0, 0, false, fmt.Errorf("failed-send cursor %q: want the cursor of a listed failed send, like 1717243200000000.42", s)
	}
	return at, seq, true, nil
}

// JourneyRecords is implemented by stores that can read one journey's
// transitions and send decisions across all customers, in commit order: the
// analytics (runtime/analytics) are computed from them, never from
// counters kept on the side.
type JourneyRecords interface {
	// JourneyRecords calls fn with every transition, send and metric
	// response of journey
	// committed with a time before until, in commit order, and stops at
	// the first error fn returns.
	JourneyRecords(ctx context.Context, journey string, until time.Time, fn func(JourneyRecord) error) error
}

// JourneyRecord is one transition, one send decision or one metric
// response; exactly one of them is set. A Send carries only what analytics
// reads: instance, name, fate, time, and its Delivery state for
// FateDeliver.
type JourneyRecord struct {
	Transition *engine.Transition
	Send       *SendRecord
	Response   *engine.Response
}

// RecordRow is a history row as the SQL stores read it for
// JourneyRecords (NULL columns as ""): Record makes the record of it.
type RecordRow struct {
	Kind, Journey, Instance, Version, From, To, Cause, Status string
	Name, Fate, Delivery, Key                                 string
	At                                                        time.Time
	Data                                                      []byte // a response's JSON
}

// Record is the JourneyRecord of the row: a metric response (decoded from
// Data), a transition, or a send with its delivery state.
func (r *RecordRow) Record() (JourneyRecord, error) {
	var rec JourneyRecord
	switch r.Kind {
	case HistoryResponse:
		var err error
		rec.Response, err = DecodeResponse(r.Data)
		return rec, err
	case "transition":
		rec.Transition = &engine.Transition{Instance: r.Instance, Journey: r.Journey, Version: r.Version,
			From: r.From, To: r.To, Cause: r.Cause, Status: r.Status, At: r.At}
	default:
		rec.Send = &SendRecord{Send: engine.Send{Key: r.Key, Journey: r.Journey, Instance: r.Instance,
			Name: r.Name, Fate: r.Fate, At: r.At}, Delivery: r.Delivery}
	}
	return rec, nil
}

// HistoryResponse is the history kind of a metric response (the engine's
// JSON of an engine.Response; a response in no journey has journey "").
const HistoryResponse = "response"

// DecodeResponse decodes a metric response as a store keeps it (the
// engine's JSON of it).
func DecodeResponse(data []byte) (*engine.Response, error) {
	r := new(engine.Response)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decoding a metric response: %w", err)
	}
	return r, nil
}

// Tally is one derived analytics counter (runtime/store/tally says what
// each Kind counts and how A and B name it): N things, and for metric
// responses the Sum of their values, of the instances of Journey that
// entered in the hour Cohort (Unix seconds / 3600, UTC). A store adds the
// tallies of a commit in that commit, so they can never drift from the
// records they count.
type Tally struct {
	Journey string
	Cohort  int64
	Kind    string
	A, B    string
	N       int64
	Sum     float64
}

// Tallies is implemented by stores that keep the analytics tallies: the
// analytics of a journey are then a sum over a few rows per hour instead of
// a read of every record.
type Tallies interface {
	// SumTallies sums, per (Kind, A, B), the tallies of the journeys named
	// (a journey and its former names) whose cohort is in [from, to); the
	// results have no Journey or Cohort, and no rows whose N and Sum are both 0.
	SumTallies(ctx context.Context, journeys []string, from, to int64) ([]Tally, error)
}

// TransitionData is what the SQL stores keep in a transition's data
// column: the record's fields that have no column of their own (its Seq,
// which orders it among its commit's records and inputs), nil when there
// is none. DecodeTransitionData reads it back into t; nil data (a row
// written before Seq was kept) leaves t as it is.
func TransitionData(t *engine.Transition) []byte {
	if t.Seq == 0 {
		return nil
	}
	return []byte(`{"seq":` + strconv.Itoa(t.Seq) + `}`)
}

// DecodeTransitionData: see TransitionData.
func DecodeTransitionData(data []byte, t *engine.Transition) error {
	if len(data) == 0 {
		return nil
	}
	var v struct {
		Seq int `json:"seq"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decoding a transition's data: %w", err)
	}
	t.Seq = v.Seq
	return nil
}
