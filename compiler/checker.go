package compiler

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// checker carries a workspace through the passes. resolve fills the tables
// that the later passes and lowering read; no pass re-parses what an earlier
// one already parsed.
type checker struct {
	ws    *lang.Workspace
	opts  Options
	diags hcl.Diagnostics
	index *Index
	funcs map[string]function.Function

	customerDeclared bool
	traits           map[string]*field
	traitOrder       []*field
	eventsDeclared   bool
	events           map[string]*event
	channels         map[string]*lang.Channel
	channelTypes     map[string]string // channel name -> valid type
	policies         map[string]*policy
	topics           map[string]*topic
	journeys         map[string]*journey
	journeyMoves     []ir.JourneyMove // top-level moved blocks, chains resolved
	metrics          []ir.Metric      // checked metric blocks, in source order

	targets   map[*lang.Attr]string // goto attribute -> stage name or ir.End
	durations map[*lang.After]time.Duration
	weights   map[*lang.Variant]int
	templates map[string]string // path -> content of every template() that resolved
	// checkedTemplates memoises checkTemplateCall: a template is checked
	// once for each set of variables it is used with, however many calls
	// reach it (templates that include each other would otherwise cost
	// exponential time).
	checkedTemplates map[templateKey]templateCheck
	templateBytes    int // of every template read, against lang.MaxWorkspaceBytes
	contexts         map[scopeKey]*hcl.EvalContext
	traitsID         map[string]*field        // the traits and id, built once by traitsWithID
	entries          map[*journey]entryFields // by entryFields
	// The unknown values evaluation contexts give customer and each
	// event, built once by newEvalContext.
	customerVal cty.Value
	eventVals   map[*event]cty.Value

	// travs and calls are scratch stacks for checkExprDepth.
	travs []hcl.Traversal
	calls []*hclsyntax.FunctionCallExpr
	// inferHook, when set (by a test), sees every expression the types
	// pass is about to type, with its evaluation context.
	inferHook func(e hclsyntax.Expression, ctx *hcl.EvalContext)

	durationMemo map[string]parsedDuration
	reentryMemo  map[string]parsedReentry
}

type field struct {
	decl *lang.Field
	typ  cty.Type
	sym  *Symbol
}

type event struct {
	decl  *lang.Event
	sym   *Symbol
	props map[string]*field
	order []*field
}

type policy struct {
	decl       *lang.Policy
	sym        *Symbol
	quietHours *timespec.Window
	sendWindow *timespec.Window
	cap        *timespec.Cap
	suppressed []string
	topic      string
}

type topic struct {
	decl *lang.Topic
	sym  *Symbol
	def  string // lang.Subscribed or lang.Unsubscribed
}

type journey struct {
	decl    *lang.Journey
	sym     *Symbol
	policy  string
	reentry timespec.Reentry
	stages  map[string]*lang.Stage
	sends   map[string]*lang.Send
	syms    map[string]*Symbol // stage symbols by name
	sendSym map[string]*Symbol
	// The in_flight rule ("" or ir.InFlightPin) and the moved (chains
	// resolved) and removed blocks, ready for lowering.
	inFlight string
	maps     map[string]*ir.Map // checked map blocks by stage
	moved    []ir.StageMove
	removed  []ir.StageRemoval
}

// checkFuncs is the function table for type checking: no hooks, so env()
// and template() return unknown strings. Built once; it is read-only.
var checkFuncs = lang.Functions(lang.FuncHooks{})

func newChecker(ws *lang.Workspace, opts Options) *checker {
	// Size the index once: a stage has a handful of references, and
	// growing a slice of ranges thousands of times shows in profiles.
	stages := 0
	for _, j := range ws.Journeys {
		stages += len(j.Stages)
	}
	return &checker{
		ws:               ws,
		opts:             opts,
		index:            &Index{Symbols: make([]*Symbol, 0, 2*stages+64), Refs: make([]Ref, 0, 6*stages+64)},
		funcs:            checkFuncs,
		traits:           map[string]*field{},
		events:           map[string]*event{},
		channels:         map[string]*lang.Channel{},
		channelTypes:     map[string]string{},
		policies:         map[string]*policy{},
		topics:           map[string]*topic{},
		journeys:         map[string]*journey{},
		targets:          map[*lang.Attr]string{},
		durations:        map[*lang.After]time.Duration{},
		weights:          map[*lang.Variant]int{},
		templates:        map[string]string{},
		checkedTemplates: map[templateKey]templateCheck{},
		contexts:         map[scopeKey]*hcl.EvalContext{},
		entries:          map[*journey]entryFields{},
		eventVals:        map[*event]cty.Value{},
		durationMemo:     map[string]parsedDuration{},
		reentryMemo:      map[string]parsedReentry{},
	}
}

func (c *checker) errorf(subject hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject.Ptr(),
	})
}

func (c *checker) warnf(subject hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject.Ptr(),
	})
}

// declare records a symbol, reporting a duplicate against the first one.
// It returns nil for a duplicate so callers skip it.
func (c *checker) declare(kind SymbolKind, parent string, name lang.Label, n *lang.Node, node any, seen map[string]*Symbol) *Symbol {
	if prev := seen[name.Value]; prev != nil {
		where := ""
		switch kind {
		case SymStage, SymSend:
			where = fmt.Sprintf(" in journey %q", parent)
		case SymProperty:
			where = fmt.Sprintf(" in event %q", parent)
		}
		c.errorf(name.Range, "Duplicate "+string(kind)+" name",
			"%s %s named %q is already declared%s at %s. Names must be unique; rename one of them.",
			upperFirst(article(string(kind))), kind, name.Value, where, rangeString(prev.NameRange))
		return nil
	}
	sym := &Symbol{Kind: kind, Name: name.Value, Parent: parent, NameRange: name.Range, DefRange: n.DefRange, Range: n.Range, Node: node}
	seen[name.Value] = sym
	c.index.Symbols = append(c.index.Symbols, sym)
	return sym
}

func (c *checker) ref(sym *Symbol, r hcl.Range, quoted bool) {
	if sym != nil {
		c.index.Refs = append(c.index.Refs, Ref{Symbol: sym, Range: r, Quoted: quoted})
	}
}

// src returns the source of the file a range is in.
func (c *checker) src(r hcl.Range) []byte {
	if f := c.ws.File(r.Filename); f != nil {
		return f.Src
	}
	return nil
}

// timeError turns a timespec error into a diagnostic pointing inside the
// string literal at lit.
func (c *checker) timeError(lit hcl.Range, value, summary string, err error) {
	subject := lit
	msg := err.Error()
	if te, ok := err.(*timespec.Error); ok {
		subject = lang.InString(c.src(lit), lit, value, te.Start, te.End)
		msg = te.Msg
	}
	c.errorf(subject, summary, "%s", sentence(msg))
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// article returns "a" or "an" for the word that follows.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// sentence ends a message with a full stop unless it has its own.
func sentence(s string) string {
	s = upperFirst(s)
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// addDiags takes diagnostics from HCL's own evaluation and type parsing.
func (c *checker) addDiags(diags hcl.Diagnostics) {
	c.diags = append(c.diags, diags...)
}
