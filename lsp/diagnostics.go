package lsp

import (
	"context"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// publish sends the diagnostics that changed between two checks: every file
// whose problems changed, an empty list for a file whose problems are gone,
// and, last, every open document that changed since the previous check, with
// its version, even when its problems are the same. That last message tells
// the client that the diagnostics of that version are complete; tests wait
// for it.
func (w *workspace) publish(ctx context.Context, prev, next *snapshot) {
	var changedOpen []string
	candidates := map[string]bool{}
	for _, p := range next.paths {
		f := next.files[p]
		if prev == nil || prev.files[p] != f {
			candidates[p] = true
			if f.doc.open && (prev == nil || prev.files[p] == nil || prev.files[p].doc != f.doc) {
				changedOpen = append(changedOpen, p)
			}
		}
	}
	if prev != nil {
		for _, p := range prev.paths {
			if next.files[p] == nil {
				candidates[p] = true
			}
		}
	}
	for t := range next.templateFiles() {
		candidates[t] = true
	}
	w.mu.Lock()
	for t := range w.published {
		if next.files[t] == nil {
			candidates[t] = true // a template file, or a file that is gone
		}
	}
	w.mu.Unlock()

	last := map[string]bool{}
	for _, p := range changedOpen {
		last[p] = true
	}
	for _, p := range sortedKeys(candidates) {
		if !last[p] {
			w.publishFile(ctx, next, p, false)
		}
	}
	for _, p := range changedOpen {
		w.publishFile(ctx, next, p, true)
	}
}

// publishFile sends a file's diagnostics if they differ from what was last
// sent for it, or always when force is set.
func (w *workspace) publishFile(ctx context.Context, snap *snapshot, path string, force bool) {
	diags := snap.diagnostics(path)
	if extra := w.s.occupiedStageDiagnostics(snap.docs[path]); len(extra) > 0 {
		diags = append(append(hcl.Diagnostics(nil), diags...), extra...)
	}
	key := fingerprint(diags)
	w.mu.Lock()
	same := w.published[path] == key
	if key == "" {
		delete(w.published, path)
	} else {
		w.published[path] = key
	}
	w.mu.Unlock()
	if same && !force {
		return
	}
	params := &protocol.PublishDiagnosticsParams{Diagnostics: make([]protocol.Diagnostic, 0, len(diags))}
	var lines *lineIndex
	if doc := snap.docs[path]; doc != nil {
		params.URI = doc.uri
		lines = doc.lineIndex()
		if doc.open {
			params.Version = protocol.NewOptional(doc.version)
		}
	} else {
		abs := filepath.Join(w.root, filepath.FromSlash(path))
		params.URI = fileURI(abs)
		src, _ := lang.ReadFile(w.root, path) // a template: positions need its text
		lines = newLineIndex(src)
	}
	for _, d := range diags {
		params.Diagnostics = append(params.Diagnostics, toLSP(d, lines))
	}
	if err := w.s.client.PublishDiagnostics(ctx, params); err != nil {
		w.s.opts.Log.Warn("publishing diagnostics", "uri", params.URI, "err", err)
	}
}

// toLSP converts a diagnostic. The message is the summary and the detail,
// as `waymark validate` prints them.
func toLSP(d *hcl.Diagnostic, lines *lineIndex) protocol.Diagnostic {
	out := protocol.Diagnostic{
		Severity: protocol.DiagnosticSeverityError,
		Source:   protocol.NewOptional("waymark"),
		Message:  protocol.String(message(d)),
	}
	if d.Severity == hcl.DiagWarning {
		out.Severity = protocol.DiagnosticSeverityWarning
	}
	if d.Subject != nil {
		out.Range = lines.hclRange(*d.Subject)
	}
	return out
}

func message(d *hcl.Diagnostic) string {
	if d.Detail == "" {
		return d.Summary
	}
	return d.Summary + ": " + d.Detail
}

// fingerprint identifies a list of diagnostics by content, "" for none.
func fingerprint(diags hcl.Diagnostics) string {
	var b []byte
	for _, d := range diags {
		b = strconv.AppendInt(b, int64(d.Severity), 10)
		b = append(b, '|')
		b = append(b, d.Summary...)
		b = append(b, '|')
		b = append(b, d.Detail...)
		b = append(b, '|')
		if r := d.Subject; r != nil {
			b = append(b, r.Filename...)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(r.Start.Byte), 10)
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(r.End.Byte), 10)
		}
		b = append(b, '\n')
	}
	return string(b)
}
