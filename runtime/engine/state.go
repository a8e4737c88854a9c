package engine

import (
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Instance statuses. An instance is active until it ends; it ends exactly once.
const (
	StatusActive    = "active"
	StatusCompleted = "completed" // reached `goto = end` or a stage without a transition
	StatusConverted = "converted" // a goal matched
	StatusExited    = "exited"    // an exit matched, or the engine ended it (stage_removed, journey_removed, step_limit, bad_time)
)

// Customer is the whole durable state of one customer: the store persists it
// as one value (it is plain JSON: maps, slices, strings, numbers, times) and
// hands it back to Step for the next input. Nothing else about a customer
// lives anywhere in the engine.
//
// Values in Traits, Instance.Entry and Send.Fields are JSON values as
// encoding/json decodes them into an any (nil, bool, float64, string, []any,
// map[string]any); the engine also accepts every Go integer and float type and
// json.Number, and it writes whole numbers as int64 and others as float64.
// Two states that differ only in the Go type of a number behave the same.
type Customer struct {
	ID     string         `json:"id"`
	Traits map[string]any `json:"traits,omitempty"`
	// Instances holds at most one instance per journey: the active one, or
	// the latest that ended (kept for the re-entry rule and the status that
	// scenario tests expect). A new instance takes the slot of the old one.
	Instances []*Instance `json:"instances,omitempty"`
	// Held are sends waiting for quiet hours to end or a send window to
	// open (Fate "held", DueAt set), in the order they were held.
	Held []Send `json:"held,omitempty"`
	// Sends holds, per policy with a frequency cap, the times of the sends
	// that went out inside the cap's window: what the cap counts.
	Sends map[string][]time.Time `json:"sends,omitempty"`
	// Seen holds the latest message ids (Input.MessageID), oldest first, so
	// that a redelivered input is a no-op; Options.DedupWindow bounds it.
	Seen []string `json:"seen,omitempty"`
	// Merged lists the ids of the customers merged into this one (Merge),
	// oldest first: their history stays under their ids, and the shell
	// reads (and erases) it with this customer's.
	Merged []string `json:"merged,omitempty"`
	// Seqs holds, per journey, the last instance Seq of runs that left the
	// customer (a merge moved them to another one): the next instance goes
	// on after it, so its id and send keys never repeat those of a run the
	// outbox already holds (a repeated key would never be sent).
	Seqs map[string]int `json:"seqs,omitempty"`
	// Subscriptions holds the customer's own word on each topic they ever
	// gave one: topic name -> "subscribed" or "unsubscribed". A topic not
	// here has its program default.
	Subscriptions map[string]string `json:"subscriptions,omitempty"`
}

// Instance is one customer's run through one journey.
type Instance struct {
	// ID is customerID/journey/seq: deterministic, so a replay of the same
	// inputs names the same instances (and send keys).
	ID      string `json:"id"`
	Journey string `json:"journey"`
	Version string `json:"version"` // the journey version the instance runs on
	Seq     int    `json:"seq"`     // 1 for the customer's first instance of this journey
	Status  string `json:"status"`
	// Cause says why an ended instance ended: the cause of its last
	// transition ("goto", "complete", "goal:x", "exit:x", "stage_removed", ...).
	Cause          string         `json:"cause,omitempty"`
	Stage          string         `json:"stage,omitempty"` // the current stage, or the last one of an ended instance
	Visit          int            `json:"visit"`           // stage entries so far; part of every send key
	EnteredAt      time.Time      `json:"entered_at"`
	StageEnteredAt time.Time      `json:"stage_entered_at,omitzero"`
	EndedAt        time.Time      `json:"ended_at,omitzero"`
	EntryEvent     string         `json:"entry_event"`
	Entry          map[string]any `json:"entry,omitempty"` // the entry event's properties: `entry` in expressions
	// Waits are the timers of the current stage (its after and at blocks),
	// with their due times; empty when the stage waits only for events.
	Waits []Wait `json:"waits,omitempty"`
	// Visited are the stages the instance has entered, each once, in the
	// order of their first entry; Splits the variant each split stage first
	// assigned it. The analytics tallies count visitors, leakage and
	// conversions per variant from them (runtime/store/tally).
	Visited []string          `json:"visited,omitempty"`
	Splits  map[string]string `json:"splits,omitempty"`

	steps    int       // stage entries during the current Step: the step limit counts these
	entryVal cty.Value // `entry` as a cty value, built on first use ...
	entryFor *Engine   // ... by this engine, whose event schema typed it
}

// Active reports whether the instance has not ended.
func (in *Instance) Active() bool { return in.Status == StatusActive }

// Wait kinds.
const (
	WaitAfter = "after"
	WaitAt    = "at"
)

// Wait is a timer of the current stage: the Index-th after (or at) block.
type Wait struct {
	Kind  string    `json:"kind"`
	Index int       `json:"index"`
	Due   time.Time `json:"due"`
	// Src is the at block's time expression, so that a migration to a new
	// version whose at block reads the same keeps the time computed on entry.
	Src string `json:"src,omitempty"`
}

// Input kinds.
const (
	KindEvent    = "event"    // a tracked event: Event, Properties (and Traits to merge first)
	KindIdentify = "identify" // a trait update: Traits
	KindWake     = "wake"     // nothing new: the customer's timers are due
	// KindSubscription changes the customer's consent to Topic to Status
	// ("subscribed" or "unsubscribed"), in order with the other inputs.
	KindSubscription = "subscription"
)

// Input is one thing that happened to a customer.
type Input struct {
	Kind  string `json:"kind"`
	Event string `json:"event,omitempty"`
	// Properties are the event's properties. An instance the event admits
	// keeps this map as its Entry, without a copy: do not change it after
	// Step.
	Properties map[string]any `json:"properties,omitempty"`
	// Traits are merged into the customer's traits before anything else
	// (identify, or an event that carries traits). A nil value removes the
	// trait.
	Traits map[string]any `json:"traits,omitempty"`
	// MessageID makes an input idempotent: an id among the customer's
	// latest Options.DedupWindow ids is not handled again. Empty: no check.
	MessageID string `json:"message_id,omitempty"`
	// Topic and Status are a subscription input's.
	Topic  string `json:"topic,omitempty"`
	Status string `json:"status,omitempty"`
}

// Send fates.
const (
	FateDeliver    = "deliver"    // goes out now: the outbox delivers it under Key
	FateHeld       = "held"       // waits for quiet hours to end (or a send window to open) until DueAt
	FateSuppressed = "suppressed" // dropped: the customer is in a journey that suppresses this one
	FateCapped     = "capped"     // dropped: the policy's frequency cap is reached
	FateDropped    = "dropped"    // a held send dropped: its instance ended by a goal or an exit first
	FateFailed     = "failed"     // a field failed to evaluate; Reason holds the error
	// FateUnsubscribed: dropped, the customer is unsubscribed from the
	// send's topic (by their word, or by an opt-in topic's default).
	FateUnsubscribed = "unsubscribed"
)

// Send is a decision about a message. Only FateDeliver asks for delivery; the
// others are records of what happened and why. A held send appears twice:
// once held, once with its final fate, under the same Key.
type Send struct {
	// Seq orders this record among everything one Result holds
	// (transitions, sends, refusals, errors, emitted events, responses),
	// from 1, in the order it happened: a history can interleave them
	// exactly. The worker renumbers a customer's Results of one commit as
	// one sequence with the inputs that caused them (store.Received.Seq).
	Seq int `json:"seq,omitempty"`
	// Key is the idempotency key: instanceID/visit/sendName. It is the
	// same on every replay of the same inputs.
	Key         string `json:"key"`
	Journey     string `json:"journey"`
	Instance    string `json:"instance"`
	Stage       string `json:"stage"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	// Topic is the send's subscription topic (its own or its policy's),
	// "" for a transactional send. The shell signs unsubscribe links for it.
	Topic string `json:"topic,omitempty"`
	// UnsubscribeURL is the customer's one-click unsubscribe link for Topic
	// (Options.UnsubscribeURL), "" without a topic or that option.
	UnsubscribeURL string         `json:"unsubscribe_url,omitempty"`
	Fields         map[string]any `json:"fields,omitempty"` // evaluated on stage entry: to/subject/body/..., or data/headers
	Fate           string         `json:"fate"`
	Reason         string         `json:"reason,omitempty"`
	At             time.Time      `json:"at"`              // when this decision was taken
	DueAt          time.Time      `json:"due_at,omitzero"` // held: when it is decided again

	// Entered is the instance's entry time (its analytics cohort), for the
	// store's tallies; not part of the send's JSON.
	Entered time.Time `json:"-"`
}

// Transition is a move of an instance, recorded for history and analytics.
// From is "" when the instance is created; To is "end" (ir.End) when it
// ends, with Status the status it ended with.
type Transition struct {
	Seq      int       `json:"seq,omitempty"` // see Send.Seq
	Instance string    `json:"instance"`
	Journey  string    `json:"journey"`
	Version  string    `json:"version"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Cause    string    `json:"cause"`
	Status   string    `json:"status"`
	At       time.Time `json:"at"`

	// Analytics context: what the store's derived tallies (runtime/store/tally)
	// need to count this move without reading anything back. Not part of the
	// record's JSON: the history stays as it was, and a replay of the records
	// (tally.Replay) reconstructs them.
	Entered time.Time         `json:"-"` // the instance's entry time: its cohort
	Since   time.Time         `json:"-"` // when the instance entered From (zero for an entry)
	Visit   int               `json:"-"` // the instance's stage entries after this move (its path length)
	First   bool              `json:"-"` // To is a stage the instance had not entered before
	Visited []string          `json:"-"` // on a move to the end: the stages the instance entered, each once, in order
	Splits  map[string]string `json:"-"` // on a move to the end: split stage -> variant first assigned
}

// Refusal reasons.
const (
	RefusedActive     = "active"     // an instance of the journey is active: entry events are ignored
	RefusedReentry    = "reentry"    // the re-entry rule forbids another instance (yet)
	RefusedSuppressed = "suppressed" // the customer is in a journey that suppresses this one
)

// Refusal records an entry whose `when` held but which was refused.
type Refusal struct {
	Seq     int       `json:"seq,omitempty"` // see Send.Seq
	Journey string    `json:"journey"`
	Event   string    `json:"event"`
	Reason  string    `json:"reason"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// Emitted is an event raised by an emit action. It is handled within the same
// Step, after the event (or timer) that caused it.
type Emitted struct {
	Event      string         `json:"event"`
	Properties map[string]any `json:"properties,omitempty"`
	Journey    string         `json:"journey"`
	Instance   string         `json:"instance"`
	Stage      string         `json:"stage"`
	Depth      int            `json:"depth"` // 1 for an event emitted while handling an input or a timer
	At         time.Time      `json:"at"`
	// Dropped is why the event was not handled (the emit depth or count
	// bound); empty when it was handled.
	Dropped string `json:"dropped,omitempty"`
	Seq     int    `json:"seq,omitempty"` // see Send.Seq
}

// Response is one answer to a metric (a top-level metric block), recorded
// when its event arrives: for each active instance of the customer, with
// the stage it was in before the event moved it; with no Journey when the
// customer was in no journey.
type Response struct {
	Seq      int       `json:"seq,omitempty"` // see Send.Seq
	Metric   string    `json:"metric"`
	Journey  string    `json:"journey,omitempty"`
	Instance string    `json:"instance,omitempty"`
	Stage    string    `json:"stage,omitempty"`
	Value    float64   `json:"value"`
	At       time.Time `json:"at"`

	// Entered is the instance's entry time (its analytics cohort), for the
	// store's tallies; not part of the response's JSON.
	Entered time.Time `json:"-"`
}

// Error is a problem met while running a journey: an expression that failed
// at run time, a bound that stopped a runaway chain. It never stops the Step:
// each kind of problem has a documented safe course (see doc.go).
type Error struct {
	Seq      int       `json:"seq,omitempty"` // see Send.Seq
	At       time.Time `json:"at"`
	Journey  string    `json:"journey,omitempty"`
	Instance string    `json:"instance,omitempty"`
	Stage    string    `json:"stage,omitempty"`
	Where    string    `json:"where"`           // what was being done: "entry when", "send welcome", "at time", "step limit", ...
	Range    *ir.Range `json:"range,omitempty"` // the expression's source range, when there is one
	Message  string    `json:"message"`
}

func (e Error) Error() string {
	loc := ""
	if e.Range != nil {
		loc = e.Range.File + ":" + itoa(e.Range.Start.Line) + ":" + itoa(e.Range.Start.Col) + ": "
	}
	return loc + e.Journey + ": " + e.Where + ": " + e.Message
}

// Result is everything one Step (or Migrate) did, in the order it happened.
type Result struct {
	Transitions []Transition `json:"transitions,omitempty"`
	Sends       []Send       `json:"sends,omitempty"`
	Refusals    []Refusal    `json:"refusals,omitempty"`
	Emitted     []Emitted    `json:"emitted,omitempty"`
	Errors      []Error      `json:"errors,omitempty"`
	// Responses are the metric responses the Step's events carried (see
	// Response), in order.
	Responses []Response `json:"responses,omitempty"`
	// Migrations says what moving to this engine's program did with each
	// active instance of an older version (see Migrate), in order.
	Migrations []Migration `json:"migrations,omitempty"`
	// Duplicate is true when the input's MessageID had been seen: nothing
	// was done.
	Duplicate bool `json:"duplicate,omitempty"`
	// InputSeq is the Seq the input's own handling started at: records
	// numbered below it were made before, by timers due at or before now
	// or by a migration; those from it on, by the input (or by nothing
	// else, for a wake). The worker places the received input there.
	InputSeq int `json:"-"`
	// NextWake is the earliest due time among the customer's timers and
	// held sends after the Step, zero when there is none: the shell indexes
	// the customer by it and calls Step with a Wake input at or after it.
	NextWake time.Time `json:"next_wake,omitzero"`
}

// NextWake returns the earliest due time among the customer's timers and held
// sends, or the zero time when nothing is due ever. It needs no program: the
// store can index a customer it has just loaded.
func (c *Customer) NextWake() time.Time {
	var next time.Time
	for _, in := range c.Instances {
		if !in.Active() {
			continue
		}
		for _, w := range in.Waits {
			if next.IsZero() || w.Due.Before(next) {
				next = w.Due
			}
		}
	}
	for i := range c.Held {
		if d := c.Held[i].DueAt; next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next
}

// Instance returns the customer's instance of a journey (active or the latest
// ended one), or nil when the customer never entered it.
func (c *Customer) Instance(journey string) *Instance {
	for _, in := range c.Instances {
		if in.Journey == journey {
			return in
		}
	}
	return nil
}
