package compiler

import (
	"math/big"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
)

// resolveMaps checks the `map` blocks of a journey's stages (the journey
// map: phase, touchpoint, emotion, pain points, opportunities) and keeps
// them for lowering. They are literals: a map describes a design, not data.
func (c *checker) resolveMaps(jr *journey) {
	for _, s := range jr.decl.Stages {
		m := s.Map
		if m == nil {
			continue
		}
		out := &ir.Map{}
		if m.Phase != nil {
			if v, ok := c.staticString(m.Phase, "a phase"); ok {
				if contains(lang.MapPhases, v) {
					out.Phase = v
				} else {
					c.errorf(m.Phase.Expr.Range(), "Unknown phase", "%q is not a journey-map phase: awareness, interest, consideration, purchase, use or loyalty.%s",
						v, suggest.Hint(v, lang.MapPhases, ""))
				}
			}
		}
		if m.Touchpoint != nil {
			out.Touchpoint, _ = c.staticString(m.Touchpoint, "a touchpoint")
		}
		if m.Emotion != nil {
			out.Emotion = c.emotion(m.Emotion)
		}
		out.PainPoints = c.staticStrings(m.PainPoints)
		out.Opportunities = c.staticStrings(m.Opportunities)
		if jr.maps == nil {
			jr.maps = map[string]*ir.Map{}
		}
		jr.maps[s.Name.Value] = out
	}
}

// emotion reads a whole number literal from -2 to 2.
func (c *checker) emotion(a *lang.Attr) int {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "number" {
		c.errorf(a.Expr.Range(), "Expected a number literal", "`emotion` takes a whole number from -2 (very negative) to 2 (very positive), written out.")
		return 0
	}
	f := v.AsBigFloat()
	if !f.IsInt() || f.Cmp(big.NewFloat(-2)) < 0 || f.Cmp(big.NewFloat(2)) > 0 {
		c.errorf(a.Expr.Range(), "Emotion out of range", "`emotion` is %s: it must be a whole number from -2 (very negative) to 2 (very positive).", f.Text('g', -1))
		return 0
	}
	n, _ := f.Int64()
	return int(n)
}

// staticStrings reads a list of string literals; nil for a missing attribute.
func (c *checker) staticStrings(a *lang.Attr) []string {
	if a == nil {
		return nil
	}
	tup, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		c.errorf(a.Expr.Range(), "Expected a list of strings", "`%s` takes a list of strings, written out: [\"first\", \"second\"].", a.Name)
		return nil
	}
	out := []string{}
	for _, e := range tup.Exprs {
		v, ok := lang.StaticString(e)
		if !ok {
			c.errorf(e.Range(), "Expected a string literal", "Each item of `%s` is a string, written out as a literal.", a.Name)
			continue
		}
		out = append(out, v)
	}
	return out
}
