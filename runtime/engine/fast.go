package engine

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The fast path. Evaluating an expression through hclsyntax costs a context
// with every variable built as a cty object, and function-call machinery for
// every operator. Most journey expressions are a few shapes — an attribute
// of customer, event or entry, a comparison, a string template, an object of
// such — so New compiles those shapes to closures that read the customer's
// Go values directly and convert only the attributes they touch.
//
// The contract: a fast function either returns exactly the value hclsyntax
// would (same type, RawEquals) or reports ok = false, and then the
// expression is evaluated by hclsyntax, which also produces the error
// message when there is one. It therefore bails on anything unusual (null
// where a value is needed, a type the operator would convert, a missing
// attribute) rather than imitate HCL's diagnostics. TestFastPathMatchesHCL
// holds it to that over every expression of the examples.
type fastFn func(r *run, sc scope) (cty.Value, bool)

// fast compiles x, or returns nil when its shape is not covered.
func (b *builder) fast(x hclsyntax.Expression) fastFn {
	switch e := x.(type) {
	case *hclsyntax.LiteralValueExpr:
		v := e.Val
		return func(*run, scope) (cty.Value, bool) { return v, true }
	case *hclsyntax.ParenthesesExpr:
		return b.fast(e.Expression)
	case *hclsyntax.TemplateWrapExpr:
		// "${x}" is x itself, of whatever type.
		return b.fast(e.Wrapped)
	case *hclsyntax.ScopeTraversalExpr:
		return b.fastTraversal(e.Traversal)
	case *hclsyntax.TemplateExpr:
		return b.fastTemplate(e)
	case *hclsyntax.ConditionalExpr:
		return b.fastConditional(e)
	case *hclsyntax.BinaryOpExpr:
		return b.fastBinary(e)
	case *hclsyntax.UnaryOpExpr:
		if e.Op != hclsyntax.OpLogicalNot {
			return nil
		}
		val := b.fast(e.Val)
		if val == nil {
			return nil
		}
		return func(r *run, sc scope) (cty.Value, bool) {
			v, ok := val(r, sc)
			if !ok || !isBool(v) {
				return cty.NilVal, false
			}
			return v.Not(), true
		}
	case *hclsyntax.ObjectConsExpr:
		return b.fastObject(e)
	case *hclsyntax.TupleConsExpr:
		elems := make([]fastFn, len(e.Exprs))
		for i, ex := range e.Exprs {
			if elems[i] = b.fast(ex); elems[i] == nil {
				return nil
			}
		}
		return func(r *run, sc scope) (cty.Value, bool) {
			if len(elems) == 0 {
				return cty.EmptyTupleVal, true
			}
			vals := make([]cty.Value, len(elems))
			for i, f := range elems {
				v, ok := f(r, sc)
				if !ok {
					return cty.NilVal, false
				}
				vals[i] = v
			}
			return cty.TupleVal(vals), true
		}
	case *hclsyntax.FunctionCallExpr:
		if e.Name == escapeHTMLFunc {
			return b.fastEscapeHTML(e)
		}
		// template("literal path") renders the template's own fast form.
		t := b.calledTemplate(e)
		if t == nil || t.fast == nil {
			return nil
		}
		body := t.fast
		return func(r *run, sc scope) (cty.Value, bool) {
			if r.rendered > maxRenderedBytes {
				return cty.NilVal, false // the general path reports it
			}
			v, ok := body(r, sc)
			if !ok || v.IsNull() || v.Type() != cty.String {
				return cty.NilVal, false
			}
			r.rendered += len(v.AsString())
			return v, true
		}
	}
	return nil
}

// calledTemplate is the template that template("literal path") renders (its
// escaped variant for htmlTemplateFunc), or nil for any other call.
func (b *builder) calledTemplate(e *hclsyntax.FunctionCallExpr) *template {
	if e.Name != "template" && e.Name != htmlTemplateFunc || len(e.Args) != 1 || e.ExpandFinal {
		return nil
	}
	lit, ok := e.Args[0].(*hclsyntax.TemplateExpr)
	if !ok || !lit.IsStringLiteral() {
		return nil
	}
	t := b.e.templates[literalString(lit)]
	if t != nil && e.Name == htmlTemplateFunc {
		t = t.html
	}
	return t
}

func literalString(t *hclsyntax.TemplateExpr) string {
	if len(t.Parts) == 0 {
		return ""
	}
	return t.Parts[0].(*hclsyntax.LiteralValueExpr).Val.AsString()
}

func isBool(v cty.Value) bool {
	return v.Type() == cty.Bool && v.IsKnown() && !v.IsNull()
}

func isNumber(v cty.Value) bool {
	return v.Type() == cty.Number && v.IsKnown() && !v.IsNull()
}

// fastTraversal covers now, customer.id, and one attribute of customer,
// event or entry.
func (b *builder) fastTraversal(tr hcl.Traversal) fastFn {
	root := tr.RootName()
	if root == "now" && len(tr) == 1 {
		return func(r *run, _ scope) (cty.Value, bool) { return r.nowVal(), true }
	}
	if root == "unsubscribe_url" && len(tr) == 1 {
		return func(_ *run, sc scope) (cty.Value, bool) { return cty.StringVal(sc.unsub), true }
	}
	if len(tr) != 2 {
		return nil
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return nil
	}
	name := attr.Name
	switch root {
	case "customer":
		if name == "id" {
			return func(r *run, _ scope) (cty.Value, bool) { return cty.StringVal(r.c.ID), true }
		}
		if b.e.traits == nil {
			return func(r *run, _ scope) (cty.Value, bool) {
				v, ok := r.c.Traits[name]
				if !ok {
					return cty.NilVal, false // HCL: unsupported attribute
				}
				return toCty(v), true
			}
		}
		k := -1
		for i, f := range b.e.traits {
			if f.name == name {
				k = i
			}
		}
		if k < 0 {
			return nil // not declared: HCL reports it
		}
		return func(r *run, _ scope) (cty.Value, bool) { return r.trait(k) }
	case "event":
		return func(r *run, sc scope) (cty.Value, bool) {
			if sc.ev == nil {
				return cty.NilVal, false
			}
			return r.prop(sc.ev.name, sc.ev.props, name)
		}
	case "entry":
		return func(r *run, sc scope) (cty.Value, bool) {
			if sc.inst == nil {
				return cty.NilVal, false
			}
			return r.prop(sc.inst.EntryEvent, sc.inst.Entry, name)
		}
	}
	return nil
}

// trait returns declared trait k as `customer` holds it, converting it once
// per Step (until an update or identify changes the traits).
func (r *run) trait(k int) (cty.Value, bool) {
	if len(r.traitVals) != len(r.e.traits) {
		r.traitVals = make([]cty.Value, len(r.e.traits))
		r.traitOK = make([]bool, len(r.e.traits))
	}
	if r.traitOK[k] {
		return r.traitVals[k], true
	}
	f := r.e.traits[k]
	v, ok := typedQuiet(r.c.Traits[f.name], f)
	if !ok {
		return cty.NilVal, false // HCL's path records the mismatch
	}
	r.traitVals[k], r.traitOK[k] = v, true
	return v, true
}

// prop returns one property of an event as `event` or `entry` holds it.
func (r *run) prop(event string, props map[string]any, name string) (cty.Value, bool) {
	decl, declared := r.e.events[event]
	if !declared {
		v, ok := props[name]
		if !ok {
			return cty.NilVal, false
		}
		return toCty(v), true
	}
	for _, f := range decl {
		if f.name == name {
			return typedQuiet(props[name], f)
		}
	}
	return cty.NilVal, false
}

// typedQuiet is typed without the error record: ok is false when the value
// does not fit, and the slow path records it.
func typedQuiet(v any, f field) (cty.Value, bool) {
	if v == nil {
		return cty.NullVal(f.ty), true
	}
	cv := toCty(v)
	if f.ty == cty.DynamicPseudoType || cv.Type().Equals(f.ty) {
		return cv, true
	}
	return cty.NilVal, false
}

// fastTemplate is the cty form of a template: its text form (text.go)
// concatenates the parts, and cty.StringVal normalises the result once, as
// hclsyntax does.
func (b *builder) fastTemplate(e *hclsyntax.TemplateExpr) fastFn {
	if e.IsStringLiteral() {
		v := cty.StringVal(literalString(e))
		return func(*run, scope) (cty.Value, bool) { return v, true }
	}
	parts := b.textParts(e)
	if parts == nil {
		return nil
	}
	return func(r *run, sc scope) (cty.Value, bool) {
		start := len(r.buf)
		if _, ok := parts(r, sc); !ok {
			return cty.NilVal, false
		}
		s := string(r.buf[start:])
		r.buf = r.buf[:start]
		return cty.StringVal(s), true
	}
}

// fastConditional covers the conditional a template's %{ if } becomes: both
// results are templates, so both are strings and HCL's type unification
// is the identity, and only the chosen one's diagnostics count.
func (b *builder) fastConditional(e *hclsyntax.ConditionalExpr) fastFn {
	_, t1 := e.TrueResult.(*hclsyntax.TemplateExpr)
	_, t2 := e.FalseResult.(*hclsyntax.TemplateExpr)
	if !t1 || !t2 {
		return nil
	}
	cond, yes, no := b.fast(e.Condition), b.fast(e.TrueResult), b.fast(e.FalseResult)
	if cond == nil || yes == nil || no == nil {
		return nil
	}
	return func(r *run, sc scope) (cty.Value, bool) {
		c, ok := cond(r, sc)
		if !ok || !isBool(c) {
			return cty.NilVal, false
		}
		if c.True() {
			return yes(r, sc)
		}
		return no(r, sc)
	}
}

func (b *builder) fastBinary(e *hclsyntax.BinaryOpExpr) fastFn {
	lhs, rhs := b.fast(e.LHS), b.fast(e.RHS)
	if lhs == nil || rhs == nil {
		return nil
	}
	var op func(l, r cty.Value) (cty.Value, bool)
	switch e.Op {
	case hclsyntax.OpEqual:
		// stdlib's equal takes any values, nulls included, unconverted.
		op = func(l, r cty.Value) (cty.Value, bool) { return l.Equals(r), true }
	case hclsyntax.OpNotEqual:
		op = func(l, r cty.Value) (cty.Value, bool) { return l.Equals(r).Not(), true }
	case hclsyntax.OpLogicalAnd:
		op = boolOp(cty.Value.And)
	case hclsyntax.OpLogicalOr:
		op = boolOp(cty.Value.Or)
	case hclsyntax.OpGreaterThan:
		op = numOp(cty.Value.GreaterThan)
	case hclsyntax.OpGreaterThanOrEqual:
		op = numOp(cty.Value.GreaterThanOrEqualTo)
	case hclsyntax.OpLessThan:
		op = numOp(cty.Value.LessThan)
	case hclsyntax.OpLessThanOrEqual:
		op = numOp(cty.Value.LessThanOrEqualTo)
	default:
		return nil
	}
	general := func(r *run, sc scope) (cty.Value, bool) {
		l, ok := lhs(r, sc)
		if !ok {
			return cty.NilVal, false
		}
		rv, ok := rhs(r, sc)
		if !ok || !l.IsWhollyKnown() || !rv.IsWhollyKnown() {
			return cty.NilVal, false
		}
		return op(l, rv)
	}
	if e.Op == hclsyntax.OpEqual || e.Op == hclsyntax.OpNotEqual {
		if lt, rt := b.text(e.LHS), b.text(e.RHS); lt != nil && rt != nil {
			// Comparing two strings (`event.category == "phone"`) needs no
			// cty.Value: Equals compares known strings as Go strings, both
			// NFC, and the text forms give them NFC. Anything else (a null,
			// a number) takes the general form.
			want := e.Op == hclsyntax.OpEqual
			return func(r *run, sc scope) (cty.Value, bool) {
				if l, ok := lt.str(r, sc); ok {
					if rv, ok := rt.str(r, sc); ok {
						return cty.BoolVal((l.(string) == rv.(string)) == want), true
					}
				}
				return general(r, sc)
			}
		}
	}
	return general
}

// boolOp and numOp take operands that need no conversion and are not null;
// HCL converts ("true" is a bool to it) and has rules for nulls, which the
// slow path keeps.
func boolOp(f func(a, b cty.Value) cty.Value) func(l, r cty.Value) (cty.Value, bool) {
	return func(l, r cty.Value) (cty.Value, bool) {
		if !isBool(l) || !isBool(r) {
			return cty.NilVal, false
		}
		return f(l, r), true
	}
}

func numOp(f func(a, b cty.Value) cty.Value) func(l, r cty.Value) (cty.Value, bool) {
	return func(l, r cty.Value) (cty.Value, bool) {
		if !isNumber(l) || !isNumber(r) {
			return cty.NilVal, false
		}
		return f(l, r), true
	}
}

func (b *builder) fastObject(e *hclsyntax.ObjectConsExpr) fastFn {
	type item struct {
		key    string // a literal key
		keyFn  fastFn // or a computed one
		valFn  fastFn
		static bool
	}
	items := make([]item, len(e.Items))
	for i, it := range e.Items {
		k, ok := it.KeyExpr.(*hclsyntax.ObjectConsKeyExpr)
		if !ok {
			return nil
		}
		if !k.ForceNonLiteral {
			if st, isTr := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); isTr && len(st.Traversal) > 1 {
				return nil // HCL refuses an ambiguous dotted key
			}
			if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
				items[i].key, items[i].static = name, true
			}
		}
		if !items[i].static {
			if items[i].keyFn = b.fast(k.Wrapped); items[i].keyFn == nil {
				return nil
			}
		}
		if items[i].valFn = b.fast(it.ValueExpr); items[i].valFn == nil {
			return nil
		}
	}
	return func(r *run, sc scope) (cty.Value, bool) {
		if len(items) == 0 {
			return cty.EmptyObjectVal, true
		}
		vals := make(map[string]cty.Value, len(items))
		for _, it := range items {
			key := it.key
			if !it.static {
				k, ok := it.keyFn(r, sc)
				if !ok || k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
					return cty.NilVal, false
				}
				key = k.AsString()
			}
			v, ok := it.valFn(r, sc)
			if !ok {
				return cty.NilVal, false
			}
			vals[key] = v
		}
		return cty.ObjectVal(vals), true
	}
}
