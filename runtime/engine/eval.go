package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// uses says which variables an expression reads, so that a Step builds only
// those: converting the customer's traits to cty is the costliest part of
// evaluating a small expression.
type uses uint8

const (
	useCustomer uses = 1 << iota
	useEvent
	useEntry
	useNow
	useUnsub
	useAll = useCustomer | useEvent | useEntry | useNow | useUnsub
)

var varNames = map[string]uses{"customer": useCustomer, "event": useEvent, "entry": useEntry, "now": useNow, "unsubscribe_url": useUnsub}

// expr is an expression parsed once, in New.
type expr struct {
	x    hclsyntax.Expression
	rng  ir.Range
	uses uses
	// calls says the expression calls template() somewhere: it is evaluated
	// in a child context that binds template() to its variables.
	calls bool
	// direct is set when the whole expression is template("literal path"),
	// the common case of a message body: rendered without a function call.
	direct *template
	// fast evaluates the expression without hclsyntax when its shape
	// allows (fast.go); nil when it does not.
	fast fastFn
	// str is the text form (text.go), for expressions whose value is
	// always a string; nil for other shapes.
	str func(r *run, sc scope) (any, bool)
	// obj is the object form (text.go), for object constructors; nil for
	// other shapes.
	obj goFn
}

type template struct {
	path  string
	expr  hclsyntax.Expression
	uses  uses
	calls bool   // the template itself calls template()
	fast  fastFn // nil when its shape is not covered
	text  *text  // likewise
	html  *template
}

// expr parses an IR expression with its original position, so that
// diagnostics point into the journey file.
func (b *builder) expr(e *ir.Expr, where string) *expr {
	return b.exprOf(e, where, false)
}

// htmlExpr is expr for an smtp send's html field: its interpolated values
// are escaped (html.go).
func (b *builder) htmlExpr(e *ir.Expr, where string) *expr {
	return b.exprOf(e, where, true)
}

func (b *builder) exprOf(e *ir.Expr, where string, escape bool) *expr {
	start := hcl.Pos{Line: e.Range.Start.Line, Column: e.Range.Start.Col, Byte: e.Range.Start.Byte}
	if start.Line == 0 {
		start = hcl.InitialPos
	}
	x, diags := lang.ParseExpression([]byte(e.Src), e.Range.File, start)
	if diags.HasErrors() {
		b.errorf("%s: %s: %s", where, e.Src, diagText(diags))
		return &expr{x: &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType)}, rng: e.Range}
	}
	if escape {
		x = escapeHTML(x)
	}
	out := &expr{x: x, rng: e.Range, uses: b.uses(x, where), fast: b.fast(x)}
	if t := b.text(x); t != nil {
		out.str = t.str
	}
	out.obj = b.object(x)
	hclsyntax.VisitAll(x, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok {
			return nil
		}
		switch {
		case call.Name == "template" || call.Name == htmlTemplateFunc:
			out.calls = true
		case call.Name == "env":
			b.errorf("%s: env() is allowed only in channel settings", where)
		default:
			if _, known := b.e.funcs[call.Name]; !known {
				b.errorf("%s: unknown function %s()", where, call.Name)
			}
		}
		return nil
	})
	if out.calls {
		out.uses = useAll // a template may read any variable
		if call, ok := x.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "template" || call.Name == htmlTemplateFunc) && len(call.Args) == 1 && !call.ExpandFinal {
			if path, ok := lang.StaticString(call.Args[0]); ok {
				t := b.e.templates[path]
				if t == nil {
					b.errorf("%s: template %q is not in the program", where, path)
				} else {
					if call.Name == htmlTemplateFunc {
						t = t.html
					}
					out.direct = t
					out.uses = t.uses
				}
			}
		}
	}
	return out
}

func (b *builder) optExpr(e *ir.Expr, where string) *expr {
	if e == nil {
		return nil
	}
	return b.expr(e, where)
}

// uses finds the variables an expression reads and refuses unknown ones.
func (b *builder) uses(x hclsyntax.Expression, where string) uses {
	var u uses
	for _, tr := range hclsyntax.Variables(x) {
		name := tr.RootName()
		bit, ok := varNames[name]
		if !ok {
			b.errorf("%s: unknown variable %q (expressions read customer, event, entry, now and unsubscribe_url)", where, name)
			continue
		}
		u |= bit
	}
	if b.callsTemplate(x) {
		u = useAll
	}
	return u
}

func (b *builder) callsTemplate(x hclsyntax.Expression) bool {
	found := false
	hclsyntax.VisitAll(x, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "template" || call.Name == htmlTemplateFunc) {
			found = true
		}
		return nil
	})
	return found
}

// scope is what an expression may see besides the customer and now.
type scope struct {
	inst *Instance // `entry`; nil where there is no instance yet (entry when)
	ev   *event    // `event`; nil in actions, branches, at times
	// unsub is `unsubscribe_url`: the send's link, "" elsewhere.
	unsub string
}

// event is an event being handled, with its cty value built on first use.
type event struct {
	name  string
	props map[string]any
	val   cty.Value
}

// maxTemplateDepth bounds templates that render templates.
const maxTemplateDepth = 8

// maxRenderedBytes bounds the text templates render in one Step. The
// compiler bounds what a template() call expands to; this holds for an IR
// made by hand too, where templates that include each other could render
// gigabytes: past it every template() call fails at once, so the work
// stays near the bound.
const maxRenderedBytes = 8 << 20

// eval evaluates x in scope. It never panics on data: a value of the wrong
// shape is an error for the caller to record.
func (r *run) eval(x *expr, sc scope) (v cty.Value, err error) {
	defer func() {
		// cty and the standard functions panic on a few inputs they do not
		// expect (values of an unexpected type); an expression must never
		// take the engine down with it.
		if p := recover(); p != nil {
			v, err = cty.NilVal, fmt.Errorf("evaluation failed: %v", p)
		}
	}()
	if x.fast != nil && !r.slow {
		if v, ok := x.fast(r, sc); ok {
			return v, nil
		}
	}
	vars := r.vars
	if x.uses&useCustomer != 0 {
		vars["customer"] = r.customerVal()
	}
	if x.uses&useEvent != 0 {
		if sc.ev != nil {
			vars["event"] = r.eventVal(sc.ev)
		} else {
			delete(vars, "event")
		}
	}
	if x.uses&useEntry != 0 {
		if sc.inst != nil {
			vars["entry"] = r.entryVal(sc.inst)
		} else {
			delete(vars, "entry")
		}
	}
	if x.uses&useNow != 0 {
		vars["now"] = r.nowVal()
	}
	if x.uses&useUnsub != 0 {
		vars["unsubscribe_url"] = cty.StringVal(sc.unsub)
	}
	ctx := &r.ctx
	var diags hcl.Diagnostics
	switch {
	case x.direct != nil && !x.direct.calls:
		v, diags = r.render(x.direct, ctx)
	case x.direct != nil:
		v, diags = r.render(x.direct, r.templateCtx())
	case x.calls:
		v, diags = x.x.Value(r.templateCtx())
	default:
		v, diags = x.x.Value(ctx)
	}
	if diags.HasErrors() {
		msg := diagText(diags)
		// An error inside a template file: say where in it, since the
		// recorded range is the expression that called template().
		for _, d := range diags {
			if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Filename != x.rng.File {
				msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
				break
			}
		}
		return cty.NilVal, errors.New(msg)
	}
	return v, nil
}

// templateCtx returns a child of the evaluation context in which template()
// renders with the same variables. The function is built once per Step, and
// only in Steps that render a template.
func (r *run) templateCtx() *hcl.EvalContext {
	if r.tctx == nil {
		r.tctx = r.ctx.NewChild()
		r.tctx.Functions = map[string]function.Function{
			"template":       r.templateFunc(false),
			htmlTemplateFunc: r.templateFunc(true),
		}
	}
	return r.tctx
}

// templateFunc is template(path) in templateCtx; with html, it renders the
// template's escaped variant.
func (r *run) templateFunc(html bool) function.Function {
	return function.New(&function.Spec{
		Description: lang.FuncDocs["template"],
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			path := args[0].AsString()
			t := r.e.templates[path]
			if t == nil {
				return cty.NilVal, fmt.Errorf("template %q is not in the program", path)
			}
			if html {
				t = t.html
			}
			v, diags := r.render(t, r.tctx)
			if diags.HasErrors() {
				return cty.NilVal, errors.New(diagText(diags))
			}
			return v, nil
		},
	})
}

// render evaluates a template. Its variables are already in the context:
// an expression that calls template() sets all of them.
func (r *run) render(t *template, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if r.tdepth >= maxTemplateDepth {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Templates nest too deeply",
			Detail: fmt.Sprintf("template %s: templates render templates more than %d deep", t.path, maxTemplateDepth)}}
	}
	if r.rendered > maxRenderedBytes {
		return cty.NilVal, renderedTooMuch(t)
	}
	r.tdepth++
	defer func() { r.tdepth-- }()
	v, diags := t.expr.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	if v.IsNull() || !v.IsKnown() {
		return v, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Template has no value", Detail: "template " + t.path + " rendered null or unknown"}}
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return v, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Template is not text", Detail: "template " + t.path + ": " + err.Error()}}
	}
	if r.rendered += len(s.AsString()); r.rendered > maxRenderedBytes {
		return cty.NilVal, renderedTooMuch(t)
	}
	return s, nil
}

func renderedTooMuch(t *template) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Templates render too much",
		Detail: fmt.Sprintf("template %s: templates rendered more than %s in one step", t.path, lang.FormatBytes(maxRenderedBytes))}}
}

// checkSize refuses a string over lang.MaxValueBytes as a send field or a
// trait: a value that large is a runaway (a trait that doubles at every
// visit), and would be stored and delivered.
func checkSize(v any) error {
	if s, ok := v.(string); ok && len(s) > lang.MaxValueBytes {
		return fmt.Errorf("the value of %d bytes is over %s, the limit of a value", len(s), lang.FormatBytes(lang.MaxValueBytes))
	}
	return nil
}

// customerVal is `customer`: the id and the traits, built once per Step and
// again only after an update or identify changed them. With a declared
// schema every declared trait is an attribute (null when missing, converted
// to its declared type); without one every trait is, as it is.
func (r *run) customerVal() cty.Value {
	if r.custOK {
		return r.custVal
	}
	c := r.c
	attrs := make(map[string]cty.Value, len(c.Traits)+1)
	if r.e.traits != nil {
		for _, f := range r.e.traits {
			attrs[f.name] = r.typed(c.Traits[f.name], f, "customer trait")
		}
	} else {
		for k, v := range c.Traits {
			attrs[k] = toCty(v)
		}
	}
	attrs["id"] = cty.StringVal(c.ID)
	r.custVal, r.custOK = cty.ObjectVal(attrs), true
	return r.custVal
}

func (r *run) eventVal(ev *event) cty.Value {
	if ev.val == cty.NilVal {
		ev.val = r.propsVal(ev.name, ev.props)
	}
	return ev.val
}

func (r *run) entryVal(in *Instance) cty.Value {
	if in.entryVal == cty.NilVal || in.entryFor != r.e {
		in.entryVal, in.entryFor = r.propsVal(in.EntryEvent, in.Entry), r.e
	}
	return in.entryVal
}

// propsVal is an event's properties as an object: with the event declared,
// every declared property (null when missing); otherwise all of them.
func (r *run) propsVal(name string, props map[string]any) cty.Value {
	decl, declared := r.e.events[name]
	if !declared {
		if len(props) == 0 {
			return cty.EmptyObjectVal
		}
		attrs := make(map[string]cty.Value, len(props))
		for k, v := range props {
			attrs[k] = toCty(v)
		}
		return cty.ObjectVal(attrs)
	}
	if len(decl) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make(map[string]cty.Value, len(decl))
	for _, f := range decl {
		attrs[f.name] = r.typed(props[f.name], f, "property of "+name)
	}
	return cty.ObjectVal(attrs)
}

// typed converts a stored value to its declared type. A value that does not
// convert reads as null, and the mismatch is recorded once per Step: stored
// data must not stop a journey.
func (r *run) typed(v any, f field, what string) cty.Value {
	if v == nil {
		return cty.NullVal(f.ty)
	}
	cv := toCty(v)
	if f.ty == cty.DynamicPseudoType || cv.Type().Equals(f.ty) {
		return cv
	}
	out, err := convert.Convert(cv, f.ty)
	if err != nil {
		r.errorf(nil, nil, nil, "convert "+what+" "+f.name, fmt.Errorf("the value does not fit the declared type %s: %v; it reads as null", f.ty.FriendlyName(), err))
		return cty.NullVal(f.ty)
	}
	return out
}

func (r *run) nowVal() cty.Value {
	if !r.nowAt.Equal(r.at) || r.nowStr == cty.NilVal {
		r.nowAt = r.at
		r.nowStr = cty.StringVal(r.at.UTC().Format(time.RFC3339))
	}
	return r.nowStr
}

// toCty converts a JSON-like Go value to cty without reflection. Numbers of
// every Go type become cty numbers; NaN and infinities, which JSON cannot
// hold, become null, and so do numbers out of lang.NumberInRange; anything
// else unexpected becomes its printed text.
func toCty(v any) cty.Value {
	switch x := v.(type) {
	case nil:
		return cty.NullVal(cty.DynamicPseudoType)
	case string:
		return cty.StringVal(x)
	case bool:
		return cty.BoolVal(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return cty.NullVal(cty.Number)
		}
		return cty.NumberFloatVal(x)
	case float32:
		return toCty(float64(x))
	case int:
		return cty.NumberIntVal(int64(x))
	case int64:
		return cty.NumberIntVal(x)
	case int32:
		return cty.NumberIntVal(int64(x))
	case int16:
		return cty.NumberIntVal(int64(x))
	case int8:
		return cty.NumberIntVal(int64(x))
	case uint:
		return cty.NumberUIntVal(uint64(x))
	case uint64:
		return cty.NumberUIntVal(x)
	case uint32:
		return cty.NumberUIntVal(uint64(x))
	case uint16:
		return cty.NumberUIntVal(uint64(x))
	case uint8:
		return cty.NumberUIntVal(uint64(x))
	case json.Number:
		if n, err := cty.ParseNumberVal(string(x)); err == nil {
			if !lang.NumberInRange(n.AsBigFloat()) {
				// 1e300000000 in an event parses at once, but
				// any template writing it would make 300 million
				// digits: like an infinity, it is no number.
				return cty.NullVal(cty.Number)
			}
			return n
		}
		return cty.StringVal(string(x))
	case time.Time:
		return cty.StringVal(x.UTC().Format(time.RFC3339Nano))
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal
		}
		elems := make([]cty.Value, len(x))
		for i, e := range x {
			elems[i] = toCty(e)
		}
		return cty.TupleVal(elems)
	case []string:
		if len(x) == 0 {
			return cty.EmptyTupleVal
		}
		elems := make([]cty.Value, len(x))
		for i, e := range x {
			elems[i] = cty.StringVal(e)
		}
		return cty.TupleVal(elems)
	case map[string]any:
		if len(x) == 0 {
			return cty.EmptyObjectVal
		}
		attrs := make(map[string]cty.Value, len(x))
		for k, e := range x {
			attrs[k] = toCty(e)
		}
		return cty.ObjectVal(attrs)
	case map[string]string:
		if len(x) == 0 {
			return cty.EmptyObjectVal
		}
		attrs := make(map[string]cty.Value, len(x))
		for k, e := range x {
			attrs[k] = cty.StringVal(e)
		}
		return cty.ObjectVal(attrs)
	}
	return cty.StringVal(fmt.Sprint(v))
}

// fromCty converts a value back to JSON-like Go: whole numbers that fit
// become int64, other numbers float64. An unknown value is an error: it
// cannot be stored or sent.
func fromCty(v cty.Value) (any, error) {
	// Marks only come from functions that set them, and none of ours
	// does; a top-level unmark (no walk, no allocation) keeps AsString
	// and friends from panicking should one ever appear.
	v, _ = v.Unmark()
	if !v.IsKnown() {
		return nil, errors.New("the value is not known")
	}
	if v.IsNull() {
		return nil, nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString(), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty == cty.Number:
		f := v.AsBigFloat()
		if f.IsInt() {
			if i, acc := f.Int64(); acc == big.Exact {
				return i, nil
			}
		}
		x, _ := f.Float64()
		if math.IsInf(x, 0) {
			return nil, fmt.Errorf("the number %s is too large to store", f.Text('g', 10))
		}
		return x, nil
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			g, err := fromCty(e)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			g, err := fromCty(e)
			if err != nil {
				return nil, err
			}
			out[k.AsString()] = g
		}
		return out, nil
	}
	return nil, fmt.Errorf("a value of type %s cannot be stored", ty.FriendlyName())
}

// cond evaluates a `when`. A nil condition holds. An error counts as false and
// is recorded; null counts as false silently, because a declared bool trait
// that was never set is null and "not yet true" is what the author means.
//
// The place is what + name + " when", put together only for an error: the
// hot path must not build strings it will not use.
func (r *run) cond(x *expr, sc scope, j *journey, what, name string) bool {
	if x == nil {
		return true
	}
	v, err := r.eval(x, sc)
	if err == nil {
		v, _ = v.Unmark()
		switch {
		case v.IsNull():
			return false
		case !v.IsKnown():
			err = errors.New("the condition's value is not known")
		case v.Type() != cty.Bool:
			err = fmt.Errorf("the condition is a %s, not a bool", v.Type().FriendlyName())
		default:
			return v.True()
		}
	}
	r.errorf(j, sc.inst, &x.rng, what+name+" when", fmt.Errorf("%v; it counts as false", err))
	return false
}
