package compiler

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The types pass finds an expression's type by evaluating it with unknown
// values, which allocates at every node. Most expressions in a workspace are
// a handful of shapes whose type is plain from the syntax (customer.email,
// "Hi ${customer.name}", event.plan != "free" && customer.ltv > 100), so infer
// types those without evaluating and says when it cannot. It must agree
// with evaluation exactly: whenever infer succeeds, e.Value returns a value
// of that type and no diagnostics at all; whenever it is unsure (a shape it
// does not know, an operand that evaluation could reject) it fails and the
// caller evaluates as before. TestInferAgreesWithEvaluation holds it to that.

// inferred is what infer knows of an expression's value.
type inferred struct {
	typ   cty.Type
	known bool // the value is known (built from literals only)
}

// infer returns the type e evaluates to in ctx, or ok false when it cannot
// be sure that evaluation succeeds without diagnostics.
func infer(e hclsyntax.Expression, ctx *hcl.EvalContext) (inferred, bool) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		if !e.Val.IsKnown() || e.Val.IsMarked() {
			return inferred{}, false
		}
		return inferred{e.Val.Type(), true}, true
	case *hclsyntax.ScopeTraversalExpr:
		return inferTraversal(e.Traversal, ctx)
	case *hclsyntax.ParenthesesExpr:
		return infer(e.Expression, ctx)
	case *hclsyntax.TemplateWrapExpr:
		return infer(e.Wrapped, ctx)
	case *hclsyntax.TemplateExpr:
		known := true
		for _, part := range e.Parts {
			p, ok := infer(part, ctx)
			if !ok {
				return inferred{}, false
			}
			switch {
			case p.typ == cty.String || p.typ == cty.Number || p.typ == cty.Bool:
			case p.typ == cty.DynamicPseudoType && !p.known:
				// an unknown value of unknown type: evaluation skips it
			default:
				return inferred{}, false // null, or a collection: evaluation may reject it
			}
			known = known && p.known
		}
		return inferred{cty.String, known}, true
	case *hclsyntax.BinaryOpExpr:
		l, ok := infer(e.LHS, ctx)
		if !ok {
			return inferred{}, false
		}
		r, ok := infer(e.RHS, ctx)
		if !ok {
			return inferred{}, false
		}
		switch e.Op {
		case hclsyntax.OpEqual, hclsyntax.OpNotEqual:
			// Equality takes any values, null and unknown included.
			return inferred{cty.Bool, l.known && r.known}, true
		case hclsyntax.OpLogicalAnd, hclsyntax.OpLogicalOr:
			if boolish(l) && boolish(r) {
				return inferred{cty.Bool, l.known && r.known}, true
			}
		case hclsyntax.OpGreaterThan, hclsyntax.OpGreaterThanOrEqual, hclsyntax.OpLessThan, hclsyntax.OpLessThanOrEqual:
			// Comparing two numbers cannot fail, known or not.
			if numberish(l) && numberish(r) {
				return inferred{cty.Bool, l.known && r.known}, true
			}
		case hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpMultiply, hclsyntax.OpDivide, hclsyntax.OpModulo:
			// With an unknown operand the operation is not carried out, so
			// it cannot fail; two known numbers may (division by zero), so
			// evaluation decides.
			if numberish(l) && numberish(r) && !(l.known && r.known) {
				return inferred{cty.Number, false}, true
			}
		}
		return inferred{}, false
	case *hclsyntax.UnaryOpExpr:
		v, ok := infer(e.Val, ctx)
		switch {
		case !ok:
		case e.Op == hclsyntax.OpLogicalNot && boolish(v):
			return inferred{cty.Bool, v.known}, true
		case e.Op == hclsyntax.OpNegate && numberish(v):
			return inferred{cty.Number, v.known}, true
		}
		return inferred{}, false
	}
	return inferred{}, false
}

// boolish is an operand that && || and ! take without converting or
// failing: a bool that is not null, or an unknown value of unknown type.
func boolish(v inferred) bool {
	return v.typ == cty.Bool || (v.typ == cty.DynamicPseudoType && !v.known)
}

// numberish is an operand that arithmetic and comparisons take without
// converting or failing: a number (never null when its type is known), or
// an unknown value of unknown type.
func numberish(v inferred) bool {
	return v.typ == cty.Number || (v.typ == cty.DynamicPseudoType && !v.known)
}

// inferTraversal types a variable followed by attribute names, like
// customer.email, from the unknown values of the evaluation context.
func inferTraversal(tr hcl.Traversal, ctx *hcl.EvalContext) (inferred, bool) {
	if len(tr) == 0 || ctx == nil || ctx.Parent() != nil {
		return inferred{}, false
	}
	root, ok := tr[0].(hcl.TraverseRoot)
	if !ok {
		return inferred{}, false
	}
	v, ok := ctx.Variables[root.Name]
	if !ok || v.IsKnown() || v.IsMarked() {
		return inferred{}, false
	}
	t := v.Type()
	for _, step := range tr[1:] {
		attr, ok := step.(hcl.TraverseAttr)
		if !ok {
			return inferred{}, false
		}
		switch {
		case t == cty.DynamicPseudoType:
		case t.IsObjectType() && t.HasAttribute(attr.Name):
			t = t.AttributeType(attr.Name)
		default:
			return inferred{}, false
		}
	}
	return inferred{t, false}, true
}

// collect gathers, in one walk, what the types pass checks in an
// expression: its variables in the order e.Variables() gives them and its
// function calls in the order hclsyntax.VisitAll visits them. It appends to
// c.travs and c.calls and returns false, having appended nothing, for a
// shape it does not walk (a for expression, whose local names hide
// variables); the caller then uses e.Variables and VisitAll.
func (c *checker) collect(e hclsyntax.Expression) bool {
	ts, cs := len(c.travs), len(c.calls)
	if c.collectNode(e) {
		return true
	}
	c.travs, c.calls = c.travs[:ts], c.calls[:cs]
	return false
}

func (c *checker) collectNode(e hclsyntax.Expression) bool {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.ScopeTraversalExpr:
		c.travs = append(c.travs, e.Traversal)
		return true
	case *hclsyntax.ParenthesesExpr:
		return c.collectNode(e.Expression)
	case *hclsyntax.TemplateWrapExpr:
		return c.collectNode(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if !c.collectNode(p) {
				return false
			}
		}
		return true
	case *hclsyntax.BinaryOpExpr:
		return c.collectNode(e.LHS) && c.collectNode(e.RHS)
	case *hclsyntax.UnaryOpExpr:
		return c.collectNode(e.Val)
	case *hclsyntax.FunctionCallExpr:
		c.calls = append(c.calls, e)
		for _, a := range e.Args {
			if !c.collectNode(a) {
				return false
			}
		}
		return true
	case *hclsyntax.ConditionalExpr:
		return c.collectNode(e.Condition) && c.collectNode(e.TrueResult) && c.collectNode(e.FalseResult)
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			if !c.collectNode(x) {
				return false
			}
		}
		return true
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			if !c.collectNode(item.KeyExpr) || !c.collectNode(item.ValueExpr) {
				return false
			}
		}
		return true
	case *hclsyntax.ObjectConsKeyExpr:
		// A bare name is the key itself, not a variable: hclsyntax walks
		// the wrapped expression only when it is not one.
		if hcl.ExprAsKeyword(e.Wrapped) != "" {
			return true
		}
		return c.collectNode(e.Wrapped)
	case *hclsyntax.IndexExpr:
		return c.collectNode(e.Collection) && c.collectNode(e.Key)
	case *hclsyntax.RelativeTraversalExpr:
		return c.collectNode(e.Source)
	}
	return false
}
