package engine

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The string fast path. Most send fields are text: an address read from a
// trait, a subject template, a body template. Going through the cty fast
// path costs a cty string per attribute read (a boxed copy, and an NFC
// check), a cty string for the result, and fromCty's boxing of it again.
// The text form produces the Go string directly.
//
// It follows the fast path's contract: it gives exactly the text of the
// value hclsyntax would give (value.AsString(), the value being a known,
// non-null string), or ok = false, and then the caller takes the general
// path. That includes cty's normalisation: every cty string is NFC, made
// so by cty.StringVal each time a value is built (an attribute read, a
// template's result). The text form normalises at the same points, and
// skips it where the text is ASCII, which NFC leaves unchanged.
// TestFastPathMatchesHCL compares it with hclsyntax too.
type text struct {
	// str returns the string in an interface, ready for Send.Fields. A
	// string that is already held in one (a trait, a property, a literal)
	// is handed back as it is rather than boxed again.
	str func(r *run, sc scope) (any, bool)
	// app appends the string to r.buf and reports whether it is all ASCII,
	// so that an enclosing template knows whether it must normalise. On
	// failure r.buf is as it was.
	app func(r *run, sc scope) (ascii, ok bool)
}

// text compiles the text form of x, or returns nil when x is not a shape
// whose value is always a string.
func (b *builder) text(x hclsyntax.Expression) *text {
	switch e := x.(type) {
	case *hclsyntax.LiteralValueExpr:
		if v := e.Val; v.Type() == cty.String && v.IsKnown() && !v.IsNull() && !v.IsMarked() {
			return literalText(v.AsString())
		}
	case *hclsyntax.ParenthesesExpr:
		return b.text(e.Expression)
	case *hclsyntax.TemplateWrapExpr:
		// "${x}" is x itself.
		return b.text(e.Wrapped)
	case *hclsyntax.ScopeTraversalExpr:
		if get := b.traversalString(e.Traversal); get != nil {
			return stringText(get)
		}
	case *hclsyntax.TemplateExpr:
		return b.templateText(e)
	case *hclsyntax.ConditionalExpr:
		return b.conditionalText(e)
	case *hclsyntax.FunctionCallExpr:
		if e.Name == escapeHTMLFunc {
			return b.escapeHTMLText(e)
		}
		// template("literal path"): the template's own text form (nil
		// until it is compiled, which keeps templates from recursing).
		if t := b.calledTemplate(e); t != nil && t.text != nil {
			return budgetedText(t.text)
		}
	}
	return nil
}

// literalText is a string known at New: boxed once, its ASCII-ness known.
func literalText(s string) *text {
	boxed, ascii := any(s), isASCII(s)
	return &text{
		str: func(*run, scope) (any, bool) { return boxed, true },
		app: func(r *run, _ scope) (bool, bool) {
			r.buf = append(r.buf, s...)
			return ascii, true
		},
	}
}

// getString reads a string attribute of a variable as the customer's state
// holds it: s, and the interface it is stored in (nil when it is not stored
// in one). ok is false when the attribute is missing or is not a Go string
// of a type that makes it a cty string: a null, a number HCL would format,
// a value the slow path converts or reports.
type getString func(r *run, sc scope) (s string, held any, ok bool)

// stringText is the text form of an attribute read: cty.StringVal would
// normalise it, so a non-ASCII string is normalised here too.
func stringText(get getString) *text {
	return &text{
		str: func(r *run, sc scope) (any, bool) {
			s, held, ok := get(r, sc)
			if !ok {
				return nil, false
			}
			if !isASCII(s) {
				if n := cty.NormalizeString(s); n != s {
					return n, true
				}
			}
			if held != nil {
				return held, true
			}
			return s, true
		},
		app: func(r *run, sc scope) (bool, bool) {
			s, _, ok := get(r, sc)
			if !ok {
				return false, false
			}
			ascii := isASCII(s)
			if !ascii {
				s = cty.NormalizeString(s)
			}
			r.buf = append(r.buf, s...)
			return ascii, true
		},
	}
}

// traversalString is fastTraversal for string attributes: now,
// customer.id, and one attribute of customer, event or entry, read where
// fastTraversal reads it and accepted where it would give a cty string.
func (b *builder) traversalString(tr hcl.Traversal) getString {
	root := tr.RootName()
	if root == "now" && len(tr) == 1 {
		return func(r *run, _ scope) (string, any, bool) { return r.nowVal().AsString(), nil, true }
	}
	if root == "unsubscribe_url" && len(tr) == 1 {
		return func(_ *run, sc scope) (string, any, bool) { return sc.unsub, nil, true }
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
			return func(r *run, _ scope) (string, any, bool) { return r.c.ID, nil, true }
		}
		if b.e.traits != nil {
			k := -1
			for i, f := range b.e.traits {
				if f.name == name {
					k = i
				}
			}
			if k < 0 || !stringTyped(b.e.traits[k]) {
				return nil // undeclared (HCL reports it), or never a string
			}
		}
		// Declared or not, a trait that is a Go string is that cty string
		// (typedQuiet and toCty); a missing one bails.
		return func(r *run, _ scope) (string, any, bool) {
			v := r.c.Traits[name]
			s, ok := v.(string)
			return s, v, ok
		}
	case "event":
		return func(r *run, sc scope) (string, any, bool) {
			if sc.ev == nil {
				return "", nil, false
			}
			return r.propString(sc.ev.name, sc.ev.props, name)
		}
	case "entry":
		return func(r *run, sc scope) (string, any, bool) {
			if sc.inst == nil {
				return "", nil, false
			}
			return r.propString(sc.inst.EntryEvent, sc.inst.Entry, name)
		}
	}
	return nil
}

// stringTyped says whether a declared field holding a Go string reads as
// that string (typedQuiet), rather than converted or refused.
func stringTyped(f field) bool {
	return f.ty == cty.String || f.ty == cty.DynamicPseudoType
}

// propString is prop for string properties.
func (r *run) propString(event string, props map[string]any, name string) (string, any, bool) {
	decl, declared := r.e.events[event]
	if !declared {
		v := props[name]
		s, ok := v.(string)
		return s, v, ok
	}
	for _, f := range decl {
		if f.name == name {
			if !stringTyped(f) {
				return "", nil, false
			}
			v := props[name]
			s, ok := v.(string)
			return s, v, ok
		}
	}
	return "", nil, false
}

// textParts compiles the parts of a template into one function that
// appends their texts to r.buf, reporting whether all of it is ASCII; nil
// when a part has no text form. Every part value is a cty string that
// hclsyntax concatenates as it is, so a part that is a template normalises
// its own result (app), as hclsyntax does when it builds that value.
func (b *builder) textParts(e *hclsyntax.TemplateExpr) func(r *run, sc scope) (ascii, ok bool) {
	parts := make([]*text, len(e.Parts))
	for i, p := range e.Parts {
		if parts[i] = b.text(p); parts[i] == nil {
			return nil
		}
	}
	return func(r *run, sc scope) (bool, bool) {
		start, ascii := len(r.buf), true
		for _, p := range parts {
			a, ok := p.app(r, sc)
			if !ok {
				r.buf = r.buf[:start]
				return false, false
			}
			ascii = ascii && a
		}
		return ascii, true
	}
}

// templateText is a template's text: its parts concatenated, normalised
// unless they are all ASCII. Literal parts have their ASCII-ness worked out
// at New, so a long body is not scanned on every send.
func (b *builder) templateText(e *hclsyntax.TemplateExpr) *text {
	if e.IsStringLiteral() {
		return literalText(literalString(e))
	}
	parts := b.textParts(e)
	if parts == nil {
		return nil
	}
	return &text{
		str: func(r *run, sc scope) (any, bool) {
			start := len(r.buf)
			ascii, ok := parts(r, sc)
			if !ok {
				return nil, false
			}
			s := string(r.buf[start:])
			r.buf = r.buf[:start]
			if !ascii {
				s = cty.NormalizeString(s)
			}
			return s, true
		},
		app: func(r *run, sc scope) (bool, bool) {
			start := len(r.buf)
			ascii, ok := parts(r, sc)
			if ok && !ascii {
				s := cty.NormalizeString(string(r.buf[start:]))
				r.buf = append(r.buf[:start], s...)
			}
			return ascii, ok
		},
	}
}

// conditionalText is fastConditional's text form: the chosen template's
// text.
func (b *builder) conditionalText(e *hclsyntax.ConditionalExpr) *text {
	_, t1 := e.TrueResult.(*hclsyntax.TemplateExpr)
	_, t2 := e.FalseResult.(*hclsyntax.TemplateExpr)
	if !t1 || !t2 {
		return nil
	}
	cond, yes, no := b.fast(e.Condition), b.text(e.TrueResult), b.text(e.FalseResult)
	if cond == nil || yes == nil || no == nil {
		return nil
	}
	pick := func(r *run, sc scope) *text {
		c, ok := cond(r, sc)
		switch {
		case !ok || !isBool(c):
			return nil
		case c.True():
			return yes
		}
		return no
	}
	return &text{
		str: func(r *run, sc scope) (any, bool) {
			if t := pick(r, sc); t != nil {
				return t.str(r, sc)
			}
			return nil, false
		},
		app: func(r *run, sc scope) (bool, bool) {
			if t := pick(r, sc); t != nil {
				return t.app(r, sc)
			}
			return false, false
		},
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// value evaluates x to the JSON-like Go value fromCty gives, through the
// text form when x has one and it applies.
func (r *run) value(x *expr, sc scope) (any, error) {
	if x.str != nil && !r.slow {
		if v, ok := r.strValue(x.str, sc); ok {
			return v, nil
		}
	}
	if x.obj != nil && !r.slow {
		if v, ok := r.strValue(x.obj, sc); ok {
			return v, nil
		}
	}
	v, err := r.eval(x, sc)
	if err != nil {
		return nil, err
	}
	return fromCty(v)
}

// strValue runs x's text or object form. A condition in it runs cty
// operations, which panic on a few unexpected inputs: like eval, it must
// not take Step down, and eval then reports the problem.
func (r *run) strValue(f goFn, sc scope) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return f(r, sc)
}

// The object form. A send's data is most often an object of text fields
// (`{ customer = customer.id, reason = "activation" }`): through cty it
// costs a cty value per field, the object, and fromCty's walk to turn it
// back into Go. The object form builds the map fromCty would give directly.
//
// It follows the fast path's contract with fromCty(value) as the result:
// exactly what fromCty gives for the value hclsyntax would give, or ok =
// false, and then the caller takes the general path. TestFastPathMatchesHCL
// compares it with hclsyntax and fromCty too.
type goFn func(r *run, sc scope) (any, bool)

// goValue compiles the Go form of x, the value of an object item: its text
// form where it has one, an object's object form, and otherwise (or when
// the text form declines, say a trait that is a number) the fast path's
// value through fromCty. nil when x has none of these.
func (b *builder) goValue(x hclsyntax.Expression) goFn {
	if obj := b.object(x); obj != nil {
		return obj
	}
	var str goFn
	if t := b.text(x); t != nil {
		str = t.str
	}
	var conv goFn
	if lit, ok := unwrap(x).(*hclsyntax.LiteralValueExpr); ok {
		// A literal's Go value is worked out once: a scalar, shared.
		v, err := fromCty(lit.Val)
		if err != nil || !lit.Val.Type().IsPrimitiveType() && !lit.Val.IsNull() {
			return nil
		}
		conv = func(*run, scope) (any, bool) { return v, true }
	} else if f := b.fast(x); f != nil {
		conv = func(r *run, sc scope) (any, bool) {
			v, ok := f(r, sc)
			if !ok {
				return nil, false
			}
			g, err := fromCty(v)
			return g, err == nil
		}
	}
	switch {
	case str == nil:
		return conv
	case conv == nil:
		return str
	}
	return func(r *run, sc scope) (any, bool) {
		if v, ok := str(r, sc); ok {
			return v, true
		}
		return conv(r, sc)
	}
}

// unwrap strips the parentheses and "${...}" wrappers that leave a value as
// it is.
func unwrap(x hclsyntax.Expression) hclsyntax.Expression {
	for {
		switch e := x.(type) {
		case *hclsyntax.ParenthesesExpr:
			x = e.Expression
		case *hclsyntax.TemplateWrapExpr:
			x = e.Wrapped
		default:
			return x
		}
	}
}

// object compiles the object form of an object constructor whose keys are
// names or have a text form and whose values have a Go form; nil for any
// other expression.
func (b *builder) object(x hclsyntax.Expression) goFn {
	e, ok := unwrap(x).(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	type item struct {
		key   string // a name, NFC as cty.ObjectVal makes it
		keyFn *text  // or a computed key
		val   goFn
	}
	items := make([]item, len(e.Items))
	for i, it := range e.Items {
		k, ok := it.KeyExpr.(*hclsyntax.ObjectConsKeyExpr)
		if !ok {
			return nil
		}
		name := ""
		if !k.ForceNonLiteral {
			if st, isTr := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); isTr && len(st.Traversal) > 1 {
				return nil // HCL refuses an ambiguous dotted key
			}
			name = hcl.ExprAsKeyword(k.Wrapped)
		}
		if name != "" {
			items[i].key = cty.NormalizeString(name)
		} else if items[i].keyFn = b.text(k.Wrapped); items[i].keyFn == nil {
			return nil
		}
		if items[i].val = b.goValue(it.ValueExpr); items[i].val == nil {
			return nil
		}
	}
	return func(r *run, sc scope) (any, bool) {
		out := make(map[string]any, len(items))
		for _, it := range items {
			key := it.key
			if it.keyFn != nil {
				k, ok := it.keyFn.str(r, sc)
				if !ok {
					return nil, false
				}
				key = k.(string)
			}
			v, ok := it.val(r, sc)
			if !ok {
				return nil, false
			}
			// Later items win, as in hclsyntax.
			out[key] = v
		}
		return out, true
	}
}

// budgetedText is a template's text form counted against the Step's
// maxRenderedBytes, as render counts it; past the bound it fails, and the
// general path reports the error.
func budgetedText(t *text) *text {
	return &text{
		str: func(r *run, sc scope) (any, bool) {
			if r.rendered > maxRenderedBytes {
				return nil, false
			}
			v, ok := t.str(r, sc)
			if s, isString := v.(string); ok && isString {
				r.rendered += len(s)
			}
			return v, ok
		},
		app: func(r *run, sc scope) (bool, bool) {
			if r.rendered > maxRenderedBytes {
				return false, false
			}
			start := len(r.buf)
			ascii, ok := t.app(r, sc)
			r.rendered += len(r.buf) - start
			return ascii, ok
		},
	}
}
