package lsp

import (
	"context"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// Definition goes from a name to where it is declared: a stage, journey,
// channel, policy, event, trait, property or send, in any file. From the path
// in template("...") it goes to the template file.
func (s *server) Definition(ctx context.Context, p *protocol.DefinitionParams) (protocol.DefinitionResult, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	off := doc.lineIndex().offset(p.Position)
	if sym := snap.symbolNear(doc, off); sym != nil {
		loc := snap.location(snap.nameRange(sym.NameRange))
		return &loc, nil
	}
	if path, ok := templateAt(doc, off); ok {
		abs := filepath.Join(snap.root, filepath.FromSlash(path))
		if _, err := os.Stat(abs); err == nil {
			return &protocol.Location{URI: fileURI(abs)}, nil
		}
	}
	return nil, nil
}

// symbolNear is the symbol at off: a name the index knows, or the reference
// whose first word (`stage` in stage.check) is at off.
func (s *snapshot) symbolNear(doc *document, off int) *compiler.Symbol {
	if sym, _, _ := s.symbolAt(doc.path, off); sym != nil {
		return sym
	}
	sp := locate(doc.file().Body, rootSchema(doc.kind()), off)
	if e, ok := sp.expr.(*hclsyntax.ScopeTraversalExpr); ok {
		if ref, ok := lang.AsReference(e); ok && ref.Kind != "end" {
			sym, _, _ := s.symbolAt(doc.path, ref.NameRange.End.Byte)
			return sym
		}
	}
	return nil
}

// templateAt returns the path of the template("...") call whose string is at off.
func templateAt(doc *document, off int) (string, bool) {
	sp := locate(doc.file().Body, rootSchema(doc.kind()), off)
	if sp.attr == nil {
		return "", false
	}
	var path string
	found := false
	hclsyntax.VisitAll(sp.attr.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "template" || len(call.Args) != 1 || !contains(call.Args[0].Range(), off) {
			return nil
		}
		path, found = lang.StaticString(call.Args[0])
		return nil
	})
	return path, found
}

// location converts a range in a workspace file to an LSP location.
func (s *snapshot) location(r hcl.Range) protocol.Location {
	return protocol.Location{URI: s.uriOf(r.Filename), Range: s.lspRange(r)}
}

// uriOf is the URI of a file: the client's own for an open one.
func (s *snapshot) uriOf(path string) uri.URI {
	if d := s.docs[path]; d != nil {
		return d.uri
	}
	return fileURI(filepath.Join(s.root, filepath.FromSlash(path)))
}

// lspRange converts a range in a workspace or template file to an LSP range.
func (s *snapshot) lspRange(r hcl.Range) protocol.Range {
	if d := s.doc(r.Filename); d != nil {
		return d.lineIndex().hclRange(r)
	}
	return protocol.Range{}
}

// nameRange narrows the range of a declaration or reference to the name
// itself: without the quotes of a label or string, without the dot of a
// traversal step (HCL's range of `.check` includes the dot).
func (s *snapshot) nameRange(r hcl.Range) hcl.Range {
	d := s.doc(r.Filename)
	if d == nil || !r.CanSliceBytes(d.src) {
		return r
	}
	text := r.SliceBytes(d.src)
	switch {
	case len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"':
		r.Start.Byte++
		r.Start.Column++
		r.End.Byte--
		r.End.Column--
	case len(text) >= 1 && text[0] == '.':
		r.Start.Byte++
		r.Start.Column++
	}
	return r
}
