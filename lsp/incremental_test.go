package lsp

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// After every kind of edit, an incremental check finds exactly what a full
// check of the same text finds: the same diagnostics in every file (and in
// the templates), the same symbols, the same references.
func TestIncrementalMatchesFullCheck(t *testing.T) {
	// A real workspace: the phone activation example, read, never written.
	root, err := filepath.Abs("../examples/phone_activation")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]*document{}
	paths, err := lang.FindFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		docs[p] = &document{path: p, src: src, root: root}
	}
	// More journeys, so that most changes leave most files unchecked.
	for i := range 12 {
		p := fmt.Sprintf("more/extra_%02d.journey.hcl", i)
		docs[p] = &document{path: p, root: root, src: fmt.Appendf(nil, `journey "extra_%d" {
  policy = policy.marketing
  entry "order_completed" {}
  goal "device_activated" {}
  stage "first" {
    send "extra_mail_%d" {
      channel = channel.email
      to      = customer.email
      subject = "Hello ${entry.order_id}"
      body    = template("templates/activation_guide.html")
    }
    after "1d" { goto = stage.second }
  }
  stage "second" {
    on "support_ticket_opened" { goto = end }
  }
}
`, i, i)}
	}

	log := slog.New(slog.DiscardHandler)
	var gen uint64
	snap := analyze(root, nil, docs, gen, log)
	edits := []struct {
		what       string
		path       string
		old, new   string // replace the first old with new; old "" removes the file; path new creates it
		wantFull   bool
		wantChecks int // how many files the incremental check covers, 0 for any
	}{
		{"edit inside a stage", "phone_activation.journey.hcl", `subject = "Three steps`, `subject = "Four steps`, false, 1},
		{"unknown stage", "phone_activation.journey.hcl", "goto = stage.check", "goto = stage.chek", false, 1},
		{"fix it", "phone_activation.journey.hcl", "goto = stage.chek", "goto = stage.check", false, 1},
		{"rename a stage tests name", "phone_activation.journey.hcl", `stage "guide"`, `stage "guidance"`, false, 0},
		{"rename it back", "phone_activation.journey.hcl", `stage "guidance"`, `stage "guide"`, false, 0},
		{"rename a journey a policy suppresses", "support_case.journey.hcl", `journey "support_case"`, `journey "support"`, false, 0},
		{"a journey takes the name of another", "more/extra_03.journey.hcl", `journey "extra_3"`, `journey "phone_activation"`, false, 0},
		{"lines added above the first of the two", "more/extra_01.journey.hcl", `journey "extra_1"`, `journey "phone_activation"`, false, 0},
		{"the duplicate's message says where the first is", "more/extra_01.journey.hcl", `journey "phone_activation"`, "# a comment\n# and another\njourney \"phone_activation\"", false, 0},
		{"the first is renamed back", "more/extra_01.journey.hcl", `journey "phone_activation"`, `journey "extra_1"`, false, 0},
		{"and gives it back", "more/extra_03.journey.hcl", `journey "phone_activation"`, `journey "extra_3"`, false, 0},
		{"a journey under the policy that suppresses it", "support.journey.hcl", "", "", false, 0},
		{"rename the journey back", "support_case.journey.hcl", `journey "support"`, `journey "support_case"`, false, 0},
		{"policy of a suppressed journey", "support_case.journey.hcl", "policy.service", "policy.marketing", false, 0},
		{"and back", "support_case.journey.hcl", "policy.marketing", "policy.service", false, 0},
		{"syntax error (the parser may drop the stage: its signature changes)", "more/extra_05.journey.hcl", "goto = stage.second", "goto = stage.", false, 0},
		{"unknown trait in a template-rendering file", "more/extra_06.journey.hcl", "to      = customer.email", "to      = customer.emial", false, 1},
		{"fix it", "more/extra_05.journey.hcl", "goto = stage.", "goto = stage.second", false, 0},
		{"fix the trait", "more/extra_06.journey.hcl", "customer.emial", "customer.email", false, 1},
		{"a test names a missing send", "phone_activation.journeytest.hcl", `sent    = ["activation_guide"]`, `sent    = ["activation_guid"]`, false, 1},
		{"a test lists sends of any journey", "more/unscoped.journeytest.hcl", "", "test \"any\" {\n  start    = \"2026-03-02T10:00:00Z\"\n  customer = { id = \"c\" }\n  expect {\n    sent = [\"extra_mail_3\", \"activation_guide\"]\n  }\n}\n", false, 0},
		{"a send it lists is renamed", "more/extra_03.journey.hcl", `send "extra_mail_3"`, `send "extra_mail_3x"`, false, 0},
		{"duplicate test names", "support_case.journeytest.hcl", `test "`, `test "x`, false, 0},
		{"remove a file", "more/extra_07.journey.hcl", "", "", false, 0},
		{"add a file", "more/new.journey.hcl", "", "journey \"new\" {\n  stage \"a\" { goto = stage.b }\n}\n", false, 0},
		{"a property of an event two journeys use", "schema.journey.hcl", `property "resolution"`, `property "outcome"`, false, 0},
		{"a channel's type changes", "channels.journey.hcl", `type   = "webhook"`, `type   = "log"`, false, 0},
		{"a channel is renamed", "channels.journey.hcl", `channel "crm"`, `channel "ticketing"`, false, 0},
		{"a policy is renamed", "policies.journey.hcl", `policy "service"`, `policy "care"`, false, 0},
		{"a label names an undeclared event", "more/extra_08.journey.hcl", `on "support_ticket_opened"`, `on "order_shipped"`, false, 1},
		{"another event is declared: the list of events changes", "more/events.journey.hcl", "", "event \"refund_issued\" {}\n", false, 0},
		{"the event is declared", "more/events.journey.hcl", "event \"refund_issued\" {}", "event \"order_shipped\" {\n  property \"carrier\" { type = string }\n}\n", false, 0},
		{"a duplicate event in another file", "more/events.journey.hcl", "event \"order_shipped\"", "event \"unsubscribed\" {}\nevent \"order_shipped\"", false, 0},
		{"a trait's type", "schema.journey.hcl", `trait "ltv" { type = number }`, `trait "ltv" { type = string }`, true, 0},
		{"rename an event property every journey uses", "schema.journey.hcl", `property "category"`, `property "kind"`, true, 0},
		{"a second customer block", "more/events.journey.hcl", "event \"unsubscribed\" {}", "customer {\n  trait \"nickname\" { type = string }\n}", true, 0},
		{"edit after a full check", "more/extra_01.journey.hcl", "after \"1d\"", "after \"2d\"", false, 1},
	}
	for _, e := range edits {
		next := map[string]*document{}
		for k, v := range docs {
			next[k] = v
		}
		switch {
		case e.path == "support.journey.hcl":
			// Special: put support_case's journey under a policy that
			// suppresses it, by editing the policy instead.
			src := string(docs["policies.journey.hcl"].src)
			src = strings.Replace(src, "policy \"service\" {", "policy \"service\" {\n  suppressed_by = [journey.support]", 1)
			next["policies.journey.hcl"] = &document{path: "policies.journey.hcl", src: []byte(src), root: root}
		case docs[e.path] == nil:
			next[e.path] = &document{path: e.path, src: []byte(e.new), root: root}
		case e.old == "":
			delete(next, e.path)
		default:
			src := string(docs[e.path].src)
			if !strings.Contains(src, e.old) {
				t.Fatalf("%s: %q is not in %s", e.what, e.old, e.path)
			}
			next[e.path] = &document{path: e.path, src: []byte(strings.Replace(src, e.old, e.new, 1)), root: root}
		}
		docs = next
		gen++
		snap = analyze(root, snap, docs, gen, log)
		full := analyze(root, nil, docs, gen, log)
		if snap.full != e.wantFull {
			t.Errorf("%s: %v, want full=%v", e.what, snap, e.wantFull)
		}
		if e.wantChecks > 0 && snap.checked != e.wantChecks {
			t.Errorf("%s: %v, want %d files checked", e.what, snap, e.wantChecks)
		}
		if got, want := describeSnapshot(snap), describeSnapshot(full); got != want {
			t.Errorf("%s: the incremental check (%v) differs from a full check:\n%s", e.what, snap, diffLines(want, got))
		}
	}
}

// describeSnapshot writes everything a check found, in a stable order.
func describeSnapshot(s *snapshot) string {
	var lines []string
	files := append([]string(nil), s.paths...)
	for t := range s.templateFiles() {
		files = append(files, t)
	}
	for _, p := range files {
		for _, d := range s.diagnostics(p) {
			lines = append(lines, fmt.Sprintf("diag %s", strings.TrimSpace(fingerprint(hcl.Diagnostics{d}))))
		}
	}
	idx := &compiler.Index{Symbols: s.symbols()}
	for _, p := range files {
		idx.Refs = append(idx.Refs, s.refsIn(p)...)
	}
	for _, sym := range idx.Symbols {
		lines = append(lines, fmt.Sprintf("sym %s %s/%s %s:%d-%d node=%T", sym.Kind, sym.Parent, sym.Name,
			sym.NameRange.Filename, sym.NameRange.Start.Byte, sym.NameRange.End.Byte, sym.Node))
		if n, ok := sym.Node.(interface{ Def() *lang.Node }); ok && !reflect.DeepEqual(n.Def().DefRange, sym.DefRange) {
			lines = append(lines, "  node does not match the symbol: "+sym.Name)
		}
	}
	for _, r := range idx.Refs {
		lines = append(lines, fmt.Sprintf("ref %s:%d-%d -> %s %s/%s quoted=%v", r.Range.Filename, r.Range.Start.Byte, r.Range.End.Byte,
			r.Symbol.Kind, r.Symbol.Parent, r.Symbol.Name, r.Quoted))
		if !containsSymbol(idx, r.Symbol) {
			lines = append(lines, "  the reference points at a symbol the index does not hold")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func containsSymbol(idx *compiler.Index, sym *compiler.Symbol) bool {
	for _, s := range idx.Symbols {
		if s == sym {
			return true
		}
	}
	return false
}

func diffLines(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("  missing: " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("  extra:   " + l + "\n")
		}
	}
	return b.String()
}

// The workspace a full check assembles from the files parsed one by one is
// the one lang.Parse makes of them all at once: the assembly knows every
// part of the model.
func TestAssembleMatchesParse(t *testing.T) {
	root, _ := filepath.Abs("../examples/phone_activation")
	paths, err := lang.FindFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	var files []lang.SourceFile
	docs := map[string]*document{}
	for _, p := range paths {
		src, _ := os.ReadFile(filepath.Join(root, p))
		files = append(files, lang.SourceFile{Path: p, Src: src})
		docs[p] = &document{path: p, src: src, root: root}
	}
	want, _ := lang.Parse(root, files)
	snap := &snapshot{root: root, docs: docs, paths: sortedPaths(docs), files: map[string]*fileResult{}}
	all := map[string]bool{}
	for _, p := range snap.paths {
		snap.files[p] = &fileResult{doc: docs[p]}
		all[p] = true
	}
	got := assemble(root, snap, all, needs{})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("assembled workspace differs from lang.Parse of the same files")
	}
	// Every slice field of the model is filled by this workspace, so a new
	// kind of block the assembly does not know would show up above.
	v := reflect.ValueOf(want).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 && v.Type().Field(i).Name != "SyntaxErrors" {
			t.Errorf("examples/phone_activation has no %s: add one so the assembly is checked for it", v.Type().Field(i).Name)
		}
	}
}
