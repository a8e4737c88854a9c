package lsp

import (
	"context"
	"sort"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// maxWorkspaceSymbols bounds the answer: a query of one letter in a
// workspace of a thousand journeys matches most of it.
const maxWorkspaceSymbols = 500

// Symbols finds declarations across every workspace by name: a query
// matches a name that holds its letters in order, ignoring case; names that
// start with the query come first, then names that contain it.
func (s *server) Symbols(ctx context.Context, p *protocol.WorkspaceSymbolParams) (protocol.WorkspaceSymbolResult, error) {
	s.mu.Lock()
	workspaces := append([]*workspace(nil), s.workspaces...)
	s.mu.Unlock()
	jsonrpc2.Async(ctx)
	query := strings.ToLower(p.Query)
	type match struct {
		rank int
		sym  protocol.WorkspaceSymbol
	}
	var matches []match
	for _, w := range workspaces {
		snap := w.latest(ctx)
		if snap == nil {
			return nil, ctx.Err()
		}
		for _, sym := range snap.symbols() {
			rank, ok := fuzzy(query, strings.ToLower(sym.Name))
			if !ok {
				continue
			}
			ws := protocol.WorkspaceSymbol{Location: ptr(snap.location(snap.nameRange(sym.NameRange)))}
			ws.Name, ws.Kind = sym.Name, symbolKinds[sym.Kind]
			if sym.Parent != "" {
				ws.ContainerName = ptr(sym.Parent)
			}
			matches = append(matches, match{rank, ws})
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return matches[i].rank < matches[j].rank })
	out := protocol.WorkspaceSymbolSlice{}
	for i, m := range matches {
		if i == maxWorkspaceSymbols {
			break
		}
		out = append(out, m.sym)
	}
	return out, nil
}

// fuzzy tells whether name holds the letters of query in order, and ranks
// the match: 0 a prefix, 1 a substring, 2 letters in order.
func fuzzy(query, name string) (int, bool) {
	switch {
	case strings.HasPrefix(name, query):
		return 0, true
	case strings.Contains(name, query):
		return 1, true
	}
	q := []rune(query)
	i := 0
	for _, r := range name {
		if i < len(q) && q[i] == r {
			i++
		}
	}
	return 2, i == len(q)
}
