package lang

import (
	"github.com/apparentlymart/go-textseg/v15/textseg"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Reference is a name an expression points at without evaluating it:
// `stage.X`, `channel.X`, `policy.X`, `journey.X`, or the target `end`.
type Reference struct {
	Kind      string    // "stage", "channel", "policy", "journey" or "end"
	Name      string    // empty for end
	Range     hcl.Range // the whole traversal
	NameRange hcl.Range // the name part (the whole range for end)
}

// AsReference reads expr as a reference. ok is false when expr is not a plain
// traversal of the form KIND.NAME or the keyword end.
func AsReference(expr hclsyntax.Expression) (Reference, bool) {
	st, isTraversal := expr.(*hclsyntax.ScopeTraversalExpr)
	if !isTraversal {
		return Reference{}, false
	}
	tr := st.Traversal
	root, ok := tr[0].(hcl.TraverseRoot)
	if !ok {
		return Reference{}, false
	}
	if len(tr) == 1 {
		if root.Name != "end" {
			return Reference{}, false
		}
		return Reference{Kind: "end", Range: st.SrcRange, NameRange: st.SrcRange}, true
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok || len(tr) != 2 {
		return Reference{}, false
	}
	name := attr.SrcRange
	if name.End.Byte-name.Start.Byte == len(attr.Name)+1 { // the range includes the dot
		name.Start.Byte++
		name.Start.Column++
	}
	return Reference{Kind: root.Name, Name: attr.Name, Range: st.SrcRange, NameRange: name}, true
}

// StaticString returns the value of a string literal with no interpolation.
func StaticString(expr hclsyntax.Expression) (string, bool) {
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) == 0 {
			return "", true
		}
		if len(e.Parts) != 1 {
			return "", false
		}
		lit, ok := e.Parts[0].(*hclsyntax.LiteralValueExpr)
		if !ok || lit.Val.Type() != cty.String || lit.Val.IsNull() {
			return "", false
		}
		return lit.Val.AsString(), true
	case *hclsyntax.TemplateWrapExpr:
		return StaticString(e.Wrapped)
	}
	return "", false
}

// InString returns the range of bytes [start, end) of the content of a quoted
// string literal whose source, quotes included, is at lit. When the source
// text differs from value (escapes), it returns lit: the best it can say.
func InString(src []byte, lit hcl.Range, value string, start, end int) hcl.Range {
	if !lit.CanSliceBytes(src) || lit.End.Line != lit.Start.Line {
		return lit
	}
	raw := lit.SliceBytes(src)
	if len(raw) < 2 || raw[0] != '"' || string(raw[1:len(raw)-1]) != value {
		return lit
	}
	start = min(max(start, 0), len(value))
	end = min(max(end, start), len(value))
	if end == start && end < len(value) {
		end++ // an empty range is invisible: cover one character
	}
	pos := func(off int) hcl.Pos {
		return hcl.Pos{
			Line:   lit.Start.Line,
			Column: lit.Start.Column + 1 + graphemes(value[:off]),
			Byte:   lit.Start.Byte + 1 + off,
		}
	}
	return hcl.Range{Filename: lit.Filename, Start: pos(start), End: pos(end)}
}

// graphemes counts user-perceived characters, the unit of hcl.Pos.Column.
func graphemes(s string) int {
	n, _ := textseg.TokenCount([]byte(s), textseg.ScanGraphemeClusters)
	return n
}
