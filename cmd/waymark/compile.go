package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/waymark-dev/waymark/compiler/ir"
)

var compileCommand = &command{
	name:     "compile",
	summary:  "compile a workspace to its IR, the JSON the runtime runs",
	synopsis: "[-o FILE] PATH",
	help: `
Compile checks the workspace at PATH (a directory, or a file in it: then its
directory) and writes its IR, a self-contained JSON document, to standard
output or to FILE. The same workspace always compiles to the same bytes.

When the workspace has errors, compile prints them as validate does, on
standard error, writes nothing and exits 1. Warnings are printed and do not
stop it.`,
	examples: `
# Compile a workspace into a file to ship.
waymark compile examples/phone_activation -o phone_activation.ir.json
# Look at the IR of one stage.
waymark compile examples/phone_activation | jq '.journeys[0].stages[0]'`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		out := fs.String("o", "", "write the IR to `FILE` instead of standard output")
		return func(e *env, args []string) int {
			return runCompile(e, args, *out)
		}
	},
}

func runCompile(e *env, args []string, out string) int {
	w, code := e.compileArg(args)
	if w == nil {
		return code
	}
	if w.diags.HasErrors() {
		w.printText(e.stderr, w.diags)
		return exitProblem
	}
	if w.result.Program == nil {
		return e.failf(exitProblem, "internal error: the compiler reported no error and produced no program")
	}
	if len(w.diags) > 0 {
		w.printText(e.stderr, w.diags)
	}
	data, err := ir.Encode(w.result.Program)
	if err != nil {
		return e.failf(exitProblem, "encoding the IR: %v", err)
	}
	if out == "" {
		if _, err := e.stdout.Write(data); err != nil {
			return e.failf(exitProblem, "%v", err)
		}
		return exitOK
	}
	if err := writeFileAtomic(out, data); err != nil {
		return e.failf(exitProblem, "%v", err)
	}
	return exitOK
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a file and a failed write
// leaves the old one in place.
func writeFileAtomic(path string, data []byte) error {
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary file's name would only confuse
		}
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}
