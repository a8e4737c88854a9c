package compiler

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// resolve declares every name, then checks every reference by name:
// policies, channels, journeys, stages, events and time strings.
func (c *checker) resolve() {
	c.declareSchema()
	c.declareChannels()
	c.declareTopics()
	c.declarePolicies()
	c.declareJourneys()
	for _, p := range c.ws.Policies {
		if pol := c.policies[p.Name.Value]; pol != nil && pol.decl == p {
			c.resolvePolicy(pol)
		}
	}
	for _, j := range c.ws.Journeys {
		if jr := c.journeys[j.Name.Value]; jr != nil && jr.decl == j {
			c.resolveJourney(jr)
		}
	}
	c.resolveJourneyMoves()
	c.resolveMetrics()
}

func (c *checker) declareSchema() {
	seen := map[string]*Symbol{"id": nil}
	for _, cust := range c.ws.Customers {
		c.customerDeclared = true
		for _, t := range cust.Traits {
			if t.Name.Value == "id" {
				c.errorf(t.Name.Range, "Reserved trait name", "`id` is always a customer's identifier, a string; it need not be declared. Remove this trait.")
				continue
			}
			sym := c.declare(SymTrait, "", t.Name, &t.Node, t, seen)
			if sym == nil {
				continue
			}
			f := &field{decl: t, typ: c.fieldType(t), sym: sym}
			c.traits[t.Name.Value] = f
			c.traitOrder = append(c.traitOrder, f)
		}
	}
	seenEvents := map[string]*Symbol{}
	for _, e := range c.ws.Events {
		c.eventsDeclared = true
		sym := c.declare(SymEvent, "", e.Name, &e.Node, e, seenEvents)
		if sym == nil {
			continue
		}
		ev := &event{decl: e, sym: sym, props: map[string]*field{}}
		seenProps := map[string]*Symbol{}
		for _, p := range e.Properties {
			psym := c.declare(SymProperty, e.Name.Value, p.Name, &p.Node, p, seenProps)
			if psym == nil {
				continue
			}
			f := &field{decl: p, typ: c.fieldType(p), sym: psym}
			ev.props[p.Name.Value] = f
			ev.order = append(ev.order, f)
		}
		c.events[e.Name.Value] = ev
	}
}

// fieldType reads a declared type; a missing or invalid one is reported
// (missing by the loader) and treated as any.
func (c *checker) fieldType(f *lang.Field) cty.Type {
	if f.Type == nil {
		return cty.DynamicPseudoType
	}
	t, diags := typeexpr.TypeConstraint(f.Type.Expr)
	if diags.HasErrors() {
		for _, d := range diags {
			d.Detail += " Types are written as HCL type expressions: string, number, bool, list(string), map(string), object({...}) or any."
		}
		c.addDiags(diags)
		return cty.DynamicPseudoType
	}
	return t
}

func (c *checker) declareChannels() {
	seen := map[string]*Symbol{}
	for _, ch := range c.ws.Channels {
		if c.declare(SymChannel, "", ch.Name, &ch.Node, ch, seen) == nil {
			continue
		}
		c.channels[ch.Name.Value] = ch
		if ch.Type == nil {
			continue
		}
		typ, ok := lang.StaticString(ch.Type.Expr)
		if !ok {
			c.errorf(ch.Type.Expr.Range(), "Channel type must be a string literal",
				"The type decides which fields sends take, so it must be written out: one of %s.", quoteList(lang.ChannelTypes))
			continue
		}
		if !contains(lang.ChannelTypes, typ) {
			c.errorf(ch.Type.Expr.Range(), "Unknown channel type",
				"%q is not a channel type.%s", typ, suggest.Hint(typ, lang.ChannelTypes, "Channel types: "))
			continue
		}
		c.channelTypes[ch.Name.Value] = typ
		c.checkChannelSettings(ch, typ)
	}
}

func (c *checker) checkChannelSettings(ch *lang.Channel, typ string) {
	chSchema := lang.Schema.Block("channel")
	for _, s := range ch.Settings {
		as := chSchema.Attr(s.Name)
		if as != nil && len(as.ChannelTypes) > 0 && !contains(as.ChannelTypes, typ) {
			c.errorf(s.NameRange, "Setting not taken by this channel type",
				"%s %s channel does not take `%s`; it is a setting of %s channels.", upperFirst(article(typ)), typ, s.Name, strings.Join(as.ChannelTypes, " and "))
		}
		if s.Name == "timeout" {
			if v, ok := lang.StaticString(s.Expr); ok {
				if _, err := timespec.ParseDuration(v); err != nil {
					c.timeError(s.Expr.Range(), v, "Invalid duration", err)
				}
			} else {
				c.errorf(s.Expr.Range(), "Timeout must be a duration string", "Write a duration such as \"10s\" or \"1m\".")
			}
		}
		if s.Name == "password" || s.Name == "secret" || s.Name == "auth_token" {
			if _, literal := lang.StaticString(s.Expr); literal {
				c.errorf(s.Expr.Range(), "Secret written into the file",
					"`%s` must come from the environment, e.g. `%s = env(\"%s\")`: files are committed to Git and compiled into the IR.",
					s.Name, s.Name, strings.ToUpper(ch.Name.Value+"_"+s.Name))
			}
		}
	}
	required := map[string][]string{lang.ChannelSMTP: {"from"}, lang.ChannelWebhook: {"url"}, lang.ChannelTwilio: {"account_sid", "auth_token", "from"}}[typ]
	for _, name := range required {
		if ch.Setting(name) == nil {
			c.errorf(ch.DefRange, "Missing channel setting", "A %s channel needs `%s`.", typ, name)
		}
	}
}

// declareTopics declares the subscription topics and checks each default.
func (c *checker) declareTopics() {
	seen := map[string]*Symbol{}
	for _, t := range c.ws.Topics {
		sym := c.declare(SymTopic, "", t.Name, &t.Node, t, seen)
		if sym == nil {
			continue
		}
		tp := &topic{decl: t, sym: sym, def: lang.Subscribed}
		if a := t.Default; a != nil {
			if v, ok := c.staticString(a, "a subscription status: \"subscribed\" or \"unsubscribed\""); ok {
				if !contains(lang.SubscriptionStatuses, v) {
					c.errorf(a.Expr.Range(), "Invalid topic default",
						"%q is not a subscription status. Write \"subscribed\" (customers get the topic's sends until they unsubscribe) or \"unsubscribed\" (opt-in: nothing until they subscribe).%s",
						v, suggest.Hint(v, lang.SubscriptionStatuses, "Statuses: "))
				} else {
					tp.def = v
				}
			}
		}
		c.topics[t.Name.Value] = tp
	}
}

func (c *checker) declarePolicies() {
	seen := map[string]*Symbol{}
	for _, p := range c.ws.Policies {
		sym := c.declare(SymPolicy, "", p.Name, &p.Node, p, seen)
		if sym == nil {
			continue
		}
		c.policies[p.Name.Value] = &policy{decl: p, sym: sym}
	}
}

func (c *checker) declareJourneys() {
	seen := map[string]*Symbol{}
	for _, j := range c.ws.Journeys {
		sym := c.declare(SymJourney, "", j.Name, &j.Node, j, seen)
		if sym == nil {
			continue
		}
		jr := &journey{decl: j, sym: sym, stages: map[string]*lang.Stage{}, sends: map[string]*lang.Send{},
			syms: map[string]*Symbol{}, sendSym: map[string]*Symbol{}}
		for _, s := range j.Stages {
			if s.Name.Value == ir.End {
				c.errorf(s.Name.Range, "Reserved stage name", "`end` is the target that finishes a journey (`goto = end`); a stage cannot take its name.")
				continue
			}
			if c.declare(SymStage, j.Name.Value, s.Name, &s.Node, s, jr.syms) != nil {
				jr.stages[s.Name.Value] = s
			}
			for _, a := range s.Actions {
				if send, ok := a.(*lang.Send); ok {
					if c.declare(SymSend, j.Name.Value, send.Name, &send.Node, send, jr.sendSym) != nil {
						jr.sends[send.Name.Value] = send
					}
				}
			}
		}
		c.journeys[j.Name.Value] = jr
	}
	c.declareTests()
}

func (c *checker) declareTests() {
	seen := map[string]*Symbol{}
	for _, t := range c.ws.Tests {
		c.declare(SymTest, "", t.Name, &t.Node, t, seen)
	}
}

func (c *checker) resolvePolicy(p *policy) {
	d := p.decl
	p.quietHours = c.window(d.QuietHours)
	p.sendWindow = c.window(d.SendWindow)
	if d.Topic != nil {
		p.topic, _ = c.reference(d.Topic.Expr, "topic", "a topic reference such as `topic.marketing`")
	}
	if d.QuietHours != nil && d.SendWindow != nil {
		c.errorf(d.SendWindow.NameRange, "Both quiet_hours and send_window",
			"A policy says when sends may go out in one way: `quiet_hours` (when they may not) or `send_window` (when they may). Keep one.")
	}
	if a := d.FrequencyCap; a != nil {
		if v, ok := c.staticString(a, "a frequency cap such as \"3 per 7d\""); ok {
			if cp, err := timespec.ParseCap(v); err != nil {
				c.timeError(a.Expr.Range(), v, "Invalid frequency cap", err)
			} else {
				p.cap = &cp
			}
		}
	}
	if a := d.SuppressedBy; a != nil {
		tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			c.errorf(a.Expr.Range(), "suppressed_by must be a list of journeys", "Write a list of journey references, e.g. `[journey.support_case]`.")
			return
		}
		for _, e := range tuple.Exprs {
			if name, ok := c.reference(e, "journey", "a journey reference such as `journey.support_case`"); ok {
				p.suppressed = append(p.suppressed, name)
			}
		}
	}
}

// window parses an optional window attribute.
func (c *checker) window(a *lang.Attr) *timespec.Window {
	if a == nil {
		return nil
	}
	v, ok := c.staticString(a, "a window such as \"21:00-08:00\" or \"Mon-Fri 09:00-18:00\"")
	if !ok {
		return nil
	}
	w, err := timespec.ParseWindow(v)
	if err != nil {
		c.timeError(a.Expr.Range(), v, "Invalid time window", err)
		return nil
	}
	return &w
}

// staticString reads a string literal, reporting anything else.
func (c *checker) staticString(a *lang.Attr, what string) (string, bool) {
	v, ok := lang.StaticString(a.Expr)
	if !ok {
		c.errorf(a.Expr.Range(), "Expected a string literal", "`%s` takes %s, written out as a literal.", a.Name, what)
	}
	return v, ok
}

// reference resolves expr as KIND.NAME and records the reference. want
// describes what is expected, for the error.
func (c *checker) reference(expr hclsyntax.Expression, kind, want string) (string, bool) {
	ref, ok := lang.AsReference(expr)
	if !ok || ref.Kind != kind {
		c.errorf(expr.Range(), "Expected a "+kind+" reference", "This must be %s.", want)
		return "", false
	}
	var sym *Symbol
	var names []string
	switch kind {
	case "journey":
		if j := c.journeys[ref.Name]; j != nil {
			sym = j.sym
		}
		names = sortedKeys(c.journeys)
	case "policy":
		if p := c.policies[ref.Name]; p != nil {
			sym = p.sym
		}
		names = sortedKeys(c.policies)
	case "topic":
		if t := c.topics[ref.Name]; t != nil {
			sym = t.sym
		}
		names = sortedKeys(c.topics)
	case "channel":
		if c.channels[ref.Name] != nil {
			sym = c.index.Lookup(SymChannel, "", ref.Name)
		}
		names = sortedKeys(c.channels)
	}
	if sym == nil {
		c.errorf(ref.NameRange, "Unknown "+kind, "No %s named %q is declared in this workspace.%s",
			kind, ref.Name, suggest.Hint(ref.Name, names, plural(kind)+" declared: "))
		return "", false
	}
	c.ref(sym, ref.NameRange, false)
	return ref.Name, true
}

func (c *checker) resolveJourney(jr *journey) {
	j := jr.decl
	if j.Policy != nil {
		if name, ok := c.reference(j.Policy.Expr, "policy", "a policy reference such as `policy.marketing`"); ok {
			jr.policy = name
		}
	}
	if j.Reentry != nil {
		if v, ok := c.staticString(j.Reentry, "a re-entry rule: \"never\", \"always\" or \"after 30d\""); ok {
			r, err := c.parseReentry(v)
			if err != nil {
				c.timeError(j.Reentry.Expr.Range(), v, "Invalid re-entry rule", err)
			}
			jr.reentry = r
		}
	}
	for _, group := range [][]*lang.Trigger{j.Entries, j.Goals, j.Exits} {
		for _, t := range group {
			c.eventLabel(t.Event, t.Type)
		}
	}
	for _, s := range j.Stages {
		c.resolveStage(jr, s)
	}
	c.resolveInFlight(jr)
	c.resolveStageMigrations(jr)
	c.resolveMaps(jr)
}

// eventLabel checks that a label names a declared event, when the workspace
// declares events, and records the reference.
func (c *checker) eventLabel(l lang.Label, blockType string) *event {
	ev := c.events[l.Value]
	if ev != nil {
		c.ref(ev.sym, l.Range, true)
		return ev
	}
	if c.eventsDeclared {
		c.errorf(l.Range, "Unknown event", "No event named %q is declared, and this workspace declares its events, so `%s` must name one.%s",
			l.Value, blockType, suggest.Hint(l.Value, sortedKeys(c.events), "Events declared: "))
	}
	return nil
}

func (c *checker) resolveStage(jr *journey, s *lang.Stage) {
	if s.Goto != nil {
		c.target(jr, s.Goto)
	}
	for _, a := range s.Actions {
		switch a := a.(type) {
		case *lang.Send:
			if a.Channel != nil {
				c.reference(a.Channel.Expr, "channel", "a channel reference such as `channel.email`")
			}
			if a.Topic != nil {
				c.reference(a.Topic.Expr, "topic", "a topic reference such as `topic.marketing`")
			}
		case *lang.Emit:
			c.eventLabel(a.Event, "emit")
		}
	}
	for _, b := range s.Branches {
		if b.Goto != nil {
			c.target(jr, b.Goto)
		}
	}
	for _, sp := range s.Splits {
		seen := map[string]hcl.Range{}
		if len(sp.Variants) == 0 {
			c.errorf(sp.DefRange, "Split without variants", "A split needs at least one `variant \"NAME\" { weight = N, goto = ... }`.")
		}
		for _, v := range sp.Variants {
			if prev, dup := seen[v.Name.Value]; dup {
				c.errorf(v.Name.Range, "Duplicate variant name", "A variant named %q is already in this split at %s.", v.Name.Value, rangeString(prev))
			}
			seen[v.Name.Value] = v.Name.Range
			if v.Goto != nil {
				c.target(jr, v.Goto)
			}
			if v.Weight != nil {
				c.weight(v)
			}
		}
	}
	for _, on := range s.Ons {
		c.eventLabel(on.Event, "on")
		if on.Goto != nil {
			c.target(jr, on.Goto)
		}
	}
	for _, af := range s.Afters {
		d, err := c.parseDuration(af.Duration.Value)
		if err != nil {
			c.timeError(af.Duration.Range, af.Duration.Value, "Invalid duration", err)
		} else {
			c.durations[af] = d
		}
		if af.Goto != nil {
			c.target(jr, af.Goto)
		}
	}
	for _, at := range s.Ats {
		if at.Goto != nil {
			c.target(jr, at.Goto)
		}
	}
}

// parseDuration memoises timespec.ParseDuration: workspaces repeat the same
// few durations thousands of times.
func (c *checker) parseDuration(s string) (time.Duration, error) {
	if r, ok := c.durationMemo[s]; ok {
		return r.d, r.err
	}
	d, err := timespec.ParseDuration(s)
	c.durationMemo[s] = parsedDuration{d, err}
	return d, err
}

// parseReentry memoises timespec.ParseReentry: most journeys of a
// workspace share their re-entry rule, and its parser allocates heavily.
func (c *checker) parseReentry(s string) (timespec.Reentry, error) {
	if r, ok := c.reentryMemo[s]; ok {
		return r.r, r.err
	}
	r, err := timespec.ParseReentry(s)
	c.reentryMemo[s] = parsedReentry{r, err}
	return r, err
}

type parsedReentry struct {
	r   timespec.Reentry
	err error
}

type parsedDuration struct {
	d   time.Duration
	err error
}

// target resolves a goto: stage.NAME in the same journey, or end.
func (c *checker) target(jr *journey, a *lang.Attr) {
	ref, ok := lang.AsReference(a.Expr)
	if !ok || (ref.Kind != "stage" && ref.Kind != "end") {
		c.errorf(a.Expr.Range(), "Invalid goto target",
			"`goto` takes `stage.NAME` (a stage of this journey) or `end` (finish the journey as completed).")
		return
	}
	if ref.Kind == "end" {
		c.targets[a] = ir.End
		return
	}
	sym := jr.syms[ref.Name]
	if sym == nil {
		c.errorf(ref.NameRange, "Unknown stage", "Journey %q has no stage named %q.%s",
			jr.decl.Name.Value, ref.Name, suggest.Hint(ref.Name, stageNames(jr.decl), "Its stages: "))
		return
	}
	c.ref(sym, ref.NameRange, false)
	c.targets[a] = ref.Name
}

func (c *checker) weight(v *lang.Variant) {
	val, diags := v.Weight.Expr.Value(nil)
	if diags.HasErrors() || val.Type() != cty.Number || val.IsNull() || !val.IsKnown() {
		c.errorf(v.Weight.Expr.Range(), "Weight must be a whole number", "Write a positive whole number, e.g. `weight = 50`.")
		return
	}
	bf := val.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != 0 || n <= 0 || n > 1_000_000 {
		c.errorf(v.Weight.Expr.Range(), "Split weight must be positive",
			"A weight is a whole number from 1 to 1000000; got %s. To send nobody down a variant, remove it.", bf.Text('g', 10))
		return
	}
	c.weights[v] = int(n)
}

func stageNames(j *lang.Journey) []string {
	names := make([]string, len(j.Stages))
	for i, s := range j.Stages {
		names[i] = s.Name.Value
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func plural(kind string) string {
	if kind == "policy" {
		return "Policies"
	}
	return upperFirst(kind) + "s"
}
