package lsp

import (
	"bytes"
	"context"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Formatting formats a document exactly as `waymark fmt` formats the file:
// both call lang.Format. Like the command, it refuses a file with syntax
// errors rather than guess at its tokens. The edit covers only the lines
// that change, so the editor keeps its place in the rest.
func (s *server) Formatting(ctx context.Context, p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	_, doc := s.docAt(p.TextDocument.URI)
	if doc == nil {
		return nil, nil
	}
	jsonrpc2.Async(ctx)
	out, diags := lang.Format(doc.path, doc.src)
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			where := ""
			if r := d.Subject; r != nil {
				where = " at " + doc.path + ":" + strconv.Itoa(r.Start.Line) + ":" + strconv.Itoa(r.Start.Column)
			}
			return nil, requestFailed("Cannot format %s: it has a syntax error%s (%s). Fix it first; formatting never rewrites a file it cannot parse.", doc.path, where, d.Summary)
		}
	}
	return formatEdits(doc, out), nil
}

// formatEdits turns the formatted text into one edit over the lines between
// the unchanged lines at the start and at the end.
func formatEdits(doc *document, out []byte) []protocol.TextEdit {
	src := doc.src
	if bytes.Equal(src, out) {
		return []protocol.TextEdit{}
	}
	// The longest common prefix and suffix, cut back to whole lines.
	pre := 0
	for pre < len(src) && pre < len(out) && src[pre] == out[pre] {
		pre++
	}
	pre = bytes.LastIndexByte(src[:pre], '\n') + 1
	suf := 0
	for suf < len(src)-pre && suf < len(out)-pre && src[len(src)-1-suf] == out[len(out)-1-suf] {
		suf++
	}
	if i := bytes.IndexByte(src[len(src)-suf:], '\n'); i >= 0 {
		suf -= i + 1
	} else {
		suf = 0
	}
	lines := doc.lineIndex()
	return []protocol.TextEdit{{
		Range:   lines.rangeOf(pre, len(src)-suf),
		NewText: string(out[pre : len(out)-suf]),
	}}
}
