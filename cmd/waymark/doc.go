// Command waymark is the command line of Waymark, journey-as-code: it formats,
// checks, compiles and draws workspaces of *.journey.hcl files.
//
// main.go holds the list of subcommands and dispatches to them; each
// subcommand is one file defining a *command (its flags, help text and run
// function), and adding one is a line in that list. Flags may come before or
// after the positional arguments. Exit codes: 0 done, 1 the input has
// problems (workspace errors, unformatted files), 2 the command line is wrong.
//
// Data flows one way: a command resolves its PATH, loads and checks the
// workspace with package compiler, and hands the diagnostics to
// compiler/report (validate, and compile and graph on errors), the IR to
// ir.Encode (compile) or to compiler/diagram (graph). Fmt works on files
// alone: lang.FindFiles finds them, hclwrite formats them, and
// github.com/rogpeppe/go-internal/diff (the Go project's anchored diff)
// prints -diff output.
package main
