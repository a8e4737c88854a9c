package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/waymark-dev/waymark/lsp"
)

var lspCommand = &command{
	name:     "lsp",
	summary:  "run the language server for editors, on stdin and stdout",
	synopsis: "",
	help: `
Lsp runs the Waymark language server: editors start it and speak the
Language Server Protocol with it over stdin and stdout. It gives live
diagnostics for the whole workspace as you type, completion, hover, go to
definition, find references, rename, symbols, formatting (the same as
'waymark fmt') and quick fixes. The workspace is the folder the editor
opens; a file outside it is checked with the files of its own directory.

With a running server named by $WAYMARK_SERVER (and its admin token in
$WAYMARK_ADMIN_TOKEN), or by the initialization options {"server": URL,
"adminToken": TOKEN}, each stage shows the customers in it now (a code lens),
and deleting or renaming an occupied stage without a moved or removed block
is warned of, with how many customers would exit. Without one, or when it
does not answer, none of that appears.

Its own problems go to stderr, which editors keep in their logs. See
lsp/README.md for setting up VS Code, Neovim, Helix and Emacs.`,
	examples: `
# What an editor runs; nothing to type yourself.
waymark lsp`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return e.failf(exitUsage, "takes no arguments: editors start it and talk to it on stdin and stdout")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			opts := lsp.Options{Log: log, Server: os.Getenv("WAYMARK_SERVER"), AdminToken: os.Getenv("WAYMARK_ADMIN_TOKEN")}
			if err := lsp.Serve(ctx, os.Stdin, e.stdout, opts); err != nil {
				return e.failf(exitProblem, "%v", err)
			}
			return exitOK
		}
	},
}
