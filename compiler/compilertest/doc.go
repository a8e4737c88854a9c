// Package compilertest generates the large workspaces the compiler's and
// the language server's benchmarks check: a schema file (traits, events,
// two channels, a policy) and journeys of 12 stages each that use every
// kind of block (sends, on, after, branch, update) and reference the schema
// everywhere, so that loading, type checking and re-checking all have work.
//
//	files := compilertest.Workspace(1000)   // 1,000 journeys, a file each
//	src := compilertest.Journey(7, "")       // one journey's text
package compilertest
