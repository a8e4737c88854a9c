package lsp

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// snapshot is the result of one check of a workspace: immutable, so a request
// can read it while the next check runs. The symbol table and the table of
// declarations are built on first use: publishing diagnostics needs neither.
type snapshot struct {
	root  string
	gen   uint64
	docs  map[string]*document
	paths []string // sorted
	files map[string]*fileResult

	full    bool // every file was checked
	checked int
	took    time.Duration

	keysMu sync.Mutex
	keys   map[symKey]*compiler.Symbol // the current symbol of each key looked up so far

	declsOnce sync.Once
	decls     *decls

	templatesMu sync.Mutex
	templates   map[string]*document // files outside the workspace that ranges point into, read on demand
}

// symKey identifies a symbol across checks: a reference kept from an earlier
// check points at that check's symbol object.
type symKey struct {
	kind         compiler.SymbolKind
	parent, name string
}

func keyOf(s *compiler.Symbol) symKey { return symKey{s.Kind, s.Parent, s.Name} }

// The index is kept per file, as the checks that covered each file left it;
// nothing is merged, because merging a thousand journeys' references after
// every keystroke would cost more than the check. A lookup resolves a
// reference to the current symbol by its key.

// symbol returns the current symbol with sym's key: the first declared, in
// file order, as the compiler resolves names. It looks through the files'
// own tables (made once per check of each file) and remembers the answer,
// so no table of the whole workspace is rebuilt after every keystroke.
func (s *snapshot) symbol(sym *compiler.Symbol) *compiler.Symbol {
	k := keyOf(sym)
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if cur, ok := s.keys[k]; ok {
		return cur
	}
	var cur *compiler.Symbol
	for _, p := range s.paths {
		if c := s.files[p].byKey()[k]; c != nil {
			cur = c
			break
		}
	}
	if s.keys == nil {
		s.keys = map[symKey]*compiler.Symbol{}
	}
	s.keys[k] = cur
	return cur
}

// lookup finds a declared symbol by kind, parent and name.
func (s *snapshot) lookup(kind compiler.SymbolKind, parent, name string) *compiler.Symbol {
	return s.symbol(&compiler.Symbol{Kind: kind, Parent: parent, Name: name})
}

// symbols lists every declared symbol, in file order.
func (s *snapshot) symbols() []*compiler.Symbol {
	var out []*compiler.Symbol
	for _, p := range s.paths {
		out = append(out, s.files[p].symbols...)
	}
	return out
}

// refsIn lists the references in a file (a workspace file, or a template
// that files render), each pointing at its current symbol.
func (s *snapshot) refsIn(path string) []compiler.Ref {
	var out []compiler.Ref
	add := func(r compiler.Ref) {
		if cur := s.symbol(r.Symbol); cur != nil {
			r.Symbol = cur
			out = append(out, r)
		}
	}
	if f := s.files[path]; f != nil {
		for _, r := range f.refs {
			if r.Range.Filename == path {
				add(r)
			}
		}
		return out
	}
	seen := map[hcl.Range]bool{} // a template's references come from each file that renders it
	for _, p := range s.paths {
		for _, r := range s.files[p].refs {
			if r.Range.Filename == path && !seen[r.Range] {
				seen[r.Range] = true
				add(r)
			}
		}
	}
	return out
}

// refsTo lists every reference to sym, in file order, templates included.
func (s *snapshot) refsTo(sym *compiler.Symbol) []compiler.Ref {
	want := keyOf(sym)
	var out []compiler.Ref
	seen := map[hcl.Range]bool{}
	for _, p := range s.paths {
		for _, r := range s.files[p].refs {
			if keyOf(r.Symbol) != want {
				continue
			}
			if s.files[r.Range.Filename] == nil { // in a template
				if seen[r.Range] {
					continue
				}
				seen[r.Range] = true
			}
			r.Symbol = sym
			out = append(out, r)
		}
	}
	return out
}

// symbolAt returns the symbol declared or referenced at off in a file, with
// the range of the name there.
func (s *snapshot) symbolAt(path string, off int) (*compiler.Symbol, hcl.Range, bool) {
	if f := s.files[path]; f != nil {
		for _, sym := range f.symbols {
			if sym.NameRange.Filename == path && contains(sym.NameRange, off) {
				return sym, sym.NameRange, true
			}
		}
		for _, r := range f.refs {
			if r.Range.Filename == path && contains(r.Range, off) {
				if cur := s.symbol(r.Symbol); cur != nil {
					return cur, r.Range, false
				}
			}
		}
		return nil, hcl.Range{}, false
	}
	for _, r := range s.refsIn(path) { // a template
		if contains(r.Range, off) {
			return r.Symbol, r.Range, false
		}
	}
	return nil, hcl.Range{}, false
}

// diagnostics returns every problem in a file: the parser's and the
// compiler's, sorted. For a template file (not a workspace file), it gathers
// what the checks of the files that render it found.
func (s *snapshot) diagnostics(path string) hcl.Diagnostics {
	var out hcl.Diagnostics
	if f := s.files[path]; f != nil {
		_, parse := f.doc.parse()
		out = append(out, parse...)
		for _, d := range f.diags {
			if d.Subject == nil || d.Subject.Filename == path {
				out = append(out, d)
			}
		}
		return compiler.Sort(out)
	}
	seen := map[string]bool{}
	for _, p := range s.paths {
		for _, d := range s.files[p].diags {
			if d.Subject != nil && d.Subject.Filename == path {
				key := fingerprint(hcl.Diagnostics{d})
				if !seen[key] {
					seen[key] = true
					out = append(out, d)
				}
			}
		}
	}
	return compiler.Sort(out)
}

// templateFiles lists the files outside the workspace that diagnostics
// point into.
func (s *snapshot) templateFiles() map[string]bool {
	out := map[string]bool{}
	for _, p := range s.paths {
		for _, d := range s.files[p].diags {
			if d.Subject != nil && s.files[d.Subject.Filename] == nil {
				out[d.Subject.Filename] = true
			}
		}
	}
	return out
}

// doc returns the document of a workspace file, or of a template file read
// from disk, or nil.
func (s *snapshot) doc(path string) *document {
	if d := s.docs[path]; d != nil {
		return d
	}
	s.templatesMu.Lock()
	defer s.templatesMu.Unlock()
	if d, ok := s.templates[path]; ok {
		return d
	}
	var d *document
	abs := filepath.Join(s.root, filepath.FromSlash(path))
	if src, err := lang.ReadFile(s.root, path); err == nil {
		d = &document{path: path, src: src, root: s.root, uri: fileURI(abs)}
	}
	if s.templates == nil {
		s.templates = map[string]*document{}
	}
	s.templates[path] = d
	return d
}
