package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/waymark-dev/waymark/lang"
)

var fmtCommand = &command{
	name:     "fmt",
	summary:  "rewrite journey and test files in canonical format",
	synopsis: "[--check] [--diff] PATH...",
	help: `
Fmt rewrites *.journey.hcl and *.journeytest.hcl files in canonical format
(HCL's own: indentation, spacing, aligned equals signs) and prints the name of
each file it changed. A PATH is a file or a directory; a directory is searched
recursively, skipping hidden folders. Formatting a formatted file changes
nothing.

A file with syntax errors is left as it is and its errors are reported as
file:line:col; fmt then exits 1.`,
	examples: `
# Format every journey file under the current directory.
waymark fmt .
# In CI: list the files that are not formatted and fail if there are any.
waymark fmt --check --diff journeys/`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		check := fs.Bool("check", false, "change no file; list the files that need formatting and exit 1 if there are any")
		showDiff := fs.Bool("diff", false, "change no file; print what formatting would change as a unified diff")
		return func(e *env, args []string) int {
			return runFmt(e, args, *check, *showDiff)
		}
	},
}

func runFmt(e *env, args []string, check, showDiff bool) int {
	if len(args) == 0 {
		return e.failf(exitUsage, "missing PATH: name the files or directories to format, such as '.'")
	}
	files, code := fmtFiles(e, args)
	if code != exitOK {
		return code
	}
	status := exitOK
	for _, file := range files {
		path := file.path()
		src, err := lang.ReadFile(file.dir, file.rel)
		if err != nil {
			fmt.Fprintf(e.stderr, "waymark fmt: %v\n", err)
			status = exitProblem
			continue
		}
		out, diags := lang.Format(path, src)
		if diags.HasErrors() {
			for _, d := range diags {
				fmt.Fprintln(e.stderr, syntaxError(d))
			}
			status = exitProblem
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		switch {
		case showDiff:
			e.stdout.Write(diff.Diff(path+".orig", src, path, out))
		case check:
			fmt.Fprintln(e.stdout, path)
		default:
			if err := overwrite(path, out); err != nil {
				fmt.Fprintf(e.stderr, "waymark fmt: %v\n", err)
				status = exitProblem
				continue
			}
			fmt.Fprintln(e.stdout, path)
		}
		if check {
			status = exitProblem
		}
	}
	return status
}

// fmtFiles expands the PATH arguments into the files to format, each once,
// in argument order and, within a directory, in lexical order. A path that
// does not exist or names a file that is not a workspace file is a usage
// error, reported before any file is touched.
func fmtFiles(e *env, args []string) ([]fmtFile, int) {
	var files []fmtFile
	seen := map[string]bool{}
	add := func(f fmtFile) {
		if clean := filepath.Clean(f.path()); !seen[clean] {
			seen[clean] = true
			files = append(files, f)
		}
	}
	for _, arg := range args {
		info, err := os.Stat(arg)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, e.failf(exitUsage, "no such file or directory: %s", arg)
		case err != nil:
			return nil, e.failf(exitUsage, "%v", err)
		case info.IsDir():
			found, err := lang.FindFiles(arg)
			if err != nil {
				return nil, e.failf(exitProblem, "%v", err)
			}
			for _, rel := range found {
				add(fmtFile{dir: arg, rel: rel})
			}
		default:
			if _, ok := lang.KindOf(arg); !ok {
				return nil, e.failf(exitUsage, "%s is not a journey file: fmt formats *%s and *%s files", arg, lang.JourneySuffix, lang.TestSuffix)
			}
			add(fmtFile{dir: filepath.Dir(arg), rel: filepath.Base(arg)})
		}
	}
	return files, exitOK
}

// fmtFile is a file to format, as a path relative to the directory it is
// read under: lang.ReadFile refuses a symlink that leads out of that
// directory, so fmt never reads or rewrites a file outside the workspace.
type fmtFile struct{ dir, rel string }

func (f fmtFile) path() string { return filepath.Join(f.dir, filepath.FromSlash(f.rel)) }

// syntaxError prints a parser diagnostic on one line: "file:line:col: summary: detail".
func syntaxError(d *hcl.Diagnostic) string {
	msg := d.Summary
	if d.Detail != "" {
		msg += ": " + d.Detail
	}
	if r := d.Subject; r != nil {
		return fmt.Sprintf("%s:%d:%d: %s", r.Filename, r.Start.Line, r.Start.Column, msg)
	}
	return msg
}

// overwrite replaces the content of the file at path, keeping its mode.
func overwrite(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, info.Mode().Perm())
}
