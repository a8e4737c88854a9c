package lsp

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Hover shows, for a block type or an attribute, its documentation from the
// schema; for a name (a reference or a declaration), a summary of what it
// names; for a time string, what it means in words; for a variable or a
// function, its documentation.
func (s *server) Hover(ctx context.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	lines := doc.lineIndex()
	text, r, ok := hoverAt(snap, doc, lines.offset(p.Position))
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	kind := protocol.MarkupKindPlainText
	if s.caps.markdown {
		kind = protocol.MarkupKindMarkdown
	}
	s.mu.Unlock()
	rng := lines.hclRange(r)
	return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: kind, Value: text}, Range: &rng}, nil
}

func hoverAt(snap *snapshot, doc *document, off int) (string, hcl.Range, bool) {
	if sym, r, _ := snap.symbolAt(doc.path, off); sym != nil {
		return snap.describeSymbol(sym), snap.nameRange(r), true
	}
	sp := locate(doc.file().Body, rootSchema(doc.kind()), off)
	b, bs := sp.block()
	switch {
	case sp.onType && bs != nil:
		return blockDoc(bs), b.TypeRange, true
	case sp.label >= 0 && bs != nil && sp.label < len(bs.Labels):
		ls := bs.Labels[sp.label]
		r := b.LabelRanges[sp.label]
		if ls.Kind == lang.LabelDuration {
			return describeDurationText(b.Labels[sp.label]) + "\n\n" + ls.Doc, r, true
		}
		return fmt.Sprintf("**%s** of %s: %s", ls.Name, code(b.Type), ls.Doc), r, true
	case sp.onName && sp.attrSchema != nil:
		return attrDoc(sp.attrSchema), sp.attr.NameRange, true
	case sp.attr != nil && sp.attrSchema != nil && isTimeKind(sp.attrSchema.Kind):
		if v, r, ok := stringAt(sp.attr.Expr); ok {
			return describeTime(sp.attrSchema.Kind, v) + "\n\n" + attrDoc(sp.attrSchema), r, true
		}
	}
	if sp.attr != nil && sp.attrSchema != nil && (sp.attrSchema.Kind == lang.KindGoneStage || sp.attrSchema.Kind == lang.KindGoneJourney) {
		if ref, ok := lang.AsReference(sp.attr.Expr); ok && contains(ref.NameRange, off) {
			return fmt.Sprintf("**%s** %s: no longer declared; it names the %s of the running version whose customers this block sends on.\n\n%s",
				ref.Kind, code(ref.Name), ref.Kind, attrDoc(sp.attrSchema)), ref.NameRange, true
		}
	}
	switch e := sp.expr.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return hoverTraversal(snap, doc, e, off)
	case *hclsyntax.FunctionCallExpr:
		if f := lookupFunc(e.Name); f != nil && contains(e.NameRange, off) {
			return fmt.Sprintf("```\n%s\n```\n\n%s", f.signature, f.doc), e.NameRange, true
		}
	}
	return "", hcl.Range{}, false
}

// hoverTraversal explains a traversal's first word: a variable, or the kind
// of a reference (whose name, after the dot, the index already covers).
func hoverTraversal(snap *snapshot, doc *document, e *hclsyntax.ScopeTraversalExpr, off int) (string, hcl.Range, bool) {
	root := e.Traversal.RootName()
	r := e.Traversal[0].SourceRange()
	if !contains(r, off) {
		return "", hcl.Range{}, false
	}
	if v := lang.Variable(root); v != nil {
		return fmt.Sprintf("**%s**: %s", root, v.Doc), r, true
	}
	if root == "end" {
		return "**end**: finishes the journey with status `completed`.", r, true
	}
	if ref, ok := lang.AsReference(e); ok {
		if sym, _, _ := snap.symbolAt(doc.path, ref.NameRange.End.Byte); sym != nil {
			return snap.describeSymbol(sym), e.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

// blockDoc is a block's documentation: how it is written, what it does, and
// its labels.
func blockDoc(bs *lang.BlockSchema) string {
	var b strings.Builder
	header := bs.Type
	for _, l := range bs.Labels {
		header += fmt.Sprintf(" %q", strings.ToUpper(l.Name))
	}
	fmt.Fprintf(&b, "```hcl\n%s { ... }\n```\n\n%s", header, bs.Doc)
	for _, l := range bs.Labels {
		fmt.Fprintf(&b, "\n\n*%s*: %s", l.Name, l.Doc)
	}
	if sec := lang.GuideSection(bs); sec != "" {
		// The path, not a link: an editor resolves no relative link in a hover.
		fmt.Fprintf(&b, "\n\nMore, with examples: `%s#%s`", lang.GuideFile, sec)
	}
	return b.String()
}

// attrDoc is an attribute's documentation: its kind of value and meaning.
func attrDoc(as *lang.AttrSchema) string {
	req := ""
	if as.Required {
		req = ", required"
	}
	return fmt.Sprintf("**%s** (%s%s): %s", as.Name, as.Kind, req, as.Doc)
}
