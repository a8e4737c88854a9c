package lsp

import (
	"bytes"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// Checking is incremental, because a workspace of a thousand journeys takes
// over a second to parse and check, and a few hundred milliseconds to
// re-check even with every file's parse kept, while an editor wants
// diagnostics within a keystroke or two. The unit is the file:
//
//   - Each file is parsed on its own (lang.Parse of one file) and its parse
//     is kept for as long as its text does not change.
//   - What a file offers the others is its signature (signature.go): the
//     names and types it declares. Diagnostics in one file depend on the
//     others only through their signatures.
//   - A change whose signature is unchanged re-checks that file alone. A
//     change to journey, stage, send or test names also re-checks the files
//     that can refer to them by name (policies, tests, journeys of the same
//     name). A change to a declaration of the schema (an event's properties,
//     a trait's type, a channel's type, a policy) also re-checks the files
//     that use it, and, when names come or go, the files that name something
//     undeclared of that kind (their diagnostics list the declared names).
//     Adding the first customer or event block, or removing the last,
//     re-checks everything: it switches on the checks of names everywhere.
//     And a file that declares a name a changed file also declares is
//     re-checked: the duplicate's diagnostic says where the first one is.
//   - A partial check runs the real compiler over a workspace assembled from
//     the files being checked, in full, and stubs of the rest: their
//     declarations as they are, their journeys reduced to their names and
//     policies, plus the stages and sends that the tests being checked can
//     name. The stubs cost next to nothing to check, and what is found in
//     them is thrown away: only the diagnostics, symbols and references in
//     the checked files are kept.
//
// TestIncrementalMatchesFullCheck holds this to the result of a full check
// after every kind of edit.

// fileResult is what the last check that covered a file found in it.
type fileResult struct {
	doc     *document
	sig     signature
	diags   hcl.Diagnostics // the compiler's, in this file and in templates it renders
	symbols []*compiler.Symbol
	refs    []compiler.Ref

	byKeyOnce sync.Once
	byKeyMap  map[symKey]*compiler.Symbol // the first of symbols with each key, made on first use
}

// byKey returns the first of the file's symbols with each key. It is made on
// first use, not by the check: a full check would otherwise build a thousand
// tables before it publishes anything, and a lookup seldom needs them all.
func (f *fileResult) byKey() map[symKey]*compiler.Symbol {
	f.byKeyOnce.Do(func() {
		if len(f.symbols) == 0 {
			return
		}
		f.byKeyMap = make(map[symKey]*compiler.Symbol, len(f.symbols))
		for _, sym := range f.symbols {
			if k := keyOf(sym); f.byKeyMap[k] == nil {
				f.byKeyMap[k] = sym
			}
		}
	})
	return f.byKeyMap
}

// analyze checks docs, reusing what prev found in files that did not change
// and that no change can affect.
func analyze(root string, prev *snapshot, docs map[string]*document, gen uint64, log *slog.Logger) (next *snapshot) {
	start := time.Now()
	paths := sortedPaths(docs)
	next = &snapshot{root: root, gen: gen, docs: docs, paths: paths, files: make(map[string]*fileResult, len(paths))}
	for _, p := range paths {
		d := docs[p]
		if prev != nil {
			if old := prev.files[p]; old != nil && old.doc == d {
				next.files[p] = old
				continue
			}
		}
		d.parse()
		next.files[p] = &fileResult{doc: d, sig: signatureOf(d)}
	}

	check := checkSet(prev, next)
	next.full = check == nil
	if next.full {
		check = map[string]bool{}
		for _, p := range paths {
			check[p] = true
		}
	}
	next.checked = len(check)
	// A re-checked file gets a fresh result: the previous one belongs to the
	// previous snapshot, which requests may still be reading.
	for p := range check {
		old := next.files[p]
		next.files[p] = &fileResult{doc: old.doc, sig: old.sig}
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				log.Error("check failed", "panic", r, "stack", string(debug.Stack()))
			}
		}()
		runCheck(root, next, check)
	}()
	next.took = time.Since(start)
	return next
}

// checkSet returns the files a change requires checking, or nil when
// everything must be checked.
func checkSet(prev, next *snapshot) map[string]bool {
	if prev == nil {
		return nil
	}
	c1, e1 := globalFlags(prev)
	c2, e2 := globalFlags(next)
	if c1 != c2 || e1 != e2 {
		return nil
	}
	check := map[string]bool{}
	changed := map[string]bool{}  // schema declarations (by key) that changed
	renamed := map[string]bool{}  // kinds of declaration whose set of names changed
	var names map[string]bool     // journey names whose declarations changed
	declared := map[string]bool{} // every name the changed files declare
	compare := func(p string, old, now *fileResult) {
		var before, after signature
		if old != nil {
			before = old.sig
		}
		if now != nil {
			after = now.sig
			check[p] = true
		}
		for _, k := range before.names() {
			declared[k] = true
		}
		for _, k := range after.names() {
			declared[k] = true
		}
		for k, v := range before.decls {
			if w, ok := after.decls[k]; !ok || w != v {
				changed[k] = true
				if !ok {
					renamed[kindOf(k)] = true
				}
			}
		}
		for k := range after.decls {
			if _, ok := before.decls[k]; !ok {
				changed[k] = true
				renamed[kindOf(k)] = true
			}
		}
		if before.journeys != after.journeys {
			if names == nil {
				names = map[string]bool{}
			}
			for _, n := range before.journeyNames {
				names[n] = true
			}
			for _, n := range after.journeyNames {
				names[n] = true
			}
		}
	}
	for _, p := range next.paths {
		now, old := next.files[p], prev.files[p]
		if old != nil && old.doc == now.doc {
			continue
		}
		compare(p, old, now)
	}
	for _, p := range prev.paths {
		if next.files[p] == nil {
			compare(p, prev.files[p], nil)
		}
	}
	if len(changed) > 0 {
		for k := range changed {
			if kindOf(k) == "trait" {
				changed[traitUse] = true
			}
		}
		// A file that names something undeclared has a diagnostic that
		// lists the declared names of that kind: when those change, so does
		// the diagnostic.
		anywhere := map[string]bool{}
		if len(renamed) > 0 {
			for _, snap := range []*snapshot{prev, next} {
				for _, f := range snap.files {
					for k := range f.sig.decls {
						anywhere[k] = true
					}
				}
			}
		}
		for _, p := range next.paths {
			for k := range next.files[p].sig.uses {
				if changed[k] || renamed[kindOf(k)] && !anywhere[k] {
					check[p] = true
					break
				}
			}
		}
	}
	// Files that declare a name a changed file declares: one of them has a
	// duplicate diagnostic that says where the other is.
	for _, p := range next.paths {
		if check[p] {
			continue
		}
		for _, k := range next.files[p].sig.names() {
			if declared[k] {
				check[p] = true
				break
			}
		}
	}
	if names != nil {
		for _, p := range next.paths {
			sig := next.files[p].sig
			if sig.policies || sig.tests {
				check[p] = true
				continue
			}
			for _, n := range sig.journeyNames {
				if names[n] {
					check[p] = true
				}
			}
		}
	}
	// Stubbing most of the workspace saves nothing.
	if len(check)*2 > len(next.paths) {
		return nil
	}
	return check
}

// globalFlags tells whether any file has a customer block and any an event
// block: each switches on the checking of those names in every file.
func globalFlags(s *snapshot) (customer, events bool) {
	for _, f := range s.files {
		customer = customer || strings.Contains(f.sig.flags, "customer;")
		events = events || strings.Contains(f.sig.flags, "event;")
	}
	return customer, events
}

// runCheck runs the compiler over the files in check, with stubs for the
// rest, and files what it finds under the checked files.
func runCheck(root string, next *snapshot, check map[string]bool) {
	ws := assemble(root, next, check, testNeeds(next, check))
	res, diags := compiler.Validate(ws, compiler.Options{})

	var owners []*fileResult // checked files, in order, for template diagnostics
	for _, p := range next.paths {
		if check[p] {
			owners = append(owners, next.files[p])
		}
	}
	// What the compiler found in a template file belongs to the checked
	// files that render that template. Each template's owners are found
	// once, not again for each of its diagnostics and references.
	ownersOf := map[string][]*fileResult{}
	templateOwners := func(path string) []*fileResult {
		if out, ok := ownersOf[path]; ok {
			return out
		}
		var out []*fileResult
		for _, f := range owners {
			if bytes.Contains(f.doc.src, []byte(path)) {
				out = append(out, f)
			}
		}
		if len(out) == 0 && len(owners) > 0 {
			out = owners[:1]
		}
		ownersOf[path] = out
		return out
	}
	for _, d := range diags {
		if d.Subject == nil {
			if len(owners) > 0 {
				owners[0].diags = append(owners[0].diags, d)
			}
			continue
		}
		if f := next.files[d.Subject.Filename]; f != nil {
			if check[d.Subject.Filename] {
				f.diags = append(f.diags, d)
			}
			continue
		}
		for _, f := range templateOwners(d.Subject.Filename) {
			f.diags = append(f.diags, d)
		}
	}
	// The compiler lists symbols and references in runs of one file: each
	// run's file is looked up once, and each checked file's lists are
	// counted first and made at their size (a full check files some 60,000
	// references).
	var run struct {
		name    string
		f       *fileResult // the checked file named name, or nil
		inWS    bool        // name is a workspace file
		started bool
	}
	fileOf := func(name string) (*fileResult, bool) {
		if !run.started || run.name != name {
			f := next.files[name]
			run.name, run.inWS, run.f, run.started = name, f != nil, nil, true
			if check[name] {
				run.f = f
			}
		}
		return run.f, run.inWS
	}
	nsyms := map[*fileResult]int{}
	for _, sym := range res.Index.Symbols {
		if f, _ := fileOf(sym.NameRange.Filename); f != nil {
			nsyms[f]++
		}
	}
	for f, n := range nsyms {
		f.symbols = make([]*compiler.Symbol, 0, n)
	}
	for _, sym := range res.Index.Symbols {
		if f, _ := fileOf(sym.NameRange.Filename); f != nil {
			f.symbols = append(f.symbols, sym)
		}
	}
	nrefs := map[*fileResult]int{}
	for _, r := range res.Index.Refs {
		if f, _ := fileOf(r.Range.Filename); f != nil {
			nrefs[f]++
		}
	}
	for f, n := range nrefs {
		f.refs = make([]compiler.Ref, 0, n)
	}
	for _, r := range res.Index.Refs {
		f, inWS := fileOf(r.Range.Filename)
		switch {
		case f != nil:
			f.refs = append(f.refs, r)
		case !inWS:
			// In a template: renaming a trait must rename it there too.
			for _, f := range templateOwners(r.Range.Filename) {
				f.refs = append(f.refs, r)
			}
		}
	}
}

// needs says how much of the other files' journeys the checked tests need:
// the stages and sends of the journeys they name, and, when an expect lists
// sends without naming a journey, every journey's sends.
type needs struct {
	named    map[string]bool
	allSends bool
}

func testNeeds(snap *snapshot, check map[string]bool) needs {
	n := needs{named: map[string]bool{}}
	for p := range check {
		ws, _ := snap.files[p].doc.parse()
		for _, t := range ws.Tests {
			for _, st := range t.Steps {
				e, ok := st.(*lang.ExpectStep)
				if !ok {
					continue
				}
				if e.Journey == nil {
					n.allSends = n.allSends || e.Sent != nil || e.NotSent != nil
				} else if name, ok := lang.StaticString(e.Journey.Expr); ok {
					n.named[name] = true
				}
			}
		}
	}
	return n
}

// Stubs come in three sizes, from what the compiler needs to see of a
// journey in another file to check the files being checked.
const (
	stubName   = iota // its name and policy: policies and journeys of the same name need them
	stubSends         // and its sends, in one stage: a test's expect that names no journey
	stubStages        // and its stages with their sends: a test that names the journey
	stubSizes
)

// assemble builds the workspace the compiler checks: every file's
// declarations as parsed, and its journeys and tests in full when it is being
// checked, as stubs otherwise. Files stay in path order, as lang.Parse puts
// them, so that "first declared wins" holds as in a full check.
func assemble(root string, snap *snapshot, check map[string]bool, tests needs) *lang.Workspace {
	ws := &lang.Workspace{Root: root}
	for _, p := range snap.paths {
		part, _ := snap.files[p].doc.parse()
		ws.Files = append(ws.Files, part.Files...)
		ws.SyntaxErrors = append(ws.SyntaxErrors, part.SyntaxErrors...)
		ws.Customers = append(ws.Customers, part.Customers...)
		ws.Events = append(ws.Events, part.Events...)
		ws.Channels = append(ws.Channels, part.Channels...)
		ws.Policies = append(ws.Policies, part.Policies...)
		ws.Topics = append(ws.Topics, part.Topics...)
		// Moved blocks are checked against each other (one source per
		// destination) across files, and are small: always in full.
		ws.Moved = append(ws.Moved, part.Moved...)
		if check[p] {
			ws.Metrics = append(ws.Metrics, part.Metrics...)
			ws.Journeys = append(ws.Journeys, part.Journeys...)
			ws.Tests = append(ws.Tests, part.Tests...)
			continue
		}
		for i, j := range part.Journeys {
			size := stubName
			switch {
			case tests.named[j.Name.Value]:
				size = stubStages
			case tests.allSends:
				size = stubSends
			}
			ws.Journeys = append(ws.Journeys, snap.files[p].doc.stubs(size).Journeys[i])
		}
		ws.Tests = append(ws.Tests, snap.files[p].doc.stubs(stubName).Tests...)
	}
	return ws
}

// stubs returns the stubs of a document's journeys and tests, of one size,
// made once: the compiler only reads the model, so every check can share
// them.
func (d *document) stubs(size int) *lang.Workspace {
	d.stubOnce[size].Do(func() {
		part, _ := d.parse()
		ws := &lang.Workspace{}
		for _, j := range part.Journeys {
			ws.Journeys = append(ws.Journeys, stubJourney(j, size))
		}
		for _, t := range part.Tests {
			ws.Tests = append(ws.Tests, &lang.Test{Node: t.Node, Name: t.Name})
		}
		d.stubbed[size] = ws
	})
	return d.stubbed[size]
}

// stubJourney keeps what other files can see of a journey: its name and
// policy (a policy's lint reads it) and, as size asks, its sends, or its
// stages with their sends. Sends alone go in one stage named as the first:
// no diagnostic of the stubs is kept, only what the tests resolve against.
func stubJourney(j *lang.Journey, size int) *lang.Journey {
	stub := &lang.Journey{Node: j.Node, Name: j.Name, Policy: j.Policy}
	if size == stubName || len(j.Stages) == 0 {
		return stub
	}
	sends := func(s *lang.Stage) []lang.Action {
		var out []lang.Action
		for _, a := range s.Actions {
			if send, ok := a.(*lang.Send); ok {
				out = append(out, &lang.Send{Node: send.Node, Name: send.Name})
			}
		}
		return out
	}
	if size == stubSends {
		st := &lang.Stage{Node: j.Stages[0].Node, Name: j.Stages[0].Name}
		for _, s := range j.Stages {
			st.Actions = append(st.Actions, sends(s)...)
		}
		stub.Stages = []*lang.Stage{st}
		return stub
	}
	for _, s := range j.Stages {
		stub.Stages = append(stub.Stages, &lang.Stage{Node: s.Node, Name: s.Name, Actions: sends(s)})
	}
	return stub
}

// String describes a check for logs and the benchmark.
func (s *snapshot) String() string {
	kind := "partial"
	if s.full {
		kind = "full"
	}
	return fmt.Sprintf("%s check of %d/%d files in %v", kind, s.checked, len(s.paths), s.took.Round(time.Millisecond))
}
