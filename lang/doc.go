// Package lang is the Waymark language: its schema, the model of a
// workspace, and the expression functions.
//
// Data flows one way. Files (*.journey.hcl, *.journeytest.hcl) are read
// through ReadFile (source.go), which every entry point uses for workspace
// files and templates: a workspace is untrusted input, so only regular
// files inside its root (after symlinks) within the size limits are read.
// They are parsed by hclsyntax, through ParseConfig, ParseTemplate and
// ParseExpression (nesting.go), which first bound how deep the source
// nests: hclsyntax is recursive and deep nesting overflows its stack. The
// parsed tree is then bounded in place: number literals and arithmetic
// (numbers.go), and for expressions, which may not nest and go over at
// most MaxForElements elements (forbound.go); the loader (load.go) walks each body against the schema
// (schema.go), reports unknown blocks and attributes, wrong labels and
// missing required attributes, and builds the typed model (model.go) in
// which every block, label, attribute and expression keeps its source
// range. The loader never stops at the first problem: a file with syntax
// errors still contributes what the parser recovered, so the compiler and
// the language server work on broken files.
//
// The schema is the one description of the language. The loader checks
// against it, the language server completes and hovers from it, and
// docs/language.md is generated from it (reference.go); nothing else
// describes a block or an attribute. The semantics, with examples, are in
// the language guide, docs/guide.md; guide.go maps each block to its
// section there, for the reference's and hover's pointers.
//
// The model holds what was written, valid or not: resolving names and
// checking types is the compiler's job. Helpers that several layers need
// live here too: AsReference and StaticString read expressions without
// evaluating them, InString maps an offset inside a string literal to a
// range (for errors in time strings), and Functions is the function table
// of every expression, at compile time and at run time.
//
// Subpackages: timespec is the grammar of time strings (durations,
// windows, caps, re-entry rules); suggest finds the name a person meant.
package lang
