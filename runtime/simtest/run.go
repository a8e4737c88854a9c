package simtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// Result is the outcome of one test.
type Result struct {
	Name     string
	Def      hcl.Range // the test's label
	Duration time.Duration
	Failures []Failure
	// Path is everything that happened to the customer, in order: the
	// failure report prints it.
	Path []Happening
	// Reached holds the transitions the test made, for coverage.
	Reached []engine.Transition
	zone    *time.Location
}

// Passed reports whether every step held.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// Failure is a step that did not hold.
type Failure struct {
	Step     hcl.Range
	Message  string // what was checked, e.g. `status of journey "x"`
	Expected string
	Actual   string
}

// Happening is one line of the customer's path.
type Happening struct {
	At   time.Time
	Kind string // "step", "transition", "send", "refusal", "error"
	Text string
}

// runner runs one test.
type runner struct {
	eng   *engine.Engine
	test  *lang.Test
	funcs *hcl.EvalContext
	res   *Result
	c     *engine.Customer
	now   time.Time
	span  []engine.Send // sends delivered since the previous expect
	// unsubscribed are the sends dropped as unsubscribed since then.
	unsubscribed []engine.Send
	failed       bool
}

// Run runs one test on eng. It never panics on a malformed test: a step
// that cannot run is a failure at that step.
func Run(eng *engine.Engine, t *lang.Test) *Result {
	r := &runner{
		eng:   eng,
		test:  t,
		funcs: &hcl.EvalContext{Functions: lang.Functions(lang.FuncHooks{})},
		res:   &Result{Name: t.Name.Value, Def: t.Name.Range, zone: time.UTC},
	}
	began := time.Now()
	r.run()
	r.res.Duration = time.Since(began)
	return r.res
}

func (r *runner) fail(step hcl.Range, message, expected, actual string) {
	r.res.Failures = append(r.res.Failures, Failure{Step: step, Message: message, Expected: expected, Actual: actual})
}

func (r *runner) run() {
	t := r.test
	if t.Start == nil || t.Customer == nil {
		r.fail(t.DefRange, "test setup", "`start` and `customer`", "missing")
		return
	}
	start, ok := r.startTime()
	if !ok {
		return
	}
	r.now = start.UTC()
	r.res.zone = start.Location()
	traits, ok := r.object(t.Customer, "customer")
	if !ok {
		return
	}
	id, _ := traits["id"].(string)
	if id == "" {
		r.fail(t.Customer.Range, "customer", "an `id` string", fmt.Sprintf("%v", traits["id"]))
		return
	}
	delete(traits, "id")
	r.c = &engine.Customer{ID: id, Traits: traits}
	for _, st := range t.Steps {
		switch st := st.(type) {
		case *lang.EventStep:
			props, ok := r.attrs(st.Properties)
			if !ok {
				return
			}
			r.note(st.DefRange, "event %s%s", st.Event.Value, formatProps(props))
			r.step(engine.Input{Kind: engine.KindEvent, Event: st.Event.Value, Properties: props})
		case *lang.IdentifyStep:
			traits, ok := r.attrs(st.Traits)
			if !ok {
				return
			}
			r.note(st.DefRange, "identify%s", formatProps(traits))
			r.step(engine.Input{Kind: engine.KindIdentify, Traits: traits})
		case *lang.SubscriptionStep:
			if st.Topic == nil || st.Status == nil {
				r.fail(st.DefRange, "subscription", "`topic` and `status`", "missing")
				return
			}
			topic, ok1 := r.str(st.Topic)
			status, ok2 := r.str(st.Status)
			if !ok1 || !ok2 {
				return
			}
			r.note(st.DefRange, "subscription %s %s", topic, status)
			r.step(engine.Input{Kind: engine.KindSubscription, Topic: topic, Status: status})
		case *lang.WaitStep:
			d, err := timespec.ParseDuration(st.Duration.Value)
			if err != nil {
				r.fail(st.DefRange, "wait", "a duration", err.Error())
				return
			}
			r.note(st.DefRange, "wait %s", st.Duration.Value)
			r.advance(r.now.Add(d))
		case *lang.ExpectStep:
			r.expect(st)
			r.span, r.unsubscribed = nil, nil
		}
	}
}

func (r *runner) startTime() (time.Time, bool) {
	v, ok := lang.StaticString(r.test.Start.Expr)
	if !ok {
		r.fail(r.test.Start.Range, "start", "an RFC 3339 string", "an expression")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		r.fail(r.test.Start.Range, "start", "an RFC 3339 time", v)
		return time.Time{}, false
	}
	return t, true
}

// advance moves the clock to until, waking the customer at every due time
// on the way so that each timer fires at its own moment.
func (r *runner) advance(until time.Time) {
	for guard := 0; guard < 100000; guard++ {
		next := r.c.NextWake()
		if next.IsZero() || next.After(until) {
			break
		}
		if next.Before(r.now) {
			next = r.now
		}
		r.now = next
		r.step(engine.Input{Kind: engine.KindWake})
	}
	r.now = until
}

func (r *runner) step(in engine.Input) {
	res := r.eng.Step(r.c, in, r.now)
	// The engine numbers every record of a Result in the order it happened;
	// put them back in that order so the path reads as the story it is.
	var happened []seqHappening
	add := func(seq int, h Happening) { happened = append(happened, seqHappening{seq, h}) }
	for _, tr := range res.Transitions {
		r.res.Reached = append(r.res.Reached, tr)
		to := tr.To
		if tr.To == "end" {
			to = "end (" + tr.Status + ")"
		}
		from := tr.From
		if from == "" {
			from = "∅"
		}
		add(tr.Seq, Happening{At: tr.At, Kind: "transition", Text: fmt.Sprintf("%s: %s → %s (%s)", tr.Journey, from, to, tr.Cause)})
	}
	for _, s := range res.Sends {
		text := fmt.Sprintf("%s: send %s via %s: %s", s.Journey, s.Name, s.Channel, s.Fate)
		switch s.Fate {
		case engine.FateDeliver:
			r.span = append(r.span, s)
		case engine.FateUnsubscribed:
			r.unsubscribed = append(r.unsubscribed, s)
		case engine.FateHeld:
			text += " until " + s.DueAt.In(r.res.zone).Format(time.RFC3339)
		}
		if s.Reason != "" {
			text += " (" + s.Reason + ")"
		}
		add(s.Seq, Happening{At: s.At, Kind: "send", Text: text})
	}
	for _, rf := range res.Refusals {
		add(rf.Seq, Happening{At: rf.At, Kind: "refusal", Text: fmt.Sprintf("%s: entry on %s refused: %s", rf.Journey, rf.Event, rf.Reason)})
	}
	for _, e := range res.Errors {
		add(e.Seq, Happening{At: e.At, Kind: "error", Text: e.Error()})
	}
	sort.Slice(happened, func(i, j int) bool { return happened[i].seq < happened[j].seq })
	for _, h := range happened {
		r.res.Path = append(r.res.Path, h.Happening)
	}
}

type seqHappening struct {
	seq int
	Happening
}

func (r *runner) note(at hcl.Range, format string, args ...any) {
	r.res.Path = append(r.res.Path, Happening{At: r.now, Kind: "step",
		Text: fmt.Sprintf("%s:%d: ", at.Filename, at.Start.Line) + fmt.Sprintf(format, args...)})
}

func (r *runner) expect(st *lang.ExpectStep) {
	journey := ""
	if st.Journey != nil {
		journey, _ = r.str(st.Journey)
	}
	var inst *engine.Instance
	if journey != "" {
		inst = r.c.Instance(journey)
	}
	status := "none"
	if inst != nil {
		status = inst.Status
	}
	if st.Status != nil {
		if want, ok := r.str(st.Status); ok && want != status {
			actual := status
			if inst != nil && inst.Active() {
				actual += fmt.Sprintf(" (in stage %q)", inst.Stage)
			} else if inst != nil {
				actual += fmt.Sprintf(" (cause %s)", inst.Cause)
			}
			r.fail(st.Status.Range, fmt.Sprintf("status of journey %q", journey), want, actual)
		}
	}
	if st.Stage != nil {
		if want, ok := r.str(st.Stage); ok {
			actual := "not in the journey"
			if inst != nil && inst.Active() {
				actual = inst.Stage
			} else if inst != nil {
				actual = fmt.Sprintf("none: the instance is %s (last stage %q)", inst.Status, inst.Stage)
			}
			if inst == nil || !inst.Active() || inst.Stage != want {
				r.fail(st.Stage.Range, fmt.Sprintf("stage of journey %q", journey), want, actual)
			}
		}
	}
	var sent []string
	for _, s := range r.span {
		if journey == "" || s.Journey == journey {
			sent = append(sent, s.Name)
		}
	}
	if st.Sent != nil {
		if want, ok := r.strings(st.Sent); ok && strings.Join(want, "\x00") != strings.Join(sent, "\x00") {
			what := "sends since the previous expect"
			if journey != "" {
				what = fmt.Sprintf("sends of journey %q since the previous expect", journey)
			}
			r.fail(st.Sent.Range, what, listString(want), listString(sent))
		}
	}
	if st.Unsubscribed != nil {
		var dropped []string
		for _, s := range r.unsubscribed {
			if journey == "" || s.Journey == journey {
				dropped = append(dropped, s.Name)
			}
		}
		if want, ok := r.strings(st.Unsubscribed); ok && strings.Join(want, "\x00") != strings.Join(dropped, "\x00") {
			r.fail(st.Unsubscribed.Range, "sends dropped as unsubscribed since the previous expect", listString(want), listString(dropped))
		}
	}
	if st.NotSent != nil {
		if notWant, ok := r.strings(st.NotSent); ok {
			var bad []string
			for _, n := range notWant {
				for _, s := range sent {
					if s == n {
						bad = append(bad, n)
						break
					}
				}
			}
			if len(bad) > 0 {
				r.fail(st.NotSent.Range, "sends that must not happen", "none of "+listString(notWant), "sent "+listString(bad))
			}
		}
	}
}

func listString(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	return "[" + strings.Join(l, ", ") + "]"
}

func formatProps(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m) // maps marshal with sorted keys
	return " " + string(b)
}

// value evaluates a test value: data and functions, no variables.
func (r *runner) value(a *lang.Attr) (cty.Value, bool) {
	v, diags := a.Expr.Value(r.funcs)
	if diags.HasErrors() {
		r.fail(a.Range, a.Name, "a value", diags.Error())
		return cty.NilVal, false
	}
	return v, true
}

func (r *runner) str(a *lang.Attr) (string, bool) {
	v, ok := r.value(a)
	if !ok {
		return "", false
	}
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		r.fail(a.Range, a.Name, "a string", v.GoString())
		return "", false
	}
	return v.AsString(), true
}

func (r *runner) strings(a *lang.Attr) ([]string, bool) {
	v, ok := r.value(a)
	if !ok {
		return nil, false
	}
	var out []string
	if !v.CanIterateElements() {
		r.fail(a.Range, a.Name, "a list of strings", v.GoString())
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || e.IsNull() {
			r.fail(a.Range, a.Name, "a list of strings", v.GoString())
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// object evaluates an object-valued attribute into JSON values.
func (r *runner) object(a *lang.Attr, what string) (map[string]any, bool) {
	v, ok := r.value(a)
	if !ok {
		return nil, false
	}
	m, err := toJSON(v)
	obj, isObj := m.(map[string]any)
	if err != nil || !isObj {
		r.fail(a.Range, what, "an object", v.GoString())
		return nil, false
	}
	return obj, true
}

// attrs evaluates a step's attributes into JSON values.
func (r *runner) attrs(as []*lang.Attr) (map[string]any, bool) {
	out := make(map[string]any, len(as))
	for _, a := range as {
		v, ok := r.value(a)
		if !ok {
			return nil, false
		}
		j, err := toJSON(v)
		if err != nil {
			r.fail(a.Range, a.Name, "a value", err.Error())
			return nil, false
		}
		out[a.Name] = j
	}
	return out, true
}

// toJSON turns a cty value into the JSON values the engine takes.
func toJSON(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}
