package lsp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Completion offers what fits at the cursor: attribute and block names (with
// snippets) in a block body, event names in a trigger's label, the names a
// reference can take after `stage.`, `channel.`, `policy.` and `journey.`,
// properties after `event.` and `entry.`, traits after `customer.`,
// variables and functions in an expression, and the strings some attributes
// take. Names declared in other files come from the latest check, which may
// be a debounce old; it never waits for one.
func (s *server) Completion(ctx context.Context, p *protocol.CompletionParams) (protocol.CompletionResult, error) {
	w, doc := s.docAt(p.TextDocument.URI)
	if doc == nil {
		return nil, nil
	}
	jsonrpc2.Async(ctx)
	snap := w.latest(ctx)
	if snap == nil {
		return nil, ctx.Err()
	}
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	items, filtered := completeWith(snap, doc, doc.lineIndex().offset(p.Position), caps, s.production().stageCounts)
	return &protocol.CompletionList{Items: items, IsIncomplete: filtered}, nil
}

// completer gathers the items for one request.
type completer struct {
	snap  *snapshot
	decls *decls
	doc   *document
	c     *cursor
	off   int
	caps  clientCaps
	root  *lang.BlockSchema
	items []protocol.CompletionItem
	// filtered is set when an item was left out for not matching the typed text.
	filtered bool
	// running returns the customers per journey and stage of the running
	// server (production.go), nil when none is known; asked only for the
	// names that moved and removed blocks complete.
	running func() map[string]map[string]int
}

// complete returns the items for a position, and whether some were left out
// because they do not match what is typed (the list is then incomplete: the
// client asks again when the typing changes).
func complete(snap *snapshot, doc *document, off int, caps clientCaps) ([]protocol.CompletionItem, bool) {
	return completeWith(snap, doc, off, caps, nil)
}

// completeWith is complete knowing the running server's stage counts.
func completeWith(snap *snapshot, doc *document, off int, caps clientCaps, running func() map[string]map[string]int) ([]protocol.CompletionItem, bool) {
	k := &completer{snap: snap, decls: snap.Decls(), doc: doc, off: off, caps: caps, root: rootSchema(doc.kind()), running: running}
	k.c = cursorAt(doc.src, doc.lineIndex(), doc.kind(), off)
	switch k.c.kind {
	case ctxBody:
		k.body()
	case ctxLabel:
		k.label()
	case ctxValue:
		k.value()
	case ctxTraversal:
		k.traversal()
	case ctxString:
		k.str()
	case ctxKey:
		k.key()
	}
	if k.items == nil {
		return []protocol.CompletionItem{}, false
	}
	return k.items, k.filtered
}

// item is one proposal before it becomes a protocol.CompletionItem.
type item struct {
	label   string
	kind    protocol.CompletionItemKind
	detail  string
	doc     string // markdown
	text    string // what replaces the typed text; the label when empty
	snippet string // used instead of text when the client takes snippets
}

func (k *completer) add(it item) {
	if _, ok := fuzzy(strings.ToLower(k.c.typed), strings.ToLower(it.label)); !ok {
		k.filtered = true
		return
	}
	text := it.text
	if text == "" {
		text = it.label
	}
	ci := protocol.CompletionItem{
		Label:    it.label,
		Kind:     it.kind,
		SortText: protocol.NewOptional(fmt.Sprintf("%04d", len(k.items))),
	}
	if it.detail != "" {
		ci.Detail = protocol.NewOptional(it.detail)
	}
	if it.doc != "" {
		kind := protocol.MarkupKindPlainText
		if k.caps.markdown {
			kind = protocol.MarkupKindMarkdown
		}
		ci.Documentation = &protocol.MarkupContent{Kind: kind, Value: it.doc}
	}
	if it.snippet != "" && k.caps.snippets {
		text = it.snippet
		ci.InsertTextFormat = protocol.InsertTextFormatSnippet
		ci.InsertTextMode = protocol.InsertTextModeAdjustIndentation
	}
	ci.TextEdit = &protocol.TextEdit{Range: k.doc.lineIndex().rangeOf(k.c.start, k.off), NewText: text}
	ci.FilterText = protocol.NewOptional(strings.TrimSuffix(text, `"`))
	if it.snippet != "" && k.caps.snippets {
		ci.FilterText = protocol.NewOptional(it.label)
	}
	k.items = append(k.items, ci)
}

// body offers the attributes not yet set and the blocks the innermost block
// takes.
func (k *completer) body() {
	f := k.c.inner(k.root)
	if f.schema == nil {
		return
	}
	present, blocks := map[string]bool{}, map[string]bool{}
	if f.block != nil {
		for _, a := range f.block.attrs {
			present[a.name] = true
		}
		for _, b := range f.block.blocks {
			blocks[b.typ] = true
		}
	}
	chType := k.channelTypeOf(f)
	for _, a := range f.schema.Attrs {
		if present[a.Name] || (chType != "" && len(a.ChannelTypes) > 0 && !slices.Contains(a.ChannelTypes, chType)) {
			continue
		}
		k.add(attrItem(a))
	}
	if f.schema.OpenAttrs != nil {
		k.openAttrs(f, present)
	}
	for _, b := range f.schema.Blocks {
		if b.Unique && blocks[b.Type] {
			continue
		}
		k.add(blockItem(b))
	}
}

// channelTypeOf is the channel type that decides which settings a channel,
// or which fields a send, takes: "" when it is not known yet.
func (k *completer) channelTypeOf(f frame) string {
	if f.block == nil {
		return ""
	}
	expr := func(name string) string {
		for _, a := range f.block.attrs {
			if a.name == name {
				return strings.TrimSpace(string(k.doc.src[a.exprStart:a.exprEnd]))
			}
		}
		return ""
	}
	switch f.typ {
	case "channel":
		return strings.Trim(expr("type"), `"`)
	case "send":
		if name, ok := strings.CutPrefix(expr("channel"), "channel."); ok {
			if ch := k.decls.channel(name); ch != nil {
				return attrString(ch.Type)
			}
		}
	}
	return ""
}

// openAttrs offers the names an open block takes: traits in update and
// identify, the event's properties in a test's event step.
func (k *completer) openAttrs(f frame, present map[string]bool) {
	switch f.typ {
	case "update", "identify":
		for _, t := range k.decls.traits {
			if !present[t.Name.Value] {
				k.add(item{label: t.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "trait: " + k.snap.typeText(t),
					doc: k.snap.describeField("trait", "customer", t), text: t.Name.Value + " = "})
			}
		}
	case "event":
		if len(f.labels) == 0 {
			return
		}
		if e := k.decls.event(f.labels[0]); e != nil {
			for _, p := range e.Properties {
				if !present[p.Name.Value] {
					k.add(item{label: p.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "property: " + k.snap.typeText(p),
						doc: k.snap.describeField("property", "event "+code(e.Name.Value), p), text: p.Name.Value + " = "})
				}
			}
		}
	}
}

func attrItem(a *lang.AttrSchema) item {
	detail := a.Kind.String()
	if a.Required {
		detail += ", required"
	}
	it := item{label: a.Name, kind: protocol.CompletionItemKindProperty, detail: detail, doc: a.Doc, text: a.Name + " = "}
	switch a.Kind {
	case lang.KindString, lang.KindDuration, lang.KindWindow, lang.KindCap, lang.KindReentry, lang.KindStatus, lang.KindInFlight:
		it.snippet = a.Name + ` = "${1}"`
	case lang.KindObject:
		it.snippet = a.Name + " = { ${1} }"
	case lang.KindStringList, lang.KindJourneyList:
		it.snippet = a.Name + " = [${1}]"
	default:
		it.snippet = a.Name + " = ${1}"
	}
	return it
}

func blockItem(b *lang.BlockSchema) item {
	header := b.Type
	for _, l := range b.Labels {
		header += fmt.Sprintf(" %q", strings.ToUpper(l.Name))
	}
	it := item{label: b.Type, kind: protocol.CompletionItemKindKeyword, detail: header + " { ... }", doc: b.Doc, text: b.Type}
	it.snippet = b.Snippet
	if it.snippet == "" {
		it.snippet = b.Type
		for i, l := range b.Labels {
			it.snippet += fmt.Sprintf(` "${%d:%s}"`, i+1, l.Name)
		}
		it.snippet += " {\n  ${0}\n}"
	}
	if b.Snippet != "" {
		it.kind = protocol.CompletionItemKindSnippet
	}
	return it
}

// label offers event names in the label of entry, goal, exit, on, emit and a
// test's event step.
func (k *completer) label() {
	f := k.c.inner(k.root)
	if f.schema == nil {
		return
	}
	bs := f.schema.Block(k.c.block)
	if bs == nil || k.c.label >= len(bs.Labels) || bs.Labels[k.c.label].Kind != lang.LabelEvent {
		return
	}
	for _, e := range k.decls.events {
		k.add(item{label: e.Name.Value, kind: protocol.CompletionItemKindEvent, detail: "event",
			doc: k.snap.describeEvent(e), text: k.closeQuote(e.Name.Value)})
	}
}

func (k *completer) closeQuote(s string) string {
	if k.c.closed {
		return s
	}
	return s + `"`
}
