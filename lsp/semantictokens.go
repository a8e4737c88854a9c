package lsp

import (
	"context"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// Semantic tokens mark what HCL highlighting cannot know: which names are
// references and to what (a stage, a channel, an event...), which are
// declarations, which words are the language's variables, and which strings
// are time strings. Time strings are marked as numbers: they are quantities,
// and every theme colours numbers apart from strings.

var tokenTypes = []string{
	"class",      // journey
	"enumMember", // stage
	"interface",  // channel
	"struct",     // policy
	"event",      // event
	"property",   // trait, property
	"method",     // send
	"namespace",  // the stage, channel, policy, journey of a reference
	"variable",   // customer, event, entry, now
	"function",   // a function call
	"keyword",    // end
	"number",     // a time string
	"module",     // test
}

var tokenModifiers = []string{"declaration"}

const modDeclaration = 1

var symbolToken = map[compiler.SymbolKind]uint32{
	compiler.SymJourney:  0,
	compiler.SymStage:    1,
	compiler.SymChannel:  2,
	compiler.SymPolicy:   3,
	compiler.SymEvent:    4,
	compiler.SymProperty: 5,
	compiler.SymTrait:    5,
	compiler.SymSend:     6,
	compiler.SymTest:     12,
}

const (
	tokNamespace = 7
	tokVariable  = 8
	tokFunction  = 9
	tokKeyword   = 10
	tokTime      = 11
)

// SemanticTokensFull returns the tokens of a whole document.
func (s *server) SemanticTokensFull(ctx context.Context, p *protocol.SemanticTokensParams) (*protocol.SemanticTokens, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	return &protocol.SemanticTokens{Data: encodeTokens(doc, semanticTokens(snap, doc))}, nil
}

type semToken struct {
	start, end int // bytes
	typ, mods  uint32
}

func semanticTokens(snap *snapshot, doc *document) []semToken {
	var toks []semToken
	add := func(r hcl.Range, typ, mods uint32) {
		if r.End.Byte > r.Start.Byte {
			toks = append(toks, semToken{r.Start.Byte, r.End.Byte, typ, mods})
		}
	}
	if f := snap.files[doc.path]; f != nil {
		for _, sym := range f.symbols {
			add(snap.nameRange(sym.NameRange), symbolToken[sym.Kind], modDeclaration)
		}
	}
	for _, r := range snap.refsIn(doc.path) {
		add(snap.nameRange(r.Range), symbolToken[r.Symbol.Kind], 0)
	}
	walk(doc.file().Body, rootSchema(doc.kind()), func(b *hclsyntax.Block, bs *lang.BlockSchema) {
		for i, l := range bs.Labels {
			if l.Kind == lang.LabelDuration && i < len(b.LabelRanges) {
				add(snap.nameRange(b.LabelRanges[i]), tokTime, 0)
			}
		}
	}, func(a *hclsyntax.Attribute, as *lang.AttrSchema) {
		if as != nil && isTimeKind(as.Kind) {
			if _, r, ok := stringAt(a.Expr); ok {
				add(snap.nameRange(r), tokTime, 0)
			}
		}
		hclsyntax.VisitAll(a.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
			switch e := n.(type) {
			case *hclsyntax.ScopeTraversalExpr:
				r := e.Traversal[0].SourceRange()
				switch e.Traversal.RootName() {
				case "stage", "channel", "policy", "journey":
					add(r, tokNamespace, 0)
				case "end":
					add(r, tokKeyword, 0)
				case "customer", "event", "entry", "now":
					add(r, tokVariable, 0)
				}
			case *hclsyntax.FunctionCallExpr:
				if e.NameRange.End.Byte > e.NameRange.Start.Byte { // not a call the parse put in
					add(e.NameRange, tokFunction, 0)
				}
			}
			return nil
		})
	})
	sort.SliceStable(toks, func(i, j int) bool { return toks[i].start < toks[j].start })
	// No two tokens may overlap: the first (the index's) wins.
	out := toks[:0]
	last := -1
	for _, t := range toks {
		if t.start >= last {
			out = append(out, t)
			last = t.end
		}
	}
	return out
}

// walk visits every block and attribute the schema knows, with its schema.
func walk(body *hclsyntax.Body, schema *lang.BlockSchema, block func(*hclsyntax.Block, *lang.BlockSchema), attr func(*hclsyntax.Attribute, *lang.AttrSchema)) {
	for _, a := range body.Attributes {
		as := schema.Attr(a.Name)
		if as == nil {
			as = schema.OpenAttrs
		}
		attr(a, as)
	}
	for _, b := range body.Blocks {
		if bs := schema.Block(b.Type); bs != nil {
			block(b, bs)
			walk(b.Body, bs, block, attr)
		}
	}
}

// encodeTokens writes tokens in the protocol's relative form: each as the
// line and UTF-16 start relative to the previous token, its UTF-16 length,
// type and modifiers. A token never spans lines: names and time strings do
// not, and one that did is cut at the end of its first line.
func encodeTokens(doc *document, toks []semToken) []uint32 {
	lines := doc.lineIndex()
	data := make([]uint32, 0, 5*len(toks))
	var prevLine, prevChar uint32
	for _, t := range toks {
		start := lines.position(t.start)
		end := t.end
		if le := lines.lineEnd(int(start.Line)); end > le {
			end = le
		}
		length := uint32(utf16Len(doc.src[t.start:end]))
		if length == 0 {
			continue
		}
		dl, dc := start.Line-prevLine, start.Character
		if dl == 0 {
			dc = start.Character - prevChar
		}
		data = append(data, dl, dc, length, t.typ, t.mods)
		prevLine, prevChar = start.Line, start.Character
	}
	return data
}
