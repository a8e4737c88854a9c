package lsp

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// DocumentSymbol outlines a file: journeys with their triggers and stages
// (and a stage's sends), events with their properties, the customer with
// its traits, channels, policies and tests. It reads the file's own parse,
// so it answers at once, and a file with syntax errors still shows what the
// parser recovered.
func (s *server) DocumentSymbol(ctx context.Context, p *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	_, doc := s.docAt(p.TextDocument.URI)
	if doc == nil {
		return nil, nil
	}
	jsonrpc2.Async(ctx)
	syms := documentSymbols(doc)
	s.mu.Lock()
	nested := s.caps.hierarchicalSym
	s.mu.Unlock()
	if nested {
		return protocol.DocumentSymbolSlice(syms), nil
	}
	var flat protocol.SymbolInformationSlice
	var walk func(container string, ds []protocol.DocumentSymbol)
	walk = func(container string, ds []protocol.DocumentSymbol) {
		for _, d := range ds {
			si := protocol.SymbolInformation{Location: protocol.Location{URI: doc.uri, Range: d.SelectionRange}}
			si.Name, si.Kind = d.Name, d.Kind
			if container != "" {
				si.ContainerName = ptr(container)
			}
			flat = append(flat, si)
			walk(d.Name, d.Children)
		}
	}
	walk("", syms)
	return flat, nil
}

// symbolKinds maps what the compiler declares to LSP's kinds of symbol.
var symbolKinds = map[compiler.SymbolKind]protocol.SymbolKind{
	compiler.SymJourney:  protocol.SymbolKindClass,
	compiler.SymStage:    protocol.SymbolKindMethod,
	compiler.SymSend:     protocol.SymbolKindFunction,
	compiler.SymChannel:  protocol.SymbolKindInterface,
	compiler.SymPolicy:   protocol.SymbolKindStruct,
	compiler.SymEvent:    protocol.SymbolKindEvent,
	compiler.SymProperty: protocol.SymbolKindProperty,
	compiler.SymTrait:    protocol.SymbolKindField,
	compiler.SymTest:     protocol.SymbolKindModule,
}

func documentSymbols(doc *document) []protocol.DocumentSymbol {
	ws, _ := doc.parse()
	lines := doc.lineIndex()
	sym := func(name string, kind compiler.SymbolKind, n *lang.Node, sel hcl.Range, detail string, children []protocol.DocumentSymbol) protocol.DocumentSymbol {
		d := protocol.DocumentSymbol{Name: name, Kind: symbolKinds[kind], Range: lines.hclRange(n.Range), SelectionRange: lines.hclRange(sel), Children: children}
		if detail != "" {
			d.Detail = ptr(detail)
		}
		return d
	}
	fields := func(kind compiler.SymbolKind, fs []*lang.Field) []protocol.DocumentSymbol {
		var out []protocol.DocumentSymbol
		for _, f := range fs {
			detail := ""
			if f.Type != nil && f.Type.Expr.Range().CanSliceBytes(doc.src) {
				detail = string(f.Type.Expr.Range().SliceBytes(doc.src))
			}
			out = append(out, sym(f.Name.Value, kind, &f.Node, f.Name.Range, detail, nil))
		}
		return out
	}
	var out []protocol.DocumentSymbol
	for _, c := range ws.Customers {
		d := sym("customer", compiler.SymTrait, &c.Node, c.TypeRange, "", fields(compiler.SymTrait, c.Traits))
		d.Kind = protocol.SymbolKindObject
		out = append(out, d)
	}
	for _, e := range ws.Events {
		out = append(out, sym(e.Name.Value, compiler.SymEvent, &e.Node, e.Name.Range, attrString(e.Description), fields(compiler.SymProperty, e.Properties)))
	}
	for _, c := range ws.Channels {
		out = append(out, sym(c.Name.Value, compiler.SymChannel, &c.Node, c.Name.Range, attrString(c.Type), nil))
	}
	for _, p := range ws.Policies {
		out = append(out, sym(p.Name.Value, compiler.SymPolicy, &p.Node, p.Name.Range, attrString(p.Description), nil))
	}
	for _, j := range ws.Journeys {
		var children []protocol.DocumentSymbol
		for _, group := range [][]*lang.Trigger{j.Entries, j.Goals, j.Exits} {
			for _, t := range group {
				d := sym(t.Type+" "+t.Event.Value, compiler.SymEvent, &t.Node, t.Event.Range, "", nil)
				children = append(children, d)
			}
		}
		for _, st := range j.Stages {
			var sends []protocol.DocumentSymbol
			for _, a := range st.Actions {
				if send, ok := a.(*lang.Send); ok {
					sends = append(sends, sym(send.Name.Value, compiler.SymSend, &send.Node, send.Name.Range, "send", nil))
				}
			}
			children = append(children, sym(st.Name.Value, compiler.SymStage, &st.Node, st.Name.Range, attrString(st.Description), sends))
		}
		out = append(out, sym(j.Name.Value, compiler.SymJourney, &j.Node, j.Name.Range, attrString(j.Description), children))
	}
	for _, t := range ws.Tests {
		out = append(out, sym(t.Name.Value, compiler.SymTest, &t.Node, t.Name.Range, "test", nil))
	}
	if out == nil {
		out = []protocol.DocumentSymbol{}
	}
	return out
}
