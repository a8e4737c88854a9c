package lsp

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/waymark-dev/waymark/lang"
)

// CodeAction offers quick fixes for the problems in the requested range:
// the name the compiler suggests for a misspelled one ("Did you mean ...?"),
// and a new empty stage for a goto to a stage that does not exist. It reads
// the server's own diagnostics for the range, so it does not depend on what
// a client sends back of them.
func (s *server) CodeAction(ctx context.Context, p *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	doc, snap, err := s.snapshotFor(ctx, p.TextDocument.URI)
	if doc == nil || err != nil {
		return nil, err
	}
	lines := doc.lineIndex()
	start, end := lines.offset(p.Range.Start), lines.offset(p.Range.End)
	actions := []protocol.CommandOrCodeAction{}
	for _, d := range snap.diagnostics(doc.path) {
		if d.Subject == nil || d.Subject.End.Byte < start || d.Subject.Start.Byte > end {
			continue
		}
		ld := toLSP(d, lines)
		if name, ok := didYouMean(d.Detail); ok {
			if r, ok := misspelled(doc.src, *d.Subject); ok {
				actions = append(actions, quickFix(fmt.Sprintf("Change to %q", name), ld, doc.uri, lines.hclRange(r), name, true))
			}
		}
		if d.Summary == "Unknown stage" && doc.kind() == lang.JourneyFile {
			if a, ok := createStage(doc, *d.Subject, ld); ok {
				actions = append(actions, a)
			}
		}
	}
	return actions, nil
}

func quickFix(title string, d protocol.Diagnostic, u uri.URI, r protocol.Range, text string, preferred bool) *protocol.CodeAction {
	kind := protocol.CodeActionKindQuickFix
	return &protocol.CodeAction{
		Title:       title,
		Kind:        &kind,
		Diagnostics: []protocol.Diagnostic{d},
		IsPreferred: ptr(preferred),
		Edit: &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{
			u: {{Range: r, NewText: text}},
		}},
	}
}

// The compiler's and the loader's diagnostics end their detail with this
// when a declared name is close to the one written (lang/suggest.Hint).
var didYouMeanRE = regexp.MustCompile(`Did you mean "((?:[^"\\]|\\.)*)"\?`)

func didYouMean(detail string) (string, bool) {
	m := didYouMeanRE.FindStringSubmatch(detail)
	if m == nil {
		return "", false
	}
	name, err := strconv.Unquote(`"` + m[1] + `"`)
	return name, err == nil
}

// misspelled narrows a diagnostic's subject to the misspelled word: inside
// the quotes of a label or string, after the dot of a traversal step, or the
// first word of a traversal (an unknown variable's subject is all of
// `custmer.email`).
func misspelled(src []byte, r hcl.Range) (hcl.Range, bool) {
	if !r.CanSliceBytes(src) {
		return r, false
	}
	text := r.SliceBytes(src)
	switch {
	case len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"':
		r.Start.Byte++
		r.End.Byte--
	case len(text) >= 1 && text[0] == '.':
		r.Start.Byte++
	default:
		if i := bytes.IndexAny(text, ".["); i > 0 {
			r.End.Byte = r.Start.Byte + i
		}
	}
	return r, true
}

// createStage inserts `stage "NAME" {}` at the end of the journey that has
// the goto to the missing stage.
func createStage(doc *document, subject hcl.Range, d protocol.Diagnostic) (*protocol.CodeAction, bool) {
	r, ok := misspelled(doc.src, subject)
	if !ok {
		return nil, false
	}
	name := string(r.SliceBytes(doc.src))
	ws, _ := doc.parse()
	for _, j := range ws.Journeys {
		if !contains(j.Range, subject.Start.Byte) {
			continue
		}
		lines := doc.lineIndex()
		closeAt := j.Range.End.Byte - 1 // the journey's closing brace
		line := lines.lineOf(closeAt)
		lineStart := lines.starts[line]
		indent := string(leadingSpace(lines.lineText(lines.lineOf(j.Range.Start.Byte)))) + "  "
		text := fmt.Sprintf("\n%sstage %q {\n%s}\n", indent, name, indent)
		at := lineStart
		if len(bytes.TrimSpace(doc.src[lineStart:closeAt])) > 0 {
			at = closeAt // the brace ends a line with other text on it
		}
		pos := lines.rangeOf(at, at)
		return quickFix(fmt.Sprintf("Create stage %q in journey %q", name, j.Name.Value), d, doc.uri, pos, text, false), true
	}
	return nil, false
}

func leadingSpace(line []byte) []byte {
	return line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
}
