// Package engine is Waymark's runtime core: a pure step function that
// advances one customer through the compiled journeys of an ir.Program.
//
//	(program, customer state, input, now) -> (new customer state, effects)
//
// It does no I/O, reads no clock, starts no goroutines and draws no random
// numbers: the same program, state, input and time always give the same new
// state and the same Result. Everything else is a shell around it: the HTTP
// server with its store (which loads a Customer, calls Step, and commits the
// new state with the Result's effects in one transaction), and the scenario
// test runner (which does the same on a virtual clock, in memory). Both run
// this code, so a scenario test exercises exactly what production runs.
//
// # Data flow
//
//	e, err := engine.New(program, engine.Options{DefaultZone: loc})   // once per program version
//	c := store.Load(customerID)          // *engine.Customer; &Customer{ID: id} for a new one
//	res := e.Step(c, engine.Input{Kind: engine.KindEvent, Event: "order_completed",
//	        Properties: props, MessageID: msgID}, now)
//	store.Commit(c, res)                 // state, outbox (res.Sends with Fate "deliver", keyed by Send.Key),
//	                                     // history (res.Transitions, every Send, Refusals, Errors),
//	                                     // and the wake index: c's next wake is res.NextWake
//	... later, when res.NextWake <= clock:
//	res = e.Step(c, engine.Input{Kind: engine.KindWake}, clock)
//
// Customer is the whole durable state of one customer, plain JSON-encodable
// data (see its doc for how values are typed). Result lists what happened,
// in order. Engine is immutable and safe for concurrent use; calls for one
// customer must be serialised by the caller (events of a customer are
// handled in order), calls for different customers may run in parallel.
//
// Step changes the Customer in place. Result values may share maps with the
// Customer (send fields, entry properties): treat both as read-only once
// Step has returned.
//
// # Time
//
// Inputs carry no time of their own: now is when the input happens, and
// Step first handles every timer (after, at) and held send due at or before
// now, in time order, each at its own due time; then the input, at now. So
// a shell may call Step late, or once for many due timers, and get the same
// outcome as calling it at every due time; a scenario runner advancing its
// virtual clock by three days needs one Wake. Result.NextWake (also
// Customer.NextWake, which needs no program) is the earliest due time left,
// zero for none. All times in the state are UTC.
//
// Equal due times are handled held sends first, then timers in instance
// order and, within a stage, after blocks before at blocks, each in source
// order.
//
// # What an event does
//
// In order, for an event E:
//
//  0. Metric responses: for each metric (top-level metric block) on E, its
//     value is evaluated once and recorded in Result.Responses, one per
//     active instance with the stage it is in before E moves it, or one with
//     no journey when the customer is in none. A value that fails or is not
//     a number is recorded in Result.Errors ("metric NAME") instead.
//  1. Goals and exits of every active instance, wherever it is: a goal for E
//     whose `when` holds ends the instance "converted" (cause "goal:E"),
//     else an exit ends it "exited" ("exit:E").
//  2. The `on` blocks of the current stage of every instance still active:
//     the first, in source order, for E whose `when` holds is taken
//     ("on:E"). Each instance moves at most once per event.
//  3. Entries, journey by journey in program order: the first entry block
//     for E whose `when` holds admits the customer, unless an instance of
//     the journey is active (ignored), the re-entry rule forbids it (never:
//     once there was an instance; "after D": until D after the previous
//     instance ended; always), or the journey's policy is suppressed_by a
//     journey the customer is active in. Refused entries are recorded in
//     Result.Refusals.
//  4. Events emitted meanwhile are handled the same way, after E, in the
//     order they were emitted, at the same time (Result.Emitted). An event
//     emitted while handling an emitted event is one level deeper; past
//     Options.MaxEmitDepth (default 8) it is dropped and recorded, and at
//     most Options.MaxSteps emitted events are handled per Step.
//
// An identify input merges traits (a null removes one); an event input may
// carry traits too, merged before the event is handled. A MessageID seen
// among the customer's latest Options.DedupWindow ids makes the input a
// no-op (Result.Duplicate); the server should also deduplicate at ingest.
// A subscription input (KindSubscription) records the customer's word on a
// topic in Customer.Subscriptions, in order with the other inputs.
//
// Merge (merge.go) folds one customer into another (an anonymous visitor
// into the known customer): pure like Step, with its conflict rules there.
//
// # Stages
//
// Entering a stage runs its actions in source order: send (fields evaluated
// now, then the contact policy decides, see below), update (each trait is
// set as soon as it is computed; later expressions see it), emit (queued).
// Then the stage is left by goto, by the first branch whose `when` holds
// ("branch:N", N counted from 1), by a split ("split:VARIANT", see split.go
// for the hash, which never changes; Variant exposes it to tools), or the
// stage waits: every after is
// due D after the stage was entered ("after:D"), every at when its time
// expression says ("at", evaluated on entry; a time already past fires at
// once). A stage without a transition, and goto = end, complete the
// instance ("completed"; causes "complete" and "goto"). An instance may
// enter at most Options.MaxSteps (default 100) stages per Step; past that
// it ends "exited" with cause "step_limit" and an Error is recorded.
//
// Each Instance is one run of one journey; its ID is
// "customerID/journey/seq", so a replay names the same instances. The
// customer keeps one instance per journey: the active one, or the latest
// that ended (the re-entry rule and scenario tests need it); a new instance
// replaces it. Every move is a Transition (instance, from, to, cause,
// status, time); From is "" for the entry and To is "end" for the end.
//
// # Contact policy
//
// Decided when a send is due, for journeys with a policy, in the
// customer's `timezone` trait (an IANA name; missing, unknown or "Local"
// means Options.DefaultZone, UTC by default):
//
//   - consent, first, for every send with a topic (its own, else its
//     policy's; Send.Topic): a customer unsubscribed from it (their word in
//     Customer.Subscriptions, else the topic's default) does not get it:
//     fate "unsubscribed", never held. A held send is decided again at
//     release, consent included. A send with no topic is transactional.
//   - suppressed_by: while the customer is active in a listed journey
//     (other than the sending one), the send is dropped: fate "suppressed".
//     The instance goes on.
//   - quiet_hours / send_window: a send in quiet hours (or outside the send
//     window) is held ("held", with DueAt) in Customer.Held and decided again
//     at the moment the window allows it. If its instance ends by a goal or
//     an exit (or the engine exits it) first, it is dropped at that moment
//     ("dropped"); an instance that completes normally keeps its held sends.
//     A window that never allows a send ("00:00-24:00") drops it at once.
//   - frequency_cap "N per D": the send goes out only if fewer than N sends
//     of this policy went out in the D before now (a send at exactly now-D
//     no longer counts); otherwise "capped". Sends count when they go out,
//     so a held send counts at its release.
//
// A send that goes out has fate "deliver": the outbox delivers it, at least
// once, under Send.Key ("instanceID/visit/sendName"), the same on every
// replay. A held send appears twice in the history under one key: "held",
// then its final fate.
//
// # Expressions and errors
//
// Expressions see `customer` (id and traits; with a declared schema every
// declared trait, null when unset, converted to its declared type),
// `event` (entry, goal, exit and on conditions), `entry` (the properties
// of the event that admitted the instance), `now` (RFC 3339, UTC), go-cty's
// standard functions, duration() and template(path), which renders
// Program.Templates[path] with the same variables. env() is refused: only
// channel settings read the environment, and the delivery layer evaluates
// those. New parses every expression and template once and refuses a
// program that names unknown stages, channels, policies, journeys,
// templates, variables or functions.
//
// An smtp send's html field is HTML-escaped the way html/template escapes:
// New rewrites its expression so that every interpolated value is escaped
// while the markup the author wrote (literals, template files, values
// passed through trusted_html()) is kept (html.go).
//
// What one Step may spend is bounded: lang's functions refuse calls that
// would make a string over lang.MaxValueBytes before doing the work, a send
// field or a trait over it is an error, and templates may render at most
// maxRenderedBytes in one Step (the compiler bounds each template() call;
// this also holds for an IR made by hand).
//
// Most expressions never reach hclsyntax at run time: New compiles the
// common shapes (attributes of customer, event and entry, comparisons,
// string templates, objects and lists of those) into closures that read the
// customer's Go values directly and convert only what they touch (fast.go).
// They give exactly the values hclsyntax gives, and hand anything unusual
// to hclsyntax, which then also words the error.
//
// Nothing that data can do makes Step panic or lose the input. A run-time
// problem is recorded in Result.Errors (with the expression's source range)
// and takes a safe course: a `when` that fails counts as false (null counts
// as false silently: an unset bool trait is "not yet"); a send whose field
// fails, or whose required field (smtp: to, subject, body; webhook and log:
// data) is null, gets fate "failed"; an update trait that fails keeps its
// old value; an emit whose properties fail is not emitted; an at time that
// fails or is not RFC 3339 is ignored (the stage still waits for its other
// transitions: afters, good ats, ons), and an instance left with none ends
// "exited" with cause "bad_time" (on entry, and on a migration whose new
// at times all fail); a stored trait that does not fit its declared type reads
// as null.
//
// # Versions
//
// Instances record the journey version they run. When the program changes,
// Migrate (which Step also does first) moves active instances to the new
// version by stage name, following the journey's moved and removed blocks
// and the program's journey moves, and says what it did with each in
// Result.Migrations (dispositions stay, moved, redirected, left, exited,
// pinned); see Migrate for the rules. A journey with in_flight = "pin"
// keeps each instance on the version it entered: the engine runs those
// earlier versions from the programs in Options.Versions (each with an
// engine of its own, so its templates, schema and policy are the ones it
// was written against), while new entries use the program's version.
package engine
