package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// References lists every place a name is used, across the workspace's files:
// references like stage.check, event names in labels, and the names tests
// give as strings. The declaration comes first when the client asks for it.
func (s *server) References(ctx context.Context, p *protocol.ReferenceParams) ([]protocol.Location, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	sym := snap.symbolNear(doc, doc.lineIndex().offset(p.Position))
	if sym == nil {
		return nil, nil
	}
	locs := []protocol.Location{}
	if p.Context.IncludeDeclaration {
		locs = append(locs, snap.location(snap.nameRange(sym.NameRange)))
	}
	for _, r := range snap.refsTo(sym) {
		locs = append(locs, snap.location(snap.nameRange(r.Range)))
	}
	return locs, nil
}
