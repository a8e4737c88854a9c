package lsp

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/waymark-dev/waymark/compiler"
)

// PrepareRename tells the client whether the cursor is on a name that can be
// renamed, and which part of the text is the name.
func (s *server) PrepareRename(ctx context.Context, p *protocol.PrepareRenameParams) (protocol.PrepareRenameResult, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	off := doc.lineIndex().offset(p.Position)
	sym := snap.symbolNear(doc, off)
	if sym == nil {
		return nil, nil
	}
	r := sym.NameRange
	if _, at, _ := snap.symbolAt(doc.path, off); at.Filename != "" {
		r = at
	}
	return &protocol.PrepareRenamePlaceholder{Range: snap.lspRange(snap.nameRange(r)), Placeholder: sym.Name}, nil
}

// Rename renames a stage, journey, channel, policy, event, trait, property or
// send: its declaration and every reference, in every file, including event
// names in labels and the names tests give as strings (whose quotes stay). It
// refuses a name that is not valid where the name is used, and a name that
// is already taken.
func (s *server) Rename(ctx context.Context, p *protocol.RenameParams) (*protocol.WorkspaceEdit, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	sym := snap.symbolNear(doc, doc.lineIndex().offset(p.Position))
	if sym == nil {
		return nil, requestFailed("There is no name to rename here: put the cursor on a stage, journey, channel, policy, event, trait, property or send.")
	}
	if err := checkNewName(snap, sym, p.NewName); err != nil {
		return nil, err
	}
	ranges := []hcl.Range{sym.NameRange}
	for _, r := range snap.refsTo(sym) {
		ranges = append(ranges, r.Range)
	}
	changes := map[uri.URI][]protocol.TextEdit{}
	seen := map[string]bool{}
	for _, r := range ranges {
		r = snap.nameRange(r)
		key := fmt.Sprintf("%s:%d", r.Filename, r.Start.Byte)
		if seen[key] {
			continue
		}
		seen[key] = true
		u := snap.uriOf(r.Filename)
		changes[u] = append(changes[u], protocol.TextEdit{Range: snap.lspRange(r), NewText: p.NewName})
	}
	for u := range changes {
		edits := changes[u]
		sort.Slice(edits, func(i, j int) bool { return before(edits[i].Range.Start, edits[j].Range.Start) })
	}
	return &protocol.WorkspaceEdit{Changes: changes}, nil
}

func before(a, b protocol.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
}

// checkNewName refuses a name that cannot be written where the symbol is
// used, or that another symbol of the same kind and scope already has.
func checkNewName(snap *snapshot, sym *compiler.Symbol, name string) error {
	switch sym.Kind {
	case compiler.SymStage, compiler.SymJourney, compiler.SymChannel, compiler.SymPolicy, compiler.SymTrait, compiler.SymProperty:
		// Referred to as stage.NAME, customer.NAME...: an HCL identifier.
		if !hclsyntax.ValidIdentifier(name) {
			return requestFailed("%q is not a valid %s name: it is used as %s, so it must be an identifier (letters, digits, underscores and dashes, starting with a letter or an underscore).",
				name, sym.Kind, usedAs(sym))
		}
	default:
		// Only ever written inside quotes: anything that needs no escape.
		if name == "" || strings.ContainsAny(name, "\"\\\n\r\t") || strings.Contains(name, "${") || strings.Contains(name, "%{") {
			return requestFailed("%q is not a valid %s name: it must not be empty or hold quotes, backslashes, line breaks or template sequences.", name, sym.Kind)
		}
	}
	switch {
	case sym.Kind == compiler.SymStage && name == "end":
		return requestFailed("A stage cannot be named \"end\": `goto = end` finishes the journey.")
	case sym.Kind == compiler.SymTrait && name == "id":
		return requestFailed("A trait cannot be named \"id\": every customer has an `id`.")
	}
	if name == sym.Name {
		return nil
	}
	if other := snap.lookup(sym.Kind, sym.Parent, name); other != nil {
		where := ""
		switch sym.Kind {
		case compiler.SymStage, compiler.SymSend:
			where = fmt.Sprintf(" in journey %q", sym.Parent)
		case compiler.SymProperty:
			where = fmt.Sprintf(" in event %q", sym.Parent)
		}
		return requestFailed("Cannot rename %s %q to %q: %s %s named %q already exists%s at %s:%d:%d.",
			sym.Kind, sym.Name, name, article(string(sym.Kind)), sym.Kind, name, where, other.NameRange.Filename, other.NameRange.Start.Line, other.NameRange.Start.Column)
	}
	return nil
}

func usedAs(sym *compiler.Symbol) string {
	switch sym.Kind {
	case compiler.SymTrait:
		return "customer.NAME"
	case compiler.SymProperty:
		return "event.NAME"
	}
	return string(sym.Kind) + ".NAME"
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
