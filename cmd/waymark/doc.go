// Command waymark is the command line of Waymark, journey-as-code: it
// formats, checks, compiles, draws and tests workspaces of *.journey.hcl
// files, runs them as a server, and serves editors as a language server.
//
// main.go holds the list of subcommands and dispatches to them; each
// subcommand is one file defining a *command (its flags, help text and run
// function), and adding one is a line in that list. Flags may come before or
// after the positional arguments. Exit codes: 0 done, 1 the input has
// problems (workspace errors, unformatted files, failing tests), 2 the
// command line is wrong; `plan --detailed-exitcode` has codes of its own.
//
// Data flows one way: a command resolves its PATH, loads and checks the
// workspace with package compiler, and hands the result on:
//
//	fmt       lang.Format on each file; -diff through go-internal's diff
//	validate  diagnostics to compiler/report (text, json, github)
//	compile   the IR to ir.Encode
//	graph     the IR to compiler/diagram (mermaid, dot)
//	diff      two IRs (one maybe from `git archive REV`) to compiler/diff
//	plan      the IR to a server's POST /v1/plan, or to runtime/plan over a
//	          store; the waymark.plan/v1 document to compiler/diff's writers
//	test      the IR to runtime/engine, the tests to runtime/simtest
//	run       the IR to the runtime: store, worker, scheduler, dispatcher,
//	          HTTP server and the reload watcher (run.go wires them)
//	lsp       stdin and stdout to package lsp
//	version   runtime/debug's build information (module version, VCS stamp, Go)
package main
