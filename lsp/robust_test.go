package lsp

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/waymark-dev/waymark/lang"
)

// No request panics, wherever the cursor is and however broken the text:
// every file of a real workspace, whole and cut off at many places (as it
// is while being typed), answers completion, hover, definition, code
// actions, symbols and semantic tokens at every few bytes.
func TestNoPanicAnywhere(t *testing.T) {
	root, _ := filepath.Abs("../examples/phone_activation")
	paths, err := lang.FindFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	step := 11
	if testing.Short() {
		step = 61
	}
	for _, p := range paths {
		src, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		// The whole file, then cut at a few places, then with a line break
		// removed (a merged line) and a quote added (an unclosed string).
		variants := [][]byte{src}
		for _, cut := range []int{len(src) / 5, len(src) / 3, len(src) / 2, 3 * len(src) / 4} {
			variants = append(variants, src[:cut])
			broken := append([]byte(nil), src...)
			broken[cut] = '"'
			variants = append(variants, broken)
		}
		for vi, v := range variants {
			docs := map[string]*document{}
			for _, q := range paths {
				data, _ := os.ReadFile(filepath.Join(root, q))
				docs[q] = &document{path: q, src: data, root: root}
			}
			doc := &document{path: p, src: v, root: root}
			docs[p] = doc
			snap := analyze(root, nil, docs, 1, log)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s, variant %d: %v", p, vi, r)
					}
				}()
				documentSymbols(doc)
				encodeTokens(doc, semanticTokens(snap, doc))
				for off := 0; off <= len(v); off += step {
					complete(snap, doc, off, clientCaps{snippets: true, markdown: true})
					hoverAt(snap, doc, off)
					snap.symbolNear(doc, off)
					templateAt(doc, off)
				}
				for _, d := range snap.diagnostics(p) {
					if d.Subject != nil {
						createStage(doc, *d.Subject, toLSP(d, doc.lineIndex()))
						misspelled(doc.src, *d.Subject)
					}
				}
			}()
		}
	}
}
