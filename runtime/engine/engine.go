package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// Options tunes an Engine. The zero value is usable.
type Options struct {
	// DefaultZone is the time zone of customers without a valid `timezone`
	// trait. Nil means UTC.
	DefaultZone *time.Location
	// MaxSteps bounds the stage entries of one instance during one Step
	// (and the emitted events handled during one Step). An instance that
	// passes it ends "exited" with cause "step_limit". Default 100.
	MaxSteps int
	// MaxEmitDepth bounds chains of emitted events: an event emitted while
	// handling an input or a timer has depth 1, one emitted while handling
	// that has depth 2, and so on. Deeper events are dropped and recorded.
	// Default 8.
	MaxEmitDepth int
	// DedupWindow is how many of a customer's latest message ids are kept
	// to recognise a redelivered input. Default 16; negative turns it off.
	DedupWindow int
	// Versions are earlier programs whose journey versions may still have
	// active instances. For a journey whose in_flight is "pin" in the
	// program, an instance on a version found here keeps running that
	// version (its stages, expressions, templates and policy) until it
	// ends; new entries use the program's version. Versions of journeys
	// that migrate are ignored, and an earlier version not given here is
	// migrated by stage name, with an Error saying so. Only the journeys
	// are taken from these programs; nothing else about them runs.
	Versions []*ir.Program
	// UnsubscribeURL, when set, returns the unsubscribe link of a customer
	// for a topic: the shell's (public URL and signing key are the
	// runtime's, never the program's). Each send with a topic records it
	// in Send.UnsubscribeURL, which the smtp channel puts in the
	// List-Unsubscribe header. It must be a pure function of its arguments,
	// as Step is.
	UnsubscribeURL func(customerID, topic string) string
}

// Engine runs one compiled program. It is immutable after New (its only
// mutable part is a cache of loaded time zones, behind a sync.Map) and safe
// for concurrent use; Step calls for different customers may run in
// parallel, calls for one customer must be serialised by the caller.
type Engine struct {
	prog     *ir.Program
	opts     Options
	zone     *time.Location
	journeys []*journey
	byName   map[string]*journey
	// entries lists, per event name, the journeys that event may admit
	// customers to, in program order.
	entries map[string][]*entryGroup
	// metrics lists, per event name, the metrics that event answers
	// (top-level metric blocks), in program order.
	metrics  map[string][]*metric
	policies map[string]*policy
	// topicDefault is each topic's default status, by name.
	topicDefault map[string]string
	funcs        map[string]function.Function
	templates    map[string]*template
	traits       []field // the declared customer schema; nil when undeclared
	events       map[string][]field
	// pinned holds, by version, the earlier versions that pinned instances
	// run (Options.Versions), each named as its journey is named now.
	pinned map[string]*journey
	// renamed maps the old name of a journey renamed by a top-level moved
	// block to its name in the program.
	renamed  map[string]string
	zones    sync.Map // zone name -> *time.Location (nil: unknown)
	badZones atomic.Int64
	pool     sync.Pool
}

// field is a declared trait or event property with its parsed type.
type field struct {
	name string
	ty   cty.Type
}

type journey struct {
	name    string
	version string
	index   int
	ir      *ir.Journey
	eng     *Engine // the engine that built it: another one for a pinned earlier version
	pin     bool    // in_flight = "pin"
	// moved maps a renamed stage's old name to the stage; removed maps a
	// removed stage to where its customers go.
	moved   map[string]*stage
	removed map[string]removal
	policy  *policy
	reentry ir.Reentry
	goals   []trigger
	exits   []trigger
	start   *stage // nil: the journey has no stages and completes at once
	stages  map[string]*stage
	// maxWaits is the most timers a stage of the journey sets: a new
	// instance's Waits get that capacity up front.
	maxWaits int
}

// removal is a removed block: exit (no goto), or enter to (nil: the end).
type removal struct {
	exit bool
	to   *stage
}

type trigger struct {
	event string
	when  *expr  // nil: always
	cause string // "entry:E", "goal:E" or "exit:E", made once
}

type entryGroup struct {
	j        *journey
	triggers []trigger
}

type stage struct {
	name     string
	kind     string
	actions  []action
	next     *stage // goto; nil is end
	branches []branch
	variants []variant
	total    uint64 // sum of the variants' weights
	ons      []on
	afters   []after
	ats      []at
}

type branch struct {
	when  *expr
	next  *stage
	cause string // "branch:N"
}

type variant struct {
	name   string
	weight uint64
	next   *stage
	cause  string // "split:NAME"
}

type on struct {
	event string
	when  *expr
	next  *stage
	cause string // "on:E"
}

type after struct {
	d     time.Duration
	spec  string
	next  *stage
	cause string // "after:SPEC"
}

type at struct {
	time *expr
	src  string
	next *stage
}

type action struct {
	kind        string
	name        string // send
	channel     string
	channelType string
	topic       string    // send: its own topic; "" takes the policy's
	fields      []setting // send fields, or update traits
	event       string    // emit
	props       *expr     // emit; nil: no properties
}

// metric is a top-level metric: value, evaluated with the event, is one
// response.
type metric struct {
	name  string
	value *expr
}

type setting struct {
	name string
	expr *expr
}

type policy struct {
	name         string
	quiet        *timespec.Window
	quietSpec    string
	window       *timespec.Window
	windowSpec   string
	cap          *ir.Cap
	capSpec      string
	capPer       string // the cap's window as text, for the reason of a capped send
	capped       string // that reason for the usual count, N: made once, not per send
	suppressedBy []string
	topic        string // the topic of its sends that name none
}

// New prepares a program for running: it parses every expression and
// template once, parses policy windows, resolves every stage, channel,
// policy and journey name, and refuses an inconsistent program (the compiler
// never produces one; a hand-edited IR file might).
func New(p *ir.Program, opts Options) (*Engine, error) {
	if p == nil {
		return nil, errors.New("engine: no program")
	}
	if p.Format != "" && p.Format != ir.Format {
		return nil, fmt.Errorf("engine: the program's format is %q, this engine runs %q", p.Format, ir.Format)
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = 100
	}
	if opts.MaxEmitDepth <= 0 {
		opts.MaxEmitDepth = 8
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = 16
	}
	e := &Engine{
		prog:      p,
		opts:      opts,
		zone:      opts.DefaultZone,
		byName:    map[string]*journey{},
		entries:   map[string][]*entryGroup{},
		templates: map[string]*template{},
		events:    map[string][]field{},
	}
	if e.zone == nil {
		e.zone = time.UTC
	}
	e.pool.New = func() any { return newRun() }
	b := &builder{e: e}
	b.functions()
	b.schema()
	b.templates()
	b.topics()
	policies := b.policies()
	e.policies = policies
	channels := map[string]*ir.Channel{}
	for i := range p.Channels {
		channels[p.Channels[i].Name] = &p.Channels[i]
	}
	// Journeys first, so that policies and stages may name any of them.
	for i := range p.Journeys {
		ij := &p.Journeys[i]
		if _, dup := e.byName[ij.Name]; dup {
			b.errorf("journey %q is declared twice", ij.Name)
			continue
		}
		version := versionOf(ij) // hand-made programs without versions: still give migration something to compare
		j := &journey{name: ij.Name, version: version, index: i, ir: ij, eng: e, reentry: ij.Reentry, stages: map[string]*stage{}}
		e.journeys = append(e.journeys, j)
		e.byName[j.name] = j
	}
	for _, pol := range policies {
		for _, name := range pol.suppressedBy {
			if e.byName[name] == nil {
				b.errorf("policy %q: suppressed_by names journey %q, which does not exist", pol.name, name)
			}
		}
	}
	for _, j := range e.journeys {
		b.journey(j, policies, channels)
	}
	for i := range p.Metrics {
		m := &p.Metrics[i]
		if e.metrics == nil {
			e.metrics = map[string][]*metric{}
		}
		e.metrics[m.Event] = append(e.metrics[m.Event], &metric{name: m.Name, value: b.expr(&m.Value, "metric "+m.Name)})
	}
	b.renames()
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("engine: the program is inconsistent: %w", errors.Join(b.errs...))
	}
	if err := e.loadVersions(opts.Versions); err != nil {
		return nil, err
	}
	return e, nil
}

// renames checks the program's journey moves: resolved chains, from a
// journey that is gone to one that exists.
func (b *builder) renames() {
	for _, m := range b.e.prog.Moved {
		switch {
		case b.e.byName[m.From] != nil:
			b.errorf("moved: journey %q still exists, so nothing can be moved from it", m.From)
		case b.e.byName[m.To] == nil:
			b.errorf("moved: journey %q is moved to %q, which does not exist", m.From, m.To)
		case b.e.renamed[m.From] != "":
			b.errorf("moved: journey %q is moved twice", m.From)
		default:
			if b.e.renamed == nil {
				b.e.renamed = map[string]string{}
			}
			b.e.renamed[m.From] = m.To
		}
	}
}

// loadVersions prepares the earlier versions that instances of pinned
// journeys may still run. Each earlier program gets an engine of its own
// (its templates, schema and policies), and its journeys are named as they
// are named now.
func (e *Engine) loadVersions(progs []*ir.Program) error {
	for _, p := range progs {
		if p == nil {
			continue
		}
		var want []*journey
		for _, j := range e.journeys {
			if !j.pin {
				continue
			}
			for i := range p.Journeys {
				old := &p.Journeys[i]
				if (old.Name == j.name || e.renamed[old.Name] == j.name) && versionOf(old) != j.version && e.pinned[versionOf(old)] == nil {
					want = append(want, j)
					break
				}
			}
		}
		if len(want) == 0 {
			continue
		}
		sub, err := New(p, Options{DefaultZone: e.opts.DefaultZone, MaxSteps: e.opts.MaxSteps, MaxEmitDepth: e.opts.MaxEmitDepth, DedupWindow: e.opts.DedupWindow})
		if err != nil {
			return fmt.Errorf("engine: an earlier program, which pinned instances may still run: %w", err)
		}
		for _, old := range sub.journeys {
			name := old.name
			if to := e.renamed[name]; to != "" {
				name = to
			}
			j := e.byName[name]
			if j == nil || !j.pin || old.version == j.version || e.pinned[old.version] != nil {
				continue
			}
			c := *old
			c.name = name
			if e.pinned == nil {
				e.pinned = map[string]*journey{}
			}
			e.pinned[old.version] = &c
		}
	}
	return nil
}

func versionOf(j *ir.Journey) string {
	if j.Version != "" {
		return j.Version
	}
	return ir.Hash(j)
}

// PinnedVersions returns the earlier journey versions this engine can run
// for pinned instances, sorted.
func (e *Engine) PinnedVersions() []string {
	return slices.Sorted(maps.Keys(e.pinned))
}

func (e *Engine) policy(name string) *policy { return e.policies[name] }

// Program returns the program the engine runs.
func (e *Engine) Program() *ir.Program { return e.prog }

// builder collects the problems New finds, so that it reports all of them.
type builder struct {
	e    *Engine
	errs []error
}

func (b *builder) errorf(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf(format, args...))
}

func (b *builder) functions() {
	// template() needs the variables of the expression that calls it, which
	// a function cannot see: the base table refuses it, and expressions
	// that call it get a per-Step function in a child context (eval.go).
	fs := lang.Functions(lang.FuncHooks{
		Template: func(string) (cty.Value, error) {
			return cty.NilVal, errors.New("template() is not available here")
		},
	})
	// env() belongs to channel settings, which the delivery layer
	// evaluates; journey expressions never read the environment.
	delete(fs, "env")
	fs[escapeHTMLFunc] = escapeHTMLFn
	b.e.funcs = fs
}

func (b *builder) schema() {
	p := b.e.prog
	if p.Customer != nil {
		b.e.traits = []field{}
		for _, t := range p.Customer.Traits {
			if t.Name == "id" {
				continue // the customer id is always there, and always the id
			}
			b.e.traits = append(b.e.traits, field{t.Name, b.typeOf(t)})
		}
	}
	for _, ev := range p.Events {
		fs := make([]field, 0, len(ev.Properties))
		for _, prop := range ev.Properties {
			fs = append(fs, field{prop.Name, b.typeOf(prop)})
		}
		b.e.events[ev.Name] = fs
	}
}

// typeOf parses a declared type; an unparseable one is an error, reported
// once, and reads as any.
func (b *builder) typeOf(f ir.Field) cty.Type {
	if f.Type == "" || f.Type == "any" {
		return cty.DynamicPseudoType
	}
	x, diags := lang.ParseExpression([]byte(f.Type), f.Range.File, hcl.InitialPos)
	if !diags.HasErrors() {
		var ty cty.Type
		ty, diags = typeexpr.TypeConstraint(x)
		if !diags.HasErrors() {
			return ty
		}
	}
	b.errorf("%s: the type %q of %s: %s", f.Range.File, f.Type, f.Name, diagText(diags))
	return cty.DynamicPseudoType
}

func (b *builder) templates() {
	for path, src := range b.e.prog.Templates {
		x, diags := lang.ParseTemplate([]byte(src), path, hcl.InitialPos)
		if diags.HasErrors() {
			b.errorf("template %s: %s", path, diagText(diags))
			continue
		}
		t := &template{path: path, expr: x, uses: b.uses(x, "template "+path), calls: b.callsTemplate(x)}
		hx := escapeHTML(x)
		t.html = &template{path: path, expr: hx, uses: b.uses(hx, "template "+path), calls: b.callsTemplate(hx)}
		b.e.templates[path] = t
	}
	// Compiled once all are parsed, so that a template may render another.
	for _, path := range slices.Sorted(maps.Keys(b.e.templates)) {
		t := b.e.templates[path]
		t.text = b.text(t.expr)
		t.fast = b.fast(t.expr)
		t.html.text = b.text(t.html.expr)
		t.html.fast = b.fast(t.html.expr)
	}
}

// topics reads each topic's default status.
func (b *builder) topics() {
	b.e.topicDefault = make(map[string]string, len(b.e.prog.Topics))
	for _, t := range b.e.prog.Topics {
		if t.Default != ir.TopicSubscribed && t.Default != ir.TopicUnsubscribed {
			b.errorf("topic %q: default %q is not %q or %q", t.Name, t.Default, ir.TopicSubscribed, ir.TopicUnsubscribed)
		}
		if _, dup := b.e.topicDefault[t.Name]; dup {
			b.errorf("topic %q is declared twice", t.Name)
		}
		b.e.topicDefault[t.Name] = t.Default
	}
}

func (b *builder) policies() map[string]*policy {
	out := map[string]*policy{}
	for i := range b.e.prog.Policies {
		ip := &b.e.prog.Policies[i]
		pol := &policy{name: ip.Name, cap: ip.FrequencyCap, suppressedBy: ip.SuppressedBy, topic: ip.Topic}
		if ip.Topic != "" && b.e.prog.Topic(ip.Topic) == nil {
			b.errorf("policy %q: topic %q does not exist", ip.Name, ip.Topic)
		}
		if ip.QuietHours != "" && ip.SendWindow != "" {
			b.errorf("policy %q sets both quiet_hours and send_window", ip.Name)
		}
		if ip.QuietHours != "" {
			w, err := timespec.ParseWindow(ip.QuietHours)
			if err != nil {
				b.errorf("policy %q: quiet_hours %q: %v", ip.Name, ip.QuietHours, err)
			}
			pol.quiet, pol.quietSpec = &w, ip.QuietHours
		}
		if ip.SendWindow != "" {
			w, err := timespec.ParseWindow(ip.SendWindow)
			if err != nil {
				b.errorf("policy %q: send_window %q: %v", ip.Name, ip.SendWindow, err)
			}
			pol.window, pol.windowSpec = &w, ip.SendWindow
		}
		if c := ip.FrequencyCap; c != nil {
			if c.N <= 0 || c.PerSeconds <= 0 {
				b.errorf("policy %q: frequency cap %d per %ds is not positive", ip.Name, c.N, c.PerSeconds)
			}
			pol.capPer = timespec.FormatDuration(time.Duration(c.PerSeconds) * time.Second)
			pol.capSpec = strconv.Itoa(c.N) + " per " + pol.capPer
			pol.capped = cappedReason(pol.capSpec, c.N, pol.capPer)
		}
		if _, dup := out[ip.Name]; dup {
			b.errorf("policy %q is declared twice", ip.Name)
		}
		out[ip.Name] = pol
	}
	return out
}

func (b *builder) journey(j *journey, policies map[string]*policy, channels map[string]*ir.Channel) {
	ij := j.ir
	where := "journey " + strconv.Quote(j.name)
	if ij.Policy != "" {
		if j.policy = policies[ij.Policy]; j.policy == nil {
			b.errorf("%s: policy %q does not exist", where, ij.Policy)
		}
	}
	switch ij.Reentry.Kind {
	case "", ir.ReentryNever, ir.ReentryAlways:
	case ir.ReentryAfter:
		if ij.Reentry.AfterSeconds < 0 {
			b.errorf("%s: reentry after a negative time", where)
		}
	default:
		b.errorf("%s: unknown reentry kind %q", where, ij.Reentry.Kind)
	}
	// Create every stage before resolving targets, which may point forward.
	for i := range ij.Stages {
		s := &ij.Stages[i]
		if s.Name == ir.End {
			b.errorf("%s: a stage may not be named end", where)
		}
		if _, dup := j.stages[s.Name]; dup {
			b.errorf("%s: stage %q is declared twice", where, s.Name)
		}
		j.stages[s.Name] = &stage{name: s.Name, kind: s.Transition.Kind}
	}
	target := func(name, what string) *stage {
		if name == ir.End {
			return nil
		}
		st := j.stages[name]
		if st == nil {
			b.errorf("%s: %s goes to stage %q, which does not exist", where, what, name)
		}
		return st
	}
	switch ij.InFlight {
	case "", ir.InFlightMigrate:
	case ir.InFlightPin:
		j.pin = true
	default:
		b.errorf("%s: unknown in_flight %q", where, ij.InFlight)
	}
	for _, m := range ij.Moved {
		if j.stages[m.From] != nil {
			b.errorf("%s: moved from stage %q, which still exists", where, m.From)
			continue
		}
		if j.moved[m.From] != nil {
			b.errorf("%s: stage %q is moved twice", where, m.From)
			continue
		}
		if st := target(m.To, "moved "+m.From); st != nil {
			if j.moved == nil {
				j.moved = map[string]*stage{}
			}
			j.moved[m.From] = st
		} else if m.To == ir.End {
			b.errorf("%s: moved %q to end; a removed block says where customers of a stage that is gone go", where, m.From)
		}
	}
	for _, rm := range ij.Removed {
		_, twice := j.removed[rm.From]
		switch {
		case j.stages[rm.From] != nil:
			b.errorf("%s: removed stage %q still exists", where, rm.From)
			continue
		case twice || j.moved[rm.From] != nil:
			b.errorf("%s: stage %q is both moved and removed, or removed twice", where, rm.From)
			continue
		}
		if j.removed == nil {
			j.removed = map[string]removal{}
		}
		if rm.Goto == "" {
			j.removed[rm.From] = removal{exit: true}
		} else {
			j.removed[rm.From] = removal{to: target(rm.Goto, "removed "+rm.From)}
		}
	}
	if ij.Start != "" {
		j.start = target(ij.Start, "the start")
	} else if len(ij.Stages) > 0 {
		b.errorf("%s: has stages but no start stage", where)
	}
	for _, t := range ij.Entries {
		g := b.entryGroup(j, t.Event)
		g.triggers = append(g.triggers, trigger{t.Event, b.optExpr(t.When, where+" entry "+t.Event), "entry:" + t.Event})
	}
	for _, t := range ij.Goals {
		j.goals = append(j.goals, trigger{t.Event, b.optExpr(t.When, where+" goal "+t.Event), "goal:" + t.Event})
	}
	for _, t := range ij.Exits {
		j.exits = append(j.exits, trigger{t.Event, b.optExpr(t.When, where+" exit "+t.Event), "exit:" + t.Event})
	}
	for i := range ij.Stages {
		is := &ij.Stages[i]
		st := j.stages[is.Name]
		sw := where + " stage " + strconv.Quote(is.Name)
		for _, a := range is.Actions {
			st.actions = append(st.actions, b.action(a, sw, channels))
		}
		tr := &is.Transition
		switch tr.Kind {
		case ir.TransitionNone:
		case ir.TransitionGoto:
			st.next = target(tr.Goto, "goto")
		case ir.TransitionBranch:
			if len(tr.Branches) == 0 || tr.Branches[len(tr.Branches)-1].When != nil {
				b.errorf("%s: a branch list must end with a branch without when", sw)
			}
			for k, br := range tr.Branches {
				st.branches = append(st.branches, branch{b.optExpr(br.When, sw+" branch"), target(br.Goto, "a branch"), "branch:" + itoa(k+1)})
			}
		case ir.TransitionSplit:
			if len(tr.Variants) == 0 {
				b.errorf("%s: a split without variants", sw)
			}
			for _, v := range tr.Variants {
				if v.Weight <= 0 {
					b.errorf("%s: variant %q has weight %d; weights must be positive", sw, v.Name, v.Weight)
					continue
				}
				st.variants = append(st.variants, variant{v.Name, uint64(v.Weight), target(v.Goto, "variant "+v.Name), "split:" + v.Name})
				st.total += uint64(v.Weight)
			}
		case ir.TransitionWait:
			for _, o := range tr.Ons {
				st.ons = append(st.ons, on{o.Event, b.optExpr(o.When, sw+" on "+o.Event), target(o.Goto, "on "+o.Event), "on:" + o.Event})
			}
			for _, a := range tr.Afters {
				if a.Seconds < 0 {
					b.errorf("%s: after %q is negative", sw, a.Spec)
				}
				spec := a.Spec
				if spec == "" {
					spec = timespec.FormatDuration(time.Duration(a.Seconds) * time.Second)
				}
				st.afters = append(st.afters, after{time.Duration(a.Seconds) * time.Second, spec, target(a.Goto, "after "+spec), "after:" + spec})
			}
			for k := range tr.Ats {
				a := &tr.Ats[k]
				st.ats = append(st.ats, at{b.expr(&a.Time, sw+" at"), a.Time.Src, target(a.Goto, "at")})
			}
			if len(st.ons)+len(st.afters)+len(st.ats) == 0 {
				b.errorf("%s: a waiting stage with nothing to wait for", sw)
			}
			j.maxWaits = max(j.maxWaits, len(st.afters)+len(st.ats))
		default:
			b.errorf("%s: unknown transition kind %q", sw, tr.Kind)
		}
	}
}

func (b *builder) entryGroup(j *journey, event string) *entryGroup {
	gs := b.e.entries[event]
	if n := len(gs); n > 0 && gs[n-1].j == j {
		return gs[n-1]
	}
	g := &entryGroup{j: j}
	b.e.entries[event] = append(gs, g)
	return g
}

func (b *builder) action(a ir.Action, where string, channels map[string]*ir.Channel) action {
	out := action{kind: a.Kind, name: a.Name}
	switch a.Kind {
	case ir.ActionSend:
		ch := channels[a.Channel]
		if ch == nil {
			b.errorf("%s: send %q uses channel %q, which does not exist", where, a.Name, a.Channel)
		} else {
			out.channel, out.channelType = ch.Name, ch.Type
		}
		if a.Topic != "" && b.e.prog.Topic(a.Topic) == nil {
			b.errorf("%s: send %q names topic %q, which does not exist", where, a.Name, a.Topic)
		}
		out.topic = a.Topic
		for _, f := range a.Fields {
			build := b.expr
			if f.Name == "html" && out.channelType == lang.ChannelSMTP {
				build = b.htmlExpr
			}
			out.fields = append(out.fields, setting{f.Name, build(&f.Expr, where+" send "+a.Name+" "+f.Name)})
		}
	case ir.ActionUpdate:
		for _, t := range a.Traits {
			if t.Name == "id" {
				b.errorf("%s: update may not set id", where)
			}
			out.fields = append(out.fields, setting{t.Name, b.expr(&t.Expr, where+" update "+t.Name)})
		}
	case ir.ActionEmit:
		out.event = a.Event
		out.props = b.optExpr(a.Properties, where+" emit "+a.Event)
	default:
		b.errorf("%s: unknown action kind %q", where, a.Kind)
	}
	return out
}

// diagText renders diagnostics as "summary: detail; ...", without the range
// (callers say where).
func diagText(diags hcl.Diagnostics) string {
	s := ""
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
