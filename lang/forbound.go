package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// MaxForElements is how many elements a for expression (or a %{ for }
// directive, which hclsyntax parses as one) may iterate over. The time
// goes less in the loop than in what comes after: cty converts a tuple of
// n elements to a list (join, flatten's argument, any list parameter) in
// time quadratic in n, so join("", [for x in c : x]) takes some 15 ms at
// 1,024 elements and over a second at 10,000. The limit equals what
// range() may make, so every for over a range() still works.
const MaxForElements = 1024

// MaxTupleElements is how many elements a tuple may have where a
// workspace or a function makes one: a list literal `[...]` in a file,
// and what jsondecode, flatten and concat return (at any depth for
// jsondecode). Tuples, unlike lists, pay that quadratic conversion
// wherever a list is wanted: join("", jsondecode(a 1 MiB JSON array))
// would take minutes of one step. Event properties are bounded by ingest's
// 32 KB an event.
const MaxTupleElements = 4096

// forCollectionFunc is the function every for expression's collection is
// passed through (see boundFor). Its name starts with "_", which no
// identifier in a journey may, so only the parse puts it there.
const forCollectionFunc = "_for_collection"

var forCollectionFn = function.New(&function.Spec{
	Description: "Refuses a for expression's collection of more than MaxForElements elements.",
	Params: []function.Parameter{{
		Name: "collection", Type: cty.DynamicPseudoType,
		AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, _ := args[0].Unmark()
		if !v.IsKnown() || v.IsNull() {
			return args[0], nil
		}
		if t := v.Type(); t.IsListType() || t.IsSetType() || t.IsMapType() || t.IsTupleType() || t.IsObjectType() {
			if n := v.LengthInt(); n > MaxForElements {
				return cty.NilVal, fmt.Errorf("a for expression may go over at most %d elements and this collection has %d; filter or slice it first (slice(list, 0, %d))",
					MaxForElements, n, MaxForElements)
			}
		}
		return args[0], nil
	},
})

// ForBodies returns the parts of a for expression that run once per
// element: its key, value and condition, those written.
func ForBodies(e *hclsyntax.ForExpr) []hclsyntax.Expression {
	var out []hclsyntax.Expression
	for _, x := range []hclsyntax.Expression{e.KeyExpr, e.ValExpr, e.CondExpr} {
		if x != nil {
			out = append(out, x)
		}
	}
	return out
}

// boundFor refuses a for expression nested in another's key, value or
// condition (each inner one multiplies the work; a for in another's
// collection only adds to it) and passes every for expression's
// collection through forCollectionFunc, so that neither a journey nor an
// event can make one for expression iterate more than MaxForElements
// times.
func boundFor(n hclsyntax.Node) hcl.Diagnostics {
	var diags hcl.Diagnostics
	reported := map[*hclsyntax.ForExpr]bool{}
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		e, ok := n.(*hclsyntax.ForExpr)
		if !ok {
			return nil
		}
		for _, body := range ForBodies(e) {
			_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				inner, ok := n.(*hclsyntax.ForExpr)
				if !ok || reported[inner] {
					return nil
				}
				reported[inner] = true
				r := inner.SrcRange
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nested for expressions",
					Detail: "A for expression (or %{ for } directive) may not be inside another's value, key or condition: the work multiplies with each level. " +
						"Iterate once, over a flat list: have the event's sender flatten it, or use flatten() on the collection before the for.",
					Subject: &r,
				})
				return nil
			})
		}
		return nil
	})
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		if e, ok := n.(*hclsyntax.TupleConsExpr); ok && len(e.Exprs) > MaxTupleElements {
			r := e.SrcRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "List too long",
				Detail: fmt.Sprintf("A list written in a file may have at most %d elements and this one has %d: keep large data out of journeys (an event property or a trait can carry it).",
					MaxTupleElements, len(e.Exprs)),
				Subject: &r,
			})
		}
		return nil
	})
	// Wrapped after the check: the check's walk must not see half-wrapped
	// nodes, and the wrapping must see every for expression, reported or not.
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		if e, ok := n.(*hclsyntax.ForExpr); ok {
			if c, ok := e.CollExpr.(*hclsyntax.FunctionCallExpr); ok && c.Name == forCollectionFunc {
				return nil
			}
			r := e.CollExpr.Range()
			start := hcl.Range{Filename: r.Filename, Start: r.Start, End: r.Start}
			e.CollExpr = &hclsyntax.FunctionCallExpr{
				Name: forCollectionFunc, Args: []hclsyntax.Expression{e.CollExpr},
				NameRange: start, OpenParenRange: start, CloseParenRange: hcl.Range{Filename: r.Filename, Start: r.End, End: r.End},
			}
		}
		return nil
	})
	return diags
}

// tupleTooLong reports the first tuple in v, at any depth, with more than
// MaxTupleElements elements.
func tupleTooLong(v cty.Value) (int, bool) {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	t := v.Type()
	if !t.IsTupleType() && !t.IsObjectType() && !t.IsListType() && !t.IsMapType() && !t.IsSetType() {
		return 0, false
	}
	if t.IsTupleType() && v.LengthInt() > MaxTupleElements {
		return v.LengthInt(), true
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if n, long := tupleTooLong(e); long {
			return n, true
		}
	}
	return 0, false
}
