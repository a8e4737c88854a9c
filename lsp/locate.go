package lsp

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/lang"
)

// spot is what is at a position of a parsed file: the blocks around it with
// their schemas, and the block part, attribute or expression it is on.
type spot struct {
	blocks  []*hclsyntax.Block
	schemas []*lang.BlockSchema // the schema of each block; nil when unknown

	onType bool // on the innermost block's type
	label  int  // on this label of the innermost block; -1 when not

	attr       *hclsyntax.Attribute
	attrSchema *lang.AttrSchema
	onName     bool                 // on the attribute's name
	expr       hclsyntax.Expression // the smallest expression around the position
}

func (s *spot) block() (*hclsyntax.Block, *lang.BlockSchema) {
	if len(s.blocks) == 0 {
		return nil, nil
	}
	return s.blocks[len(s.blocks)-1], s.schemas[len(s.schemas)-1]
}

// contains is inclusive of the end, so a cursor just after a word is on it.
func contains(r hcl.Range, off int) bool { return r.Start.Byte <= off && off <= r.End.Byte }

// locate finds what is at byte offset off in a parsed file.
func locate(body *hclsyntax.Body, root *lang.BlockSchema, off int) *spot {
	sp := &spot{label: -1}
	schema := root
	for body != nil {
		var next *hclsyntax.Body
		for _, b := range body.Blocks {
			if !contains(b.Range(), off) {
				continue
			}
			var bs *lang.BlockSchema
			if schema != nil {
				bs = schema.Block(b.Type)
			}
			sp.blocks = append(sp.blocks, b)
			sp.schemas = append(sp.schemas, bs)
			if contains(b.TypeRange, off) {
				sp.onType = true
				return sp
			}
			for i, r := range b.LabelRanges {
				if contains(r, off) {
					sp.label = i
					return sp
				}
			}
			next, schema = b.Body, bs
			break
		}
		if next == nil {
			for _, a := range body.Attributes {
				if !contains(a.SrcRange, off) {
					continue
				}
				sp.attr = a
				if schema != nil {
					sp.attrSchema = schema.Attr(a.Name)
					if sp.attrSchema == nil {
						sp.attrSchema = schema.OpenAttrs
					}
				}
				if contains(a.NameRange, off) {
					sp.onName = true
					return sp
				}
				sp.expr = innermost(a.Expr, off)
				return sp
			}
		}
		body = next
	}
	return sp
}

// innermost returns the smallest expression in e that holds off.
func innermost(e hclsyntax.Expression, off int) hclsyntax.Expression {
	best := e
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		x, ok := n.(hclsyntax.Expression)
		if !ok || !contains(x.Range(), off) {
			return nil
		}
		r, b := x.Range(), best.Range()
		if r.End.Byte-r.Start.Byte <= b.End.Byte-b.Start.Byte {
			best = x
		}
		return nil
	})
	return best
}

// stringAt returns the string literal an expression is, with its range, when
// it is one without interpolation.
func stringAt(e hclsyntax.Expression) (string, hcl.Range, bool) {
	if e == nil {
		return "", hcl.Range{}, false
	}
	v, ok := lang.StaticString(e)
	return v, e.Range(), ok
}
