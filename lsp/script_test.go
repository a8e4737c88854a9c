package lsp_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestScripts runs each case in testdata/cases against the server. A case is
// a txtar archive: the workspace's files, with cursor markers /*|NAME*/
// (removed before the files are written or sent), and a "steps" file of
// requests. What the server answers is written out as text, compared with
// testdata/golden/CASE.golden; -update rewrites those.
//
// Steps, one a line ("#" starts a comment):
//
//	open FILE                  didOpen, then wait for its diagnostics
//	edit FILE "OLD" "NEW"      didChange replacing the first OLD, then wait
//	save FILE / close FILE
//	diagnostics                every file's published diagnostics
//	complete MARK ["TYPED"]    completion at MARK, after typing TYPED there
//	                           (the typing is undone afterwards)
//	hover MARK / definition MARK / references MARK / prepare MARK
//	rename MARK NEW            the edits, shown as the lines they change
//	actions MARK               code actions at MARK and what each changes
//	fix MARK "TITLE"           apply the code action with that title, wait
//	format FILE / symbols FILE / tokens FILE / wsymbols QUERY
func TestScripts(t *testing.T) {
	cases, err := filepath.Glob("testdata/cases/*.txtar")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runScript(t, file)
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

var markerRE = regexp.MustCompile(`/\*\|(\w+)\*/`)

// script is a case being run.
type script struct {
	t       *testing.T
	c       *client
	root    string
	out     strings.Builder
	markers map[string]marker
	actions []protocol.CommandOrCodeAction // the last code actions shown
}

type marker struct {
	file string
	off  int // a byte offset in the file's current text
}

func runScript(t *testing.T, file string) string {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := &script{t: t, root: t.TempDir(), markers: map[string]marker{}}
	var steps string
	for _, f := range ar.Files {
		if f.Name == "steps" {
			steps = string(f.Data)
			continue
		}
		text := string(f.Data)
		for {
			loc := markerRE.FindStringSubmatchIndex(text)
			if loc == nil {
				break
			}
			s.markers[text[loc[2]:loc[3]]] = marker{file: f.Name, off: loc[0]}
			text = text[:loc[0]] + text[loc[1]:]
		}
		path := filepath.Join(s.root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.c = startServer(t, s.root)
	for i, line := range strings.Split(steps, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args, err := splitArgs(line)
		if err != nil {
			t.Fatalf("steps:%d: %v", i+1, err)
		}
		fmt.Fprintf(&s.out, "== %s\n", line)
		s.step(args)
		s.out.WriteString("\n")
	}
	return s.out.String()
}

// splitArgs splits a step into words; a word in double quotes is a Go string.
func splitArgs(line string) ([]string, error) {
	var args []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, err
			}
			s, _ := strconv.Unquote(q)
			args = append(args, s)
			line = line[len(q):]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		args = append(args, line[:end])
		line = line[end:]
	}
	return args, nil
}

func (s *script) printf(format string, args ...any) { fmt.Fprintf(&s.out, format, args...) }

// fileText is a file's text as the server sees it: the open buffer, or the
// file on disk.
func (s *script) fileText(path string) string {
	if _, open := s.c.versions[s.c.uri(path)]; open {
		return s.c.text(path)
	}
	data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(path)))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

func (s *script) marker(name string) (marker, protocol.TextDocumentPositionParams) {
	m, ok := s.markers[name]
	if !ok {
		s.t.Fatalf("no marker %q", name)
	}
	return m, protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: s.c.uri(m.file)},
		Position:     lspPosition(s.fileText(m.file), m.off),
	}
}

// replace edits an open file and keeps the markers on their text.
func (s *script) replace(path string, start, end int, repl string) {
	s.c.replace(path, start, end, repl)
	delta := len(repl) - (end - start)
	for name, m := range s.markers {
		if m.file == path && m.off >= end && m.off > start {
			m.off += delta
			s.markers[name] = m
		}
	}
}

func (s *script) step(args []string) {
	t, c := s.t, s.c
	ctx := c.ctx()
	need := func(n int) {
		if len(args) != n {
			t.Fatalf("%s takes %d arguments", args[0], n-1)
		}
	}
	switch args[0] {
	case "open":
		need(2)
		c.open(args[1], s.fileText(args[1]))
		c.settle()
	case "edit":
		need(4)
		text := s.c.text(args[1])
		i := strings.Index(text, args[2])
		if i < 0 {
			t.Fatalf("edit: %q not in %s", args[2], args[1])
		}
		s.replace(args[1], i, i+len(args[2]), args[3])
		c.settle()
	case "save":
		need(2)
		c.save(args[1])
		c.settle()
	case "close":
		need(2)
		u := c.uri(args[1])
		c.mu.Lock()
		delete(c.versions, u)
		c.mu.Unlock()
		if err := c.server.DidClose(ctx, &protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}); err != nil {
			t.Fatal(err)
		}
	case "diagnostics":
		need(1)
		c.settle()
		s.diagnostics()
	case "complete":
		m, pos := s.marker(args[1])
		typed := ""
		if len(args) == 3 {
			typed = args[2]
			s.c.replace(m.file, m.off, m.off, typed)
			pos.Position = lspPosition(s.c.text(m.file), m.off+len(typed))
		}
		res, err := c.server.Completion(ctx, &protocol.CompletionParams{TextDocumentPositionParams: pos})
		if typed != "" {
			s.c.replace(m.file, m.off, m.off+len(typed), "")
		}
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		s.completion(res)
	case "hover":
		need(2)
		m, pos := s.marker(args[1])
		h, err := c.server.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: pos})
		switch {
		case err != nil:
			s.printf("error: %v\n", err)
		case h == nil:
			s.printf("(none)\n")
		default:
			if h.Range != nil {
				s.printf("range %s\n", s.rangeText(m.file, *h.Range))
			}
			if mc, ok := h.Contents.(*protocol.MarkupContent); ok {
				s.printf("%s\n", mc.Value)
			}
		}
	case "definition":
		need(2)
		_, pos := s.marker(args[1])
		res, err := c.server.Definition(ctx, &protocol.DefinitionParams{TextDocumentPositionParams: pos})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		switch r := res.(type) {
		case *protocol.Location:
			s.printf("%s\n", s.location(*r))
		case protocol.LocationSlice:
			for _, l := range r {
				s.printf("%s\n", s.location(l))
			}
		case nil:
			s.printf("(none)\n")
		}
	case "references":
		need(2)
		_, pos := s.marker(args[1])
		locs, err := c.server.References(ctx, &protocol.ReferenceParams{TextDocumentPositionParams: pos, Context: protocol.ReferenceContext{IncludeDeclaration: true}})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		for _, l := range locs {
			s.printf("%s\n", s.location(l))
		}
	case "prepare":
		need(2)
		m, pos := s.marker(args[1])
		res, err := c.server.PrepareRename(ctx, &protocol.PrepareRenameParams{TextDocumentPositionParams: pos})
		switch r := res.(type) {
		case *protocol.PrepareRenamePlaceholder:
			s.printf("%s placeholder %q\n", s.rangeText(m.file, r.Range), r.Placeholder)
		default:
			s.printf("%v %v\n", r, err)
		}
	case "rename":
		need(3)
		_, pos := s.marker(args[1])
		edit, err := c.server.Rename(ctx, &protocol.RenameParams{TextDocumentPositionParams: pos, NewName: args[2]})
		if err != nil {
			s.printf("error: %s\n", errorText(err))
			return
		}
		s.workspaceEdit(edit)
	case "actions":
		need(2)
		_, pos := s.marker(args[1])
		res, err := c.server.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: pos.TextDocument,
			Range: protocol.Range{Start: pos.Position, End: pos.Position}})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		s.actions = res
		for _, a := range res {
			ca, ok := a.(*protocol.CodeAction)
			if !ok {
				continue
			}
			kind := ""
			if ca.Kind != nil {
				kind = string(*ca.Kind)
			}
			s.printf("%s [%s]\n", ca.Title, kind)
			s.workspaceEdit(ca.Edit)
		}
		if len(res) == 0 {
			s.printf("(none)\n")
		}
	case "fix":
		need(3)
		for _, a := range s.actions {
			if ca, ok := a.(*protocol.CodeAction); ok && ca.Title == args[2] {
				for u, edits := range ca.Edit.Changes {
					s.applyToOpen(u, edits)
				}
				c.settle()
				return
			}
		}
		t.Fatalf("fix: no action %q", args[2])
	case "format":
		need(2)
		edits, err := c.server.Formatting(ctx, &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(args[1])},
			Options: protocol.FormattingOptions{TabSize: 2, InsertSpaces: true}})
		if err != nil {
			s.printf("error: %s\n", errorText(err))
			return
		}
		s.printf("%d edit(s); the file becomes:\n%s", len(edits), applyEdits(s.fileText(args[1]), edits))
	case "symbols":
		need(2)
		res, err := c.server.DocumentSymbol(ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(args[1])}})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		if syms, ok := res.(protocol.DocumentSymbolSlice); ok {
			s.documentSymbols(args[1], syms, "")
		}
	case "wsymbols":
		need(2)
		res, err := c.server.Symbols(ctx, &protocol.WorkspaceSymbolParams{Query: args[1]})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		// The JSON of both arms is an array of objects with a location: the
		// decoder may take either.
		var syms []protocol.WorkspaceSymbol
		switch r := res.(type) {
		case protocol.WorkspaceSymbolSlice:
			syms = r
		case protocol.SymbolInformationSlice:
			for _, si := range r {
				syms = append(syms, protocol.WorkspaceSymbol{BaseSymbolInformation: si.BaseSymbolInformation, Location: &si.Location})
			}
		}
		for _, sym := range syms {
			container := ""
			if sym.ContainerName != nil {
				container = " in " + *sym.ContainerName
			}
			loc, _ := sym.Location.(*protocol.Location)
			s.printf("%s %s%s at %s\n", symbolKind(sym.Kind), sym.Name, container, s.location(*loc))
		}
	case "tokens":
		need(2)
		res, err := c.server.SemanticTokensFull(ctx, &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(args[1])}})
		if err != nil {
			s.printf("error: %v\n", err)
			return
		}
		s.tokens(args[1], res.Data)
	default:
		t.Fatalf("unknown step %q", args[0])
	}
}

func errorText(err error) string {
	var wire *jsonrpc2.Error
	if errors.As(err, &wire) {
		return fmt.Sprintf("%s (code %d)", wire.Message, wire.Code)
	}
	return err.Error()
}

// pathOf turns a URI back into a workspace path.
func (s *script) pathOf(u uri.URI) string {
	rel, err := filepath.Rel(s.root, u.FsPath())
	if err != nil {
		return string(u)
	}
	return filepath.ToSlash(rel)
}

// rangeText writes a range as LINE:COL-LINE:COL (one-based, columns in
// UTF-16 code units as LSP counts them) and the text it covers.
func (s *script) rangeText(path string, r protocol.Range) string {
	text := s.fileText(path)
	start, end := byteOffset(text, r.Start), byteOffset(text, r.End)
	return fmt.Sprintf("%d:%d-%d:%d %q", r.Start.Line+1, r.Start.Character+1, r.End.Line+1, r.End.Character+1, text[start:max(start, end)])
}

func (s *script) location(l protocol.Location) string {
	path := s.pathOf(l.URI)
	if _, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(path))); err != nil {
		return path
	}
	return path + ":" + s.rangeText(path, l.Range)
}

func (s *script) diagnostics() {
	all := s.c.published()
	var uris []string
	for u := range all {
		uris = append(uris, string(u))
	}
	sort.Strings(uris)
	if len(uris) == 0 {
		s.printf("(none)\n")
	}
	for _, u := range uris {
		path := s.pathOf(uri.URI(u))
		for _, d := range all[uri.URI(u)] {
			sev := "error"
			if d.Severity == protocol.DiagnosticSeverityWarning {
				sev = "warning"
			}
			msg := ""
			if m, ok := d.Message.(protocol.String); ok {
				msg = string(m)
			}
			s.printf("%s:%s %s: %s\n", path, s.rangeText(path, d.Range), sev, msg)
		}
	}
}

func (s *script) completion(res protocol.CompletionResult) {
	var items []protocol.CompletionItem
	switch r := res.(type) {
	case *protocol.CompletionList:
		items = r.Items
	case protocol.CompletionItemSlice:
		items = r
	}
	if len(items) == 0 {
		s.printf("(none)\n")
	}
	for _, it := range items {
		detail, _ := it.Detail.Get()
		s.printf("%s (%s) %s\n", it.Label, completionKind(it.Kind), detail)
		if te, ok := it.TextEdit.(*protocol.TextEdit); ok && te.NewText != it.Label {
			s.printf("    inserts %q\n", te.NewText)
		}
		if mc, ok := it.Documentation.(*protocol.MarkupContent); ok && mc.Value != "" {
			first, _, _ := strings.Cut(mc.Value, "\n")
			s.printf("    %s\n", first)
		}
	}
}

// workspaceEdit shows each changed file's changed lines as they become.
func (s *script) workspaceEdit(edit *protocol.WorkspaceEdit) {
	if edit == nil {
		s.printf("(no edit)\n")
		return
	}
	var uris []string
	for u := range edit.Changes {
		uris = append(uris, string(u))
	}
	sort.Strings(uris)
	for _, u := range uris {
		path := s.pathOf(uri.URI(u))
		edits := edit.Changes[uri.URI(u)]
		before := s.fileText(path)
		after := applyEdits(before, edits)
		s.printf("  %s: %d edit(s)\n", path, len(edits))
		bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
		for _, line := range changedLines(bl, al) {
			s.printf("    %s\n", line)
		}
	}
}

// applyToOpen applies edits to an open file, as an editor applies a
// workspace edit, through didChange.
func (s *script) applyToOpen(u uri.URI, edits []protocol.TextEdit) {
	path := s.pathOf(u)
	sorted := append([]protocol.TextEdit(nil), edits...)
	sort.Slice(sorted, func(i, j int) bool { return posLess(sorted[j].Range.Start, sorted[i].Range.Start) })
	for _, e := range sorted {
		text := s.c.text(path)
		s.replace(path, byteOffset(text, e.Range.Start), byteOffset(text, e.Range.End), e.NewText)
	}
}

func posLess(a, b protocol.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
}

// applyEdits applies non-overlapping edits to text.
func applyEdits(text string, edits []protocol.TextEdit) string {
	sorted := append([]protocol.TextEdit(nil), edits...)
	sort.Slice(sorted, func(i, j int) bool { return posLess(sorted[j].Range.Start, sorted[i].Range.Start) })
	for _, e := range sorted {
		start, end := byteOffset(text, e.Range.Start), byteOffset(text, e.Range.End)
		text = text[:start] + e.NewText + text[end:]
	}
	return text
}

// changedLines lists the lines of after that differ from before, with their
// numbers, when the line counts match; otherwise the lines between the
// common start and end.
func changedLines(before, after []string) []string {
	var out []string
	if len(before) == len(after) {
		for i := range after {
			if before[i] != after[i] {
				out = append(out, fmt.Sprintf("%d: %s", i+1, after[i]))
			}
		}
		return out
	}
	pre := 0
	for pre < len(before) && pre < len(after) && before[pre] == after[pre] {
		pre++
	}
	suf := 0
	for suf < len(before)-pre && suf < len(after)-pre && before[len(before)-1-suf] == after[len(after)-1-suf] {
		suf++
	}
	for i := pre; i < len(after)-suf; i++ {
		out = append(out, fmt.Sprintf("%d+ %s", i+1, after[i]))
	}
	return out
}

func (s *script) documentSymbols(path string, syms []protocol.DocumentSymbol, indent string) {
	for _, sym := range syms {
		detail := ""
		if sym.Detail != nil && *sym.Detail != "" {
			detail = " — " + *sym.Detail
		}
		s.printf("%s%s %s%s at %s\n", indent, symbolKind(sym.Kind), sym.Name, detail, s.rangeText(path, sym.SelectionRange))
		s.documentSymbols(path, sym.Children, indent+"  ")
	}
}

var tokenTypeNames = []string{"class", "enumMember", "interface", "struct", "event", "property", "method", "namespace", "variable", "function", "keyword", "number", "module"}

func (s *script) tokens(path string, data []uint32) {
	var line, char uint32
	for i := 0; i+5 <= len(data); i += 5 {
		if data[i] > 0 {
			line, char = line+data[i], data[i+1]
		} else {
			char += data[i+1]
		}
		start := protocol.Position{Line: line, Character: char}
		end := protocol.Position{Line: line, Character: char + data[i+2]}
		typ := fmt.Sprint(data[i+3])
		if int(data[i+3]) < len(tokenTypeNames) {
			typ = tokenTypeNames[data[i+3]]
		}
		mods := ""
		if data[i+4]&1 != 0 {
			mods = " declaration"
		}
		s.printf("%s %s%s\n", s.rangeText(path, protocol.Range{Start: start, End: end}), typ, mods)
	}
}

func completionKind(k protocol.CompletionItemKind) string {
	names := map[protocol.CompletionItemKind]string{
		protocol.CompletionItemKindProperty: "property", protocol.CompletionItemKindKeyword: "keyword",
		protocol.CompletionItemKindSnippet: "snippet", protocol.CompletionItemKindEvent: "event",
		protocol.CompletionItemKindEnumMember: "enumMember", protocol.CompletionItemKindInterface: "interface",
		protocol.CompletionItemKindStruct: "struct", protocol.CompletionItemKindClass: "class",
		protocol.CompletionItemKindVariable: "variable", protocol.CompletionItemKindFunction: "function",
		protocol.CompletionItemKindTypeParameter: "type", protocol.CompletionItemKindMethod: "method",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprint(uint32(k))
}

func symbolKind(k protocol.SymbolKind) string {
	names := map[protocol.SymbolKind]string{
		protocol.SymbolKindClass: "class", protocol.SymbolKindMethod: "method", protocol.SymbolKindFunction: "function",
		protocol.SymbolKindInterface: "interface", protocol.SymbolKindStruct: "struct", protocol.SymbolKindEvent: "event",
		protocol.SymbolKindProperty: "property", protocol.SymbolKindField: "field", protocol.SymbolKindModule: "module",
		protocol.SymbolKindObject: "object",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprint(uint32(k))
}

// lineDiff shows where two texts part, line by line, for a failing golden.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b bytes.Buffer
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 40; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, w, g)
			shown++
		}
	}
	return b.String()
}
