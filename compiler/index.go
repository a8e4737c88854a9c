package compiler

import (
	"github.com/hashicorp/hcl/v2"
)

// SymbolKind names what a symbol declares.
type SymbolKind string

// Kinds of symbols. Stages and sends live in a journey; properties in an event.
const (
	SymJourney  SymbolKind = "journey"
	SymStage    SymbolKind = "stage"
	SymSend     SymbolKind = "send"
	SymChannel  SymbolKind = "channel"
	SymPolicy   SymbolKind = "policy"
	SymTopic    SymbolKind = "topic"
	SymEvent    SymbolKind = "event"
	SymProperty SymbolKind = "property"
	SymTrait    SymbolKind = "trait"
	SymTest     SymbolKind = "test"
	SymMetric   SymbolKind = "metric"
)

// Symbol is a declared name.
type Symbol struct {
	Kind SymbolKind
	Name string
	// Parent is the journey of a stage or send, the event of a property.
	Parent string
	// NameRange is the declaring label, quotes included; DefRange the
	// block's type and labels; Range the whole block.
	NameRange hcl.Range
	DefRange  hcl.Range
	Range     hcl.Range
	// Node is the lang model node that declares it (*lang.Stage, *lang.Event...).
	Node any
}

// Ref is a place where a symbol is named: a traversal like stage.check, an
// event label, or a string in a scenario test.
type Ref struct {
	Symbol *Symbol
	Range  hcl.Range // exactly the name (for a label or string: with its quotes)
	// Quoted tells whether Range covers a quoted string, so a rename keeps the quotes.
	Quoted bool
}

// Index holds every symbol of a workspace and every reference to one, for
// go-to-definition, find-references and rename.
type Index struct {
	Symbols []*Symbol
	Refs    []Ref
}

// Lookup finds a symbol by kind, parent and name.
func (x *Index) Lookup(kind SymbolKind, parent, name string) *Symbol {
	for _, s := range x.Symbols {
		if s.Kind == kind && s.Parent == parent && s.Name == name {
			return s
		}
	}
	return nil
}

// At returns the symbol declared or referenced at pos in file, and whether
// pos is on its declaration.
func (x *Index) At(file string, pos hcl.Pos) (sym *Symbol, isDecl bool) {
	for _, s := range x.Symbols {
		if s.NameRange.Filename == file && covers(s.NameRange, pos) {
			return s, true
		}
	}
	for _, r := range x.Refs {
		if r.Range.Filename == file && covers(r.Range, pos) {
			return r.Symbol, false
		}
	}
	return nil, false
}

// RefsTo lists the references to sym in source order of the index.
func (x *Index) RefsTo(sym *Symbol) []Ref {
	var out []Ref
	for _, r := range x.Refs {
		if r.Symbol == sym {
			out = append(out, r)
		}
	}
	return out
}

// covers is inclusive of the end, so a cursor just after a name still
// finds it, as editors expect.
func covers(r hcl.Range, pos hcl.Pos) bool {
	return pos.Byte >= r.Start.Byte && pos.Byte <= r.End.Byte
}
