package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
)

var diffCommand = &command{
	name:     "diff",
	summary:  "show what changed between two workspaces, journey by journey",
	synopsis: "[--format text|markdown|json] OLD NEW | --git REV [DIR]",
	help: `
Diff compiles two workspaces and shows what changed in what they do, not in
their text: per journey, the stages added, removed, moved (by a moved block)
and changed (actions, sends' fields, transitions, conditions, durations,
split weights), and the entries, goals, exits, policy and re-entry; then the
channels, policies, schemas and templates. Each change names its place in
NEW as file:line:col. Moving code around, comments and formatting are no
change.

OLD and NEW are workspace directories. With --git REV, OLD is DIR (default
.) as it was at the git revision REV, and NEW is DIR as it is now in the
working tree: "what does my branch change?".

--format text (the default) is for a terminal; markdown is for a pull
request (a table per journey, its graph with added, changed, moved and
removed stages styled, the details folded); json is the document
waymark.diff/v1, stable for tools.

Diff exits 0 whether or not anything changed, 1 when a workspace has errors
(printed as validate prints them) or git fails, 2 for a wrong command line.
To see what a change does to the customers in flight, use 'waymark plan'.`,
	examples: `
# What does this branch change, against main?
waymark diff --git main journeys/
# Two checkouts side by side, as JSON for a tool.
waymark diff --format json ../old/journeys journeys | jq '.journeys[].name'`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		format := newChoice(fs, "format", []string{"text", "markdown", "json"}, "how to write the diff")
		rev := fs.String("git", "", "compare DIR at the git revision `REV` with DIR in the working tree")
		return func(e *env, args []string) int {
			return runDiff(e, args, format.value, *rev)
		}
	},
}

func runDiff(e *env, args []string, format, rev string) int {
	var oldPath, newPath, oldName string
	switch {
	case rev != "" && len(args) > 1:
		return e.failf(exitUsage, "with --git, takes at most one DIR, got %d: %s", len(args), strings.Join(args, " "))
	case rev != "":
		newPath = "."
		if len(args) == 1 {
			newPath = args[0]
		}
		dir, err := workspaceDir(newPath)
		if err != nil {
			return e.failf(exitUsage, "%v", err)
		}
		tmp, err := os.MkdirTemp("", "waymark-diff-")
		if err != nil {
			return e.failf(exitProblem, "%v", err)
		}
		defer os.RemoveAll(tmp)
		if err := gitExport(dir, rev, tmp); err != nil {
			return e.failf(exitProblem, "%v", err)
		}
		oldPath, oldName = tmp, dir+"@"+rev
	case len(args) == 2:
		oldPath, newPath, oldName = args[0], args[1], args[0]
	default:
		return e.failf(exitUsage, "takes OLD and NEW, two workspace directories, or --git REV [DIR]; got %d arguments", len(args))
	}
	old, code := e.compileProgram(oldPath, oldName)
	if old == nil {
		return code
	}
	cur, code := e.compileProgram(newPath, "")
	if cur == nil {
		return code
	}
	d := diff.Compute(old, cur)
	var err error
	switch format {
	case "json":
		err = diff.WriteJSON(e.stdout, d)
	case "markdown":
		err = diff.WriteMarkdown(e.stdout, d, cur)
	default:
		err = diff.WriteText(e.stdout, d)
	}
	if err != nil {
		return e.failf(exitProblem, "%v", err)
	}
	return exitOK
}

// compileProgram compiles the workspace at path into its IR. A workspace
// with errors gets them printed (under the name label, when path is a
// temporary copy) and a nil program.
func (e *env) compileProgram(path, label string) (*ir.Program, int) {
	w, code := e.compilePath(path)
	if w == nil {
		return nil, code
	}
	if w.diags.HasErrors() {
		if label != "" {
			fmt.Fprintf(e.stderr, "%s:\n", label)
		}
		w.printText(e.stderr, w.diags)
		name := label
		if name == "" {
			name = w.dir
		}
		e.failf(exitProblem, "%s has errors; fix them first", name)
		return nil, exitProblem
	}
	if w.result.Program == nil {
		return nil, e.failf(exitProblem, "internal error: the compiler reported no error and produced no program")
	}
	return w.result.Program, exitOK
}

// gitExport writes the files of dir as they were at the git revision rev
// into out: `git archive` of rev's tree at dir's path in its repository.
func gitExport(dir, rev, out string) error {
	top := dir
	git := func(args ...string) ([]byte, error) {
		cmd := exec.Command("git", args...)
		// From a subdirectory, git archive takes only that subtree's paths:
		// it runs at the top, on the tree of dir's path.
		cmd.Dir = top
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		data, err := cmd.Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return nil, fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(stderr.String()))
			}
			return nil, fmt.Errorf("git %s: %w (is git installed?)", args[0], err)
		}
		return data, nil
	}
	where, err := git("rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return fmt.Errorf("%s is not in a git repository: %w", dir, err)
	}
	lines := strings.Split(strings.TrimRight(string(where), "\n"), "\n")
	top = lines[0]
	prefix := ""
	if len(lines) > 1 {
		prefix = strings.TrimSuffix(lines[1], "/")
	}
	if _, err := git("rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return fmt.Errorf("--git %s: no such revision in the repository of %s", rev, dir)
	}
	tree := rev
	if prefix != "" {
		tree = rev + ":" + prefix
	}
	data, err := git("archive", "--format=tar", tree)
	if err != nil {
		return fmt.Errorf("--git %s: %s did not exist at that revision, or %w", rev, dir, err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading git archive: %w", err)
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			continue
		}
		path := filepath.Join(out, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			content, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("reading git archive: %w", err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				return err
			}
		}
	}
}
