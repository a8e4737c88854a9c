package engine

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// run is the working state of one Step: the customer being changed, the
// result being written, the time things happen at, and caches of the cty
// values expressions read. Runs are pooled; nothing in one outlives its Step.
type run struct {
	// main is the engine Step was called on; e is the engine evaluating
	// now: main, or the engine of an earlier version while a pinned
	// instance runs (see journeyOf).
	main *Engine
	e    *Engine
	c    *Customer
	res  *Result
	// own is the Result of a Step: held here, in the pooled run, rather
	// than in a variable of Step, which res would make escape to the heap.
	own Result
	// at is when the thing being handled happens: the input's time, or the
	// due time of the timer or held send being handled.
	at time.Time

	vars   map[string]cty.Value
	ctx    hcl.EvalContext
	tctx   *hcl.EvalContext // the context with template(), built on first use
	tdepth int
	// rendered is the text templates rendered in this Step, against
	// maxRenderedBytes.
	rendered int
	custVal  cty.Value
	custOK   bool
	nowAt    time.Time
	nowStr   cty.Value

	// traitVals caches declared traits as cty values for the fast path
	// (traitOK says which are filled); buf is its template buffer.
	traitVals []cty.Value
	traitOK   []bool
	buf       []byte

	// trans and sends are scratch space Step records into; the Result gets
	// exact-size copies. Growing a fresh slice per Step cost more than
	// half the engine's garbage.
	trans []Transition
	sends []Send
	slow  bool // tests: evaluate everything through hclsyntax

	ev      event    // the event being handled
	queue   []queued // emitted events waiting to be handled
	depth   int      // emit depth of the event being handled
	emitted int      // emitted events handled in this Step
}

type queued struct {
	name   string
	props  map[string]any
	depth  int
	record int // index in Result.Emitted
}

func newRun() *run {
	r := &run{vars: make(map[string]cty.Value, 4)}
	r.ctx.Variables = r.vars
	return r
}

// getRun takes a run from the pool for c; res nil means the run's own.
func (e *Engine) getRun(c *Customer, res *Result, now time.Time) *run {
	r := e.pool.Get().(*run)
	if res == nil {
		res = &r.own
	}
	r.main, r.e, r.c, r.res, r.at = e, e, c, res, now
	r.ctx.Functions = e.funcs
	for _, in := range c.Instances {
		in.steps = 0
	}
	return r
}

func (e *Engine) putRun(r *run) {
	clear(r.vars)
	clear(r.traitOK)
	*r = run{vars: r.vars, ctx: hcl.EvalContext{Variables: r.vars}, queue: r.queue[:0],
		traitVals: r.traitVals, traitOK: r.traitOK, buf: r.buf[:0],
		trans: r.trans[:0], sends: r.sends[:0]}
	e.pool.Put(r)
}

// journeyOf returns the journey an active instance runs: its journey in the
// program or, for an instance pinned to an earlier version, that version;
// and makes the run evaluate with the engine that built it (templates,
// customer schema). Nil when the journey is gone.
func (r *run) journeyOf(in *Instance) *journey {
	j := r.main.byName[in.Journey]
	if j != nil && in.Version != j.version {
		if p := r.main.pinned[in.Version]; p != nil {
			j = p
		}
	}
	r.use(j)
	return j
}

// use makes the run evaluate with j's engine (nil: the main one). Cached
// cty forms of the traits are typed by an engine's schema, so they go.
func (r *run) use(j *journey) {
	e := r.main
	if j != nil {
		e = j.eng
	}
	if r.e != e {
		r.e = e
		r.ctx.Functions = e.funcs
		r.traitsChanged()
	}
}

// traitsChanged drops the cached cty forms of the traits.
func (r *run) traitsChanged() {
	r.custOK = false
	clear(r.traitOK)
}

// Step handles one input for one customer at time now, changing c in place,
// and returns what happened. It is deterministic: the same program, state,
// input and now give the same state and the same result.
//
// In order: a redelivered MessageID is a no-op; active instances of an older
// journey version move to the current one (see Migrate); every timer and
// held send due at or before now is handled, in time order, each at its own
// due time; then the input is handled at now, and the events it emits after
// it. Result.NextWake says when to call again with a Wake input.
func (e *Engine) Step(c *Customer, in Input, now time.Time) Result {
	now = now.UTC() // state holds UTC times only, so that it compares and encodes the same everywhere
	if e.seen(c, in.MessageID) {
		return Result{Duplicate: true, NextWake: c.NextWake()}
	}
	r := e.getRun(c, nil, now)
	defer e.putRun(r) // after the return value is copied out of r.own
	res := r.res
	res.Transitions, res.Sends = r.trans[:0], r.sends[:0]
	r.migrate(false)
	r.flush() // a migrated instance may have entered stages that emit
	r.drain(now)
	r.at = now
	res.InputSeq = r.nextSeq()
	switch in.Kind {
	case KindEvent:
		if in.Traits != nil {
			r.identify(in.Traits)
		}
		if in.Event == "" {
			r.errorf(nil, nil, nil, "input", fmt.Errorf("an event input without an event name is ignored"))
			break
		}
		r.depth = 0
		r.event(in.Event, in.Properties)
		r.flush()
	case KindIdentify:
		r.identify(in.Traits)
	case KindSubscription:
		r.subscription(in.Topic, in.Status)
	case KindWake:
		// Timers are handled above: a wake only says time has passed.
	default:
		r.errorf(nil, nil, nil, "input", fmt.Errorf("unknown input kind %q is ignored", in.Kind))
	}
	// Handling the input cannot make anything due at or before now (waits
	// already past fire at once), but a second pass costs one scan and
	// keeps the rule "nothing due is left behind" obviously true.
	r.drain(now)
	r.pruneSends()
	res.NextWake = c.NextWake()
	r.trans, r.sends = res.Transitions, res.Sends
	res.Transitions, res.Sends = exact(res.Transitions), exact(res.Sends)
	clear(r.trans) // the pooled scratch must not keep this customer's strings alive
	clear(r.sends)
	return *res
}

// exact copies a scratch slice into one of its exact length, nil when empty.
func exact[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// seen records a message id and reports whether it was already there.
func (e *Engine) seen(c *Customer, id string) bool {
	if id == "" || e.opts.DedupWindow < 0 {
		return false
	}
	if slices.Contains(c.Seen, id) {
		return true
	}
	c.Seen = append(c.Seen, id)
	if over := len(c.Seen) - e.opts.DedupWindow; over > 0 {
		c.Seen = append(c.Seen[:0], c.Seen[over:]...)
	}
	return false
}

// identify merges traits; a nil value removes a trait.
func (r *run) identify(traits map[string]any) {
	if len(traits) == 0 {
		return
	}
	if r.c.Traits == nil {
		r.c.Traits = make(map[string]any, len(traits))
	}
	for k, v := range traits {
		if k == "id" {
			continue // the id is the customer's key, not a trait
		}
		if v == nil {
			delete(r.c.Traits, k)
		} else {
			r.c.Traits[k] = v
		}
	}
	r.traitsChanged()
}

// maxDrain bounds the timers and held sends one Step handles. Each timer
// moves its instance (and the step limit ends runaway instances) and each
// release either sends or holds until strictly later, so the loop ends on
// its own; the bound only makes that obvious.
const maxDrain = 100000

// drain handles every timer and held send due at or before until, earliest
// first, each at its own due time. At equal times held sends go first (they
// were due before the timer was set), then timers in instance order and,
// within an instance, in the stage's order: after blocks, then at blocks.
func (r *run) drain(until time.Time) {
	for range maxDrain {
		var (
			due   time.Time
			held  = -1
			inst  *Instance
			which = -1
		)
		for i := range r.c.Held {
			if d := r.c.Held[i].DueAt; held < 0 || d.Before(due) {
				due, held = d, i
			}
		}
		for _, in := range r.c.Instances {
			if !in.Active() {
				continue
			}
			for k, w := range in.Waits {
				if (held < 0 && inst == nil) || w.Due.Before(due) {
					due, held, inst, which = w.Due, -1, in, k
				}
			}
		}
		if (held < 0 && inst == nil) || due.After(until) {
			return
		}
		r.at = due
		r.depth = 0
		if inst != nil {
			r.fire(inst, which)
		} else {
			r.release(held)
		}
		r.use(nil)
		r.flush()
	}
	r.errorf(nil, nil, nil, "timers", fmt.Errorf("more than %d timers due in one step; the rest wait for the next", maxDrain))
}

// fire takes the transition of a due wait.
func (r *run) fire(in *Instance, k int) {
	j, st := r.journeyOf(in), (*stage)(nil)
	if j != nil {
		st = j.stages[in.Stage]
	}
	w := in.Waits[k]
	switch {
	case st != nil && w.Kind == WaitAfter && w.Index < len(st.afters):
		a := st.afters[w.Index]
		r.enter(in, j, a.next, a.cause)
	case st != nil && w.Kind == WaitAt && w.Index < len(st.ats):
		r.enter(in, j, st.ats[w.Index].next, "at")
	default:
		// Migration keeps waits in step with the program, so this is a
		// state written by something else: drop the wait, say so.
		in.Waits = slices.Delete(in.Waits, k, k+1)
		r.errorf(j, in, nil, "timer", fmt.Errorf("wait %s #%d does not exist in stage %q; dropped", w.Kind, w.Index, in.Stage))
	}
}

// event handles one event: goals and exits of every active instance, then
// the `on` transitions of their current stages, then entries.
func (r *run) event(name string, props map[string]any) {
	// One event is handled at a time (emits are queued, not recursive), so
	// the run's event record is reused.
	r.ev = event{name: name, props: props}
	ev := &r.ev
	c := r.c
	// Metric responses first, so each is attributed to the stage its
	// instances were in when the event arrived, before it moves them.
	for _, m := range r.main.metrics[name] {
		r.respond(m, ev)
	}
	// Goals and exits first, wherever the customer is: a customer who
	// converted must not get the next nudge. A goal wins over an exit on the
	// same event.
	for _, in := range c.Instances {
		if !in.Active() {
			continue
		}
		j := r.journeyOf(in)
		if j == nil {
			continue // not reached: migrate ends instances of removed journeys
		}
		sc := scope{inst: in, ev: ev}
		if t := r.match(j.goals, name, sc, j, "goal "); t != nil {
			r.finish(in, j, StatusConverted, t.cause)
		} else if t := r.match(j.exits, name, sc, j, "exit "); t != nil {
			r.finish(in, j, StatusExited, t.cause)
		}
	}
	// Then the `on` transitions of the instances active now: each instance
	// moves at most once per event, and instances this event admits below
	// do not see it.
	for _, in := range c.Instances {
		if !in.Active() {
			continue
		}
		j := r.journeyOf(in)
		if j == nil || j.stages[in.Stage] == nil {
			continue // not reached: migrate keeps instances on existing stages
		}
		st := j.stages[in.Stage]
		for _, o := range st.ons {
			if o.event == name && r.cond(o.when, scope{inst: in, ev: ev}, j, "on ", name) {
				r.enter(in, j, o.next, o.cause)
				break
			}
		}
	}
	// Then entries, journey by journey in program order, always into the
	// program's version.
	r.use(nil)
	for _, g := range r.main.entries[name] {
		j := g.j
		t := r.match(g.triggers, name, scope{ev: ev}, j, "entry ")
		if t == nil {
			continue
		}
		prev := c.Instance(j.name)
		if prev != nil && prev.Active() {
			r.refuse(j, name, RefusedActive, "instance "+prev.ID+" is active")
			continue
		}
		if prev != nil {
			switch j.reentry.Kind {
			case ir.ReentryAlways:
			case ir.ReentryAfter:
				if open := prev.EndedAt.Add(time.Duration(j.reentry.AfterSeconds) * time.Second); r.at.Before(open) {
					r.refuse(j, name, RefusedReentry, "re-entry after "+formatSeconds(j.reentry.AfterSeconds)+" of the previous instance's end: not before "+open.Format(time.RFC3339))
					continue
				}
			default: // never, the default
				r.refuse(j, name, RefusedReentry, "re-entry is never allowed and instance "+prev.ID+" exists")
				continue
			}
		}
		if by := r.suppressor(j); by != "" {
			r.refuse(j, name, RefusedSuppressed, "the customer is in journey "+by)
			continue
		}
		r.start(j, prev, t, props)
	}
}

// respond records one response to a metric: one Response per active
// instance of the customer, in the stage it is in now, or one with no
// journey when the customer is in none, so that no answer is lost. A value
// that fails or is not a number is an Error, not a response.
func (r *run) respond(m *metric, ev *event) {
	v, err := r.eval(m.value, scope{ev: ev})
	if err == nil && (v.IsNull() || !v.IsKnown() || v.Type() != cty.Number) {
		err = fmt.Errorf("the value must be a number, got %s", ctyTypeName(v))
	}
	var f float64
	if err == nil {
		f, _ = v.AsBigFloat().Float64()
		if math.IsInf(f, 0) {
			err = fmt.Errorf("the value %s is too large", v.AsBigFloat().Text('g', 6))
		}
	}
	if err != nil {
		rng := m.value.rng
		r.errorf(nil, nil, &rng, "metric "+m.name, err)
		return
	}
	n := 0
	for _, in := range r.c.Instances {
		if !in.Active() {
			continue
		}
		n++
		r.res.Responses = append(r.res.Responses, Response{Seq: r.nextSeq(), Metric: m.name, Journey: in.Journey, Instance: in.ID, Stage: in.Stage, Value: f, At: r.at,
			Entered: in.EnteredAt})
	}
	if n == 0 {
		r.res.Responses = append(r.res.Responses, Response{Seq: r.nextSeq(), Metric: m.name, Value: f, At: r.at})
	}
}

func ctyTypeName(v cty.Value) string {
	switch {
	case v == cty.NilVal || v.IsNull():
		return "null"
	case !v.IsKnown():
		return "an unknown value"
	}
	return "a " + v.Type().FriendlyName()
}

// match returns the first trigger for name whose `when` holds, or nil.
func (r *run) match(ts []trigger, name string, sc scope, j *journey, what string) *trigger {
	for k := range ts {
		if t := &ts[k]; t.event == name && r.cond(t.when, sc, j, what, name) {
			return t
		}
	}
	return nil
}

func (r *run) refuse(j *journey, event, reason, detail string) {
	r.res.Refusals = append(r.res.Refusals, Refusal{Seq: r.nextSeq(), Journey: j.name, Event: event, Reason: reason, Detail: detail, At: r.at})
}

// start creates an instance (in the slot of the previous one, if any) and
// enters the journey's first stage.
func (r *run) start(j *journey, prev *Instance, t *trigger, props map[string]any) {
	seq := 1
	if prev != nil {
		seq = prev.Seq + 1
	}
	if last := r.c.Seqs[j.name]; last >= seq {
		seq = last + 1 // runs a merge took away used the ids up to last
	}
	in := newInstance(j.maxWaits)
	*in = Instance{
		ID:         r.c.ID + "/" + j.name + "/" + itoa(seq),
		Journey:    j.name,
		Version:    j.version,
		Seq:        seq,
		Status:     StatusActive,
		EnteredAt:  r.at,
		EntryEvent: t.event,
		Entry:      props, // kept, not copied: see Input.Properties
		Waits:      in.Waits,
	}
	if i := slices.Index(r.c.Instances, prev); prev != nil && i >= 0 {
		r.c.Instances[i] = in
	} else {
		r.c.Instances = append(r.c.Instances, in)
	}
	r.enter(in, j, j.start, t.cause)
}

// newInstance allocates an Instance and room for n waits in one piece:
// most instances set a timer in their first stage, and growing Waits from
// nil would be a second allocation. Waits has length 0 and capacity n.
func newInstance(n int) *Instance {
	switch n {
	case 0:
		return &Instance{}
	case 1:
		a := &struct {
			in    Instance
			waits [1]Wait
		}{}
		a.in.Waits = a.waits[:0]
		return &a.in
	case 2:
		a := &struct {
			in    Instance
			waits [2]Wait
		}{}
		a.in.Waits = a.waits[:0]
		return &a.in
	}
	return &Instance{Waits: make([]Wait, 0, n)}
}

// enter moves an instance into a stage (nil: the end), runs the stage's
// actions, and follows immediate transitions (and waits already due) until
// the instance waits or ends.
func (r *run) enter(in *Instance, j *journey, to *stage, cause string) {
	for {
		if to == nil {
			r.finish(in, j, StatusCompleted, cause)
			return
		}
		in.steps++
		if in.steps > r.e.opts.MaxSteps {
			r.errorf(j, in, nil, "step limit", fmt.Errorf("more than %d stage entries in one step (last: %s to %s by %s); the instance is ended", r.e.opts.MaxSteps, in.Stage, to.name, cause))
			r.finish(in, j, StatusExited, "step_limit")
			return
		}
		in.Visit++ // before the transition, which records the entries after it
		r.transition(in, to.name, cause, StatusActive)
		in.Stage, in.StageEnteredAt, in.Waits = to.name, r.at, in.Waits[:0]
		for k := range to.actions {
			r.act(in, j, to, &to.actions[k])
		}
		next, why, waits := r.leave(in, j, to)
		if waits {
			return
		}
		to, cause = next, why
	}
}

// leave decides how an instance that has just run a stage's actions leaves
// it: the next stage (nil: the end) and the cause, or waits = true when it
// stays, with its timers set.
func (r *run) leave(in *Instance, j *journey, st *stage) (next *stage, cause string, waits bool) {
	switch st.kind {
	case ir.TransitionGoto:
		return st.next, "goto", false
	case ir.TransitionBranch:
		for k, b := range st.branches {
			if r.cond(b.when, scope{inst: in}, j, "branch ", itoa(k+1)) {
				return b.next, b.cause, false
			}
		}
		// New checks that the last branch has no when, so this is not reached.
		return nil, "branch:none", false
	case ir.TransitionSplit:
		v := st.pick(r.c.ID, j.name)
		return v.next, v.cause, false
	case ir.TransitionWait:
		k, ok := r.setWaits(in, j, st)
		if r.noWayOut(in, st) {
			r.finish(in, j, StatusExited, CauseBadTime)
			return nil, "", true
		}
		if ok {
			w := in.Waits[k]
			if w.Kind == WaitAfter {
				return st.afters[w.Index].next, st.afters[w.Index].cause, false
			}
			return st.ats[w.Index].next, "at", false
		}
		return nil, "", true
	}
	return nil, "complete", false // a stage without a transition completes the journey
}

// setWaits computes the stage's timers. It returns the wait to take at once,
// if one is already due: an at whose time has passed (the earliest such
// time wins; ties go to source order, afters first) or an after of zero.
func (r *run) setWaits(in *Instance, j *journey, st *stage) (int, bool) {
	best, bestAt := -1, time.Time{}
	consider := func(k int, t time.Time) {
		if !t.After(r.at) && (best < 0 || t.Before(bestAt)) {
			best, bestAt = k, t
		}
	}
	for k, a := range st.afters {
		due := r.at.Add(a.d)
		in.Waits = append(in.Waits, Wait{Kind: WaitAfter, Index: k, Due: due})
		consider(len(in.Waits)-1, due)
	}
	for k := range st.ats {
		t, ok := r.atTime(in, j, &st.ats[k])
		if !ok {
			continue
		}
		due := t
		if due.Before(r.at) {
			due = r.at // a time already past fires now
		}
		in.Waits = append(in.Waits, Wait{Kind: WaitAt, Index: k, Due: due, Src: st.ats[k].src})
		consider(len(in.Waits)-1, t)
	}
	return best, best >= 0
}

// CauseBadTime is the cause of the exit of an instance left waiting with
// no way out: its stage's at times all failed to evaluate, and it has no
// after and no on (see noWayOut).
const CauseBadTime = "bad_time"

// noWayOut reports whether an instance waiting in st could never leave it:
// the stage has ats, none of which gave a time, and no after or on. Such an
// instance would stay active for ever; it is exited with CauseBadTime
// instead (the failed times are recorded as errors by atTime). With another
// wait the stage still runs it, and the bad at is only ignored.
func (r *run) noWayOut(in *Instance, st *stage) bool {
	return len(st.ats) > 0 && len(in.Waits) == 0 && len(st.ons) == 0
}

// atTime evaluates an at block's time. An error is recorded and the wait
// ignored: the stage still waits for its other transitions (if it has
// none, noWayOut exits the instance).
func (r *run) atTime(in *Instance, j *journey, a *at) (time.Time, bool) {
	s, err := r.value(a.time, scope{inst: in})
	if err == nil {
		str, isString := s.(string)
		switch {
		case !isString:
			err = fmt.Errorf("the time is %v, not an RFC 3339 string", s)
		default:
			var t time.Time
			if t, err = time.Parse(time.RFC3339, str); err == nil {
				return t.UTC(), true
			}
		}
	}
	r.errorf(j, in, &a.time.rng, "at time", fmt.Errorf("%v; this wait is ignored", err))
	return time.Time{}, false
}

// finish ends an instance. Held sends of an instance that ends by a goal or
// an exit (or that the engine exits) are dropped now: they are messages
// for a customer the journey is done with.
func (r *run) finish(in *Instance, j *journey, status, cause string) {
	r.transition(in, ir.End, cause, status)
	in.Status, in.Cause, in.EndedAt, in.Waits = status, cause, r.at, nil
	if status == StatusCompleted {
		return
	}
	for k := 0; k < len(r.c.Held); {
		if r.c.Held[k].Instance != in.ID {
			k++
			continue
		}
		s := r.c.Held[k]
		r.c.Held = slices.Delete(r.c.Held, k, k+1)
		s.Fate, s.Reason, s.At, s.DueAt = FateDropped, "instance "+status+" ("+cause+") before the send was released", r.at, time.Time{}
		s.Seq, s.Entered = r.nextSeq(), in.EnteredAt
		r.res.Sends = append(r.res.Sends, s)
	}
}

// transition records a move of in from its stage to to (a stage or the
// end), with the analytics context the store's tallies need, and keeps the
// instance's Visited and Splits. Callers that count a stage entry have
// already counted it in in.Visit; they set the instance's stage after.
func (r *run) transition(in *Instance, to, cause, status string) {
	t := moveOf(in, to, cause, status, r.at)
	t.Seq = r.nextSeq()
	r.res.Transitions = append(r.res.Transitions, t)
}

// moveOf is the transition of in from its stage to to at at, stamped with
// its analytics context (see Transition), and it updates in.Visited and
// in.Splits for the move:
//   - a move to a stage not in Visited appends it there (First);
//   - a move out of a stage whose cause is "split:VARIANT" assigns the
//     variant to that stage when it has none yet; the transition's Splits
//     then holds that one assignment (a move to a stage) or the
//     assignments from before it (a move to the end, so that a reader can
//     tell the assignment is new: the stage is not there);
//   - a move to the end carries the instance's Visited and Splits.
//
// A note of where the instance is (a merge's or a migration's, from its
// stage to itself) changes nothing; a stage's own move to itself is an
// entry like any other.
func moveOf(in *Instance, to, cause, status string, at time.Time) Transition {
	t := Transition{
		Instance: in.ID, Journey: in.Journey, Version: in.Version,
		From: in.Stage, To: to, Cause: cause, Status: status, At: at,
		Entered: in.EnteredAt, Visit: in.Visit,
	}
	if in.Stage != "" {
		t.Since = in.StageEnteredAt
	}
	if in.Stage == to && (cause == CauseMerged || cause == causeMigrate) {
		return t // a note of where the instance is, not a move
	}
	newSplit := ""
	if variant, ok := strings.CutPrefix(cause, "split:"); ok && in.Stage != "" && in.Stage != to {
		if _, seen := in.Splits[in.Stage]; !seen {
			newSplit = variant
		}
	}
	if to == ir.End {
		t.Visited, t.Splits = in.Visited, in.Splits
		if newSplit != "" && in.Splits != nil {
			t.Splits = maps.Clone(in.Splits) // the assignments from before this move
		}
	} else if !slices.Contains(in.Visited, to) {
		in.Visited = append(in.Visited, to)
		t.First = true
	}
	if newSplit != "" {
		if in.Splits == nil {
			in.Splits = map[string]string{}
		}
		in.Splits[in.Stage] = newSplit
		if to != ir.End {
			t.Splits = map[string]string{in.Stage: newSplit}
		}
	}
	return t
}

// act runs one action of a stage.
func (r *run) act(in *Instance, j *journey, st *stage, a *action) {
	switch a.kind {
	case ir.ActionSend:
		r.send(in, j, st, a)
	case ir.ActionUpdate:
		// Each trait is set as soon as it is computed: later traits of the
		// same update, and later actions, see the new value. A trait that
		// fails keeps its old value.
		for _, f := range a.fields {
			g, err := r.value(f.expr, scope{inst: in})
			if err == nil {
				err = checkSize(g)
			}
			if err != nil {
				r.errorf(j, in, &f.expr.rng, "update "+f.name, fmt.Errorf("%v; the trait keeps its value", err))
				continue
			}
			if r.c.Traits == nil {
				r.c.Traits = map[string]any{}
			}
			if g == nil {
				delete(r.c.Traits, f.name)
			} else {
				r.c.Traits[f.name] = g
			}
			r.traitsChanged()
		}
	case ir.ActionEmit:
		r.emit(in, j, st, a)
	}
}

// emit queues an event for this customer, handled after the current one.
func (r *run) emit(in *Instance, j *journey, st *stage, a *action) {
	var props map[string]any
	if a.props != nil {
		v, err := r.eval(a.props, scope{inst: in})
		var g any
		if err == nil {
			g, err = fromCty(v)
		}
		if err == nil && g != nil {
			var isMap bool
			if props, isMap = g.(map[string]any); !isMap {
				err = fmt.Errorf("properties must be an object, not %T", g)
			}
		}
		if err != nil {
			r.errorf(j, in, &a.props.rng, "emit "+a.event, fmt.Errorf("%v; the event is not emitted", err))
			return
		}
	}
	rec := Emitted{Event: a.event, Properties: props, Journey: j.name, Instance: in.ID, Stage: st.name, Depth: r.depth + 1, At: r.at}
	if rec.Depth > r.e.opts.MaxEmitDepth {
		rec.Dropped = fmt.Sprintf("emit depth %d is over the limit of %d", rec.Depth, r.e.opts.MaxEmitDepth)
		rec.Seq = r.nextSeq()
		r.res.Emitted = append(r.res.Emitted, rec)
		r.errorf(j, in, nil, "emit "+a.event, fmt.Errorf("%s; the event is dropped", rec.Dropped))
		return
	}
	rec.Seq = r.nextSeq()
	r.res.Emitted = append(r.res.Emitted, rec)
	r.queue = append(r.queue, queued{name: a.event, props: props, depth: rec.Depth, record: len(r.res.Emitted) - 1})
}

// flush handles the queued emitted events in the order they were emitted
// (breadth first), at the current time.
func (r *run) flush() {
	for k := 0; k < len(r.queue); k++ {
		q := r.queue[k]
		r.emitted++
		if r.emitted > r.e.opts.MaxSteps {
			rec := &r.res.Emitted[q.record]
			rec.Dropped = fmt.Sprintf("more than %d emitted events in one step", r.e.opts.MaxSteps)
			r.errorf(r.main.byName[rec.Journey], nil, nil, "emit "+q.name, fmt.Errorf("%s; the event is dropped", rec.Dropped))
			continue
		}
		r.depth = q.depth
		r.event(q.name, q.props)
	}
	r.queue = r.queue[:0]
	r.depth = 0
}

// pruneSends forgets send times no cap counts any more: those of policies
// that are gone or have no cap now (after a reload).
func (r *run) pruneSends() {
	for name := range r.c.Sends {
		if p := r.main.policy(name); p == nil || p.cap == nil {
			delete(r.c.Sends, name)
		}
	}
}

func (r *run) errorf(j *journey, in *Instance, rng *ir.Range, where string, err error) {
	e := Error{At: r.at, Where: where, Range: rng, Message: err.Error()}
	if j != nil {
		e.Journey = j.name
	}
	if in != nil {
		e.Instance, e.Stage = in.ID, in.Stage
		if e.Journey == "" {
			e.Journey = in.Journey
		}
	}
	e.Seq = r.nextSeq()
	r.res.Errors = append(r.res.Errors, e)
}

func formatSeconds(s int64) string {
	return timespec.FormatDuration(time.Duration(s) * time.Second)
}

// nextSeq numbers the next record of the Result: one more than the records
// it holds, so a Result's records can be put back in the order they
// happened.
func (r *run) nextSeq() int {
	res := r.res
	return len(res.Transitions) + len(res.Sends) + len(res.Refusals) + len(res.Errors) + len(res.Emitted) + len(res.Responses) + 1
}
