package engine

import (
	"html"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// HTML escaping of an smtp send's html field. Its expression is markup
// written by the journey's author with values interpolated into it; a value
// (a trait, a property, a function's result) is escaped the way Go's
// html/template escapes it, so a first_name of `<a href=...>` arrives as
// text, not as a link. What the author wrote is kept as it is: the string
// literals of the expression, the text of template files (rendered through
// template(), which escapes their own interpolations in turn), and values
// passed through trusted_html(), the documented opt-out.
//
// It is done by rewriting the parsed expression once, in New: every
// interpolated value x becomes escapeHTMLFunc(x), and template("p") becomes
// htmlTemplateFunc("p"), the rendering of the template's escaped variant.
// Neither name can be written in a journey (the compiler knows no such
// function), so the rewrite is the only way to call them.
const (
	escapeHTMLFunc   = "_html_escape"
	htmlTemplateFunc = "_html_template"
)

// escapeHTML returns x with every interpolated value escaped.
func escapeHTML(x hclsyntax.Expression) hclsyntax.Expression {
	switch e := x.(type) {
	case *hclsyntax.LiteralValueExpr:
		return e // the author's markup (or a number, which needs nothing)
	case *hclsyntax.TemplateExpr:
		out := *e
		out.Parts = make([]hclsyntax.Expression, len(e.Parts))
		for i, p := range e.Parts {
			out.Parts[i] = escapeHTML(p)
		}
		return &out
	case *hclsyntax.TemplateWrapExpr:
		out := *e
		out.Wrapped = escapeHTML(e.Wrapped)
		return &out
	case *hclsyntax.ParenthesesExpr:
		out := *e
		out.Expression = escapeHTML(e.Expression)
		return &out
	case *hclsyntax.ConditionalExpr:
		// %{ if } in a template, or a ? b : c: the condition is not output.
		out := *e
		out.TrueResult, out.FalseResult = escapeHTML(e.TrueResult), escapeHTML(e.FalseResult)
		return &out
	case *hclsyntax.TemplateJoinExpr:
		// %{ for }: the body is a template, output once per item.
		if f, ok := e.Tuple.(*hclsyntax.ForExpr); ok {
			fo := *f
			fo.ValExpr = escapeHTML(f.ValExpr)
			out := *e
			out.Tuple = &fo
			return &out
		}
	case *hclsyntax.FunctionCallExpr:
		switch e.Name {
		case "trusted_html":
			return e
		case "template":
			out := *e
			out.Name = htmlTemplateFunc
			return &out
		}
	}
	return &hclsyntax.FunctionCallExpr{
		Name: escapeHTMLFunc, Args: []hclsyntax.Expression{x},
		NameRange: x.Range(), OpenParenRange: x.Range(), CloseParenRange: x.Range(),
	}
}

// escapeHTMLFn is escapeHTMLFunc: its argument converted to a string as a
// template interpolation converts it, then escaped like html/template's
// HTMLEscapeString (html.EscapeString escapes the same five characters).
var escapeHTMLFn = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(html.EscapeString(args[0].AsString())), nil
	},
})

// fastEscapeHTML is the fast form of escapeHTMLFunc(x): x's fast value when
// it is a known string (anything else, the function converts or refuses, so
// the general path takes it).
func (b *builder) fastEscapeHTML(e *hclsyntax.FunctionCallExpr) fastFn {
	if len(e.Args) != 1 || e.ExpandFinal {
		return nil
	}
	arg := b.fast(e.Args[0])
	if arg == nil {
		return nil
	}
	return func(r *run, sc scope) (cty.Value, bool) {
		v, ok := arg(r, sc)
		if !ok || !v.IsKnown() || v.IsNull() || v.Type() != cty.String || v.IsMarked() {
			return cty.NilVal, false
		}
		return cty.StringVal(html.EscapeString(v.AsString())), true
	}
}

// escapeHTMLText is the text form of escapeHTMLFunc(x). Escaping replaces
// ASCII characters with ASCII entities, so the text stays normalised and
// keeps its ASCII-ness.
func (b *builder) escapeHTMLText(e *hclsyntax.FunctionCallExpr) *text {
	if len(e.Args) != 1 || e.ExpandFinal {
		return nil
	}
	arg := b.text(e.Args[0])
	if arg == nil {
		return nil
	}
	return &text{
		str: func(r *run, sc scope) (any, bool) {
			v, ok := arg.str(r, sc)
			if !ok {
				return nil, false
			}
			s, isString := v.(string)
			if !isString {
				return nil, false
			}
			if esc := html.EscapeString(s); esc != s {
				return esc, true
			}
			return v, true
		},
		app: func(r *run, sc scope) (bool, bool) {
			start := len(r.buf)
			ascii, ok := arg.app(r, sc)
			if !ok {
				return false, false
			}
			if esc := html.EscapeString(string(r.buf[start:])); len(esc) != len(r.buf)-start {
				r.buf = append(r.buf[:start], esc...)
			}
			return ascii, true
		},
	}
}
