package main

import (
	"flag"
	"fmt"

	"github.com/waymark-dev/waymark/compiler/report"
)

var validateCommand = &command{
	name:     "validate",
	summary:  "check a workspace and report its errors and warnings",
	synopsis: "[--format text|json|github] PATH",
	help: `
Validate checks the workspace at PATH (a directory, or a file in it: then its
directory) the way compile does, and reports every problem: errors with a
snippet of the source, then a summary line. It exits 1 when there is an error;
warnings alone do not fail it.

--format json writes one JSON document for tools; --format github writes
workflow commands that GitHub Actions shows as annotations on a pull request.`,
	examples: `
# Check a workspace.
waymark validate examples/phone_activation
# In a GitHub Actions step: annotate the pull request's diff.
waymark validate --format github journeys/`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		formats := make([]string, len(report.Formats))
		for i, f := range report.Formats {
			formats[i] = string(f)
		}
		format := newChoice(fs, "format", formats, "how to write the diagnostics")
		return func(e *env, args []string) int {
			return runValidate(e, args, report.Format(format.value))
		}
	},
}

func runValidate(e *env, args []string, format report.Format) int {
	w, code := e.compileArg(args)
	if w == nil {
		return code
	}
	var err error
	if format == report.Text {
		err = w.printText(e.stdout, w.diags)
	} else {
		err = w.printer.Write(e.stdout, format, w.diags)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "waymark validate: %v\n", err)
		return exitProblem
	}
	if w.diags.HasErrors() {
		return exitProblem
	}
	return exitOK
}
