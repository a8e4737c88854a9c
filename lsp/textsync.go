package lsp

import (
	"context"
	"sort"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// The four text synchronisation notifications. Each replaces a document and
// schedules a check of the workspace after the debounce; the checker then
// publishes whatever the change did to any file's diagnostics.

// DidOpen overlays the buffer on the file. A file outside every workspace
// root gets a workspace of its own directory.
func (s *server) DidOpen(ctx context.Context, p *protocol.DidOpenTextDocumentParams) error {
	path := fileOf(p.TextDocument.URI)
	if path == "" {
		return nil
	}
	w := s.workspaceFor(path, true)
	d := w.newDoc(w.rel(path), []byte(p.TextDocument.Text))
	d.uri, d.version, d.open = p.TextDocument.URI, p.TextDocument.Version, true
	w.set(d.path, d)
	return nil
}

// DidChange applies the edits, in order, to the buffer.
func (s *server) DidChange(ctx context.Context, p *protocol.DidChangeTextDocumentParams) error {
	w, old := s.docAt(p.TextDocument.URI)
	if old == nil {
		return nil
	}
	src, lines := old.src, old.lineIndex()
	for i, c := range p.ContentChanges {
		if i > 0 {
			lines = newLineIndex(src) // each edit is on the text the previous one left
		}
		switch c := c.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			src = []byte(c.Text)
		case *protocol.TextDocumentContentChangePartial:
			start, end := lines.offset(c.Range.Start), lines.offset(c.Range.End)
			if end < start {
				start, end = end, start
			}
			next := make([]byte, 0, len(src)-(end-start)+len(c.Text))
			next = append(append(append(next, src[:start]...), c.Text...), src[end:]...)
			src = next
		}
	}
	d := w.newDoc(old.path, src)
	d.uri, d.version, d.open = old.uri, p.TextDocument.Version, true
	w.set(d.path, d)
	return nil
}

// DidSave re-checks the file: what it renders may have changed on disk.
func (s *server) DidSave(ctx context.Context, p *protocol.DidSaveTextDocumentParams) error {
	w, old := s.docAt(p.TextDocument.URI)
	if old == nil {
		return nil
	}
	src := old.src
	if p.Text != nil {
		src = []byte(*p.Text)
	}
	d := w.newDoc(old.path, src)
	d.uri, d.version, d.open = old.uri, old.version, old.open
	w.set(d.path, d)
	return nil
}

// DidClose drops the buffer: the file is what is on disk again, or, if it
// was never saved, no longer part of the workspace.
func (s *server) DidClose(ctx context.Context, p *protocol.DidCloseTextDocumentParams) error {
	w, old := s.docAt(p.TextDocument.URI)
	if old == nil {
		return nil
	}
	src, err := lang.ReadFile(w.root, old.path)
	if err != nil {
		w.set(old.path, nil)
		return nil
	}
	w.set(old.path, w.newDoc(old.path, src))
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
