package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/report"
	"github.com/waymark-dev/waymark/lang"
)

// workspace is a compiled workspace and how to report on it.
type workspace struct {
	dir     string
	result  *compiler.Result
	diags   hcl.Diagnostics
	printer report.Printer
}

// compileArg compiles the workspace named by the command's one PATH
// argument. When it returns a nil workspace, it has reported why on stderr
// and the command exits with code.
func (e *env) compileArg(args []string) (*workspace, int) {
	switch len(args) {
	case 0:
		return nil, e.failf(exitUsage, "missing PATH: name the workspace directory (usage: waymark %s %s)", e.cmd.name, e.cmd.synopsis)
	case 1:
	default:
		return nil, e.failf(exitUsage, "takes one PATH, got %d: %s", len(args), strings.Join(args, " "))
	}
	return e.compilePath(args[0])
}

// compilePath compiles the workspace that path names (a directory, or a
// file in it). When it returns a nil workspace, it has reported why on
// stderr and the command exits with code.
func (e *env) compilePath(path string) (*workspace, int) {
	dir, err := workspaceDir(path)
	if err != nil {
		return nil, e.failf(exitUsage, "%v", err)
	}
	files, err := lang.FindFiles(dir)
	if err != nil {
		return nil, e.failf(exitProblem, "%v", err)
	}
	if !hasJourneyFile(files) {
		return nil, e.failf(exitProblem, "no *%s files in %s", lang.JourneySuffix, dir)
	}
	res, diags := compiler.CompileDir(dir)
	w := &workspace{dir: dir, result: res, diags: diags}
	w.printer = report.Printer{Root: dir, Source: w.source}
	return w, exitOK
}

// workspaceDir returns the workspace directory that path names: path itself
// when it is a directory, the directory a workspace file is in otherwise.
func workspaceDir(path string) (string, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, isFile := lang.KindOf(path); isFile {
			return "", errors.New("no such file: " + path)
		}
		return "", errors.New("no such directory: " + path)
	case err != nil:
		return "", err
	case info.IsDir():
		return filepath.Clean(path), nil
	}
	if _, ok := lang.KindOf(path); !ok {
		return "", errors.New(path + " is not a workspace file: pass a directory, or a *" + lang.JourneySuffix + " file in one")
	}
	return filepath.Dir(path), nil
}

func hasJourneyFile(files []string) bool {
	for _, f := range files {
		if kind, _ := lang.KindOf(f); kind == lang.JourneyFile {
			return true
		}
	}
	return false
}

// source returns a file's content for snippets: as the compiler read it, or
// from disk for a file it did not load (a template).
func (w *workspace) source(name string) []byte {
	if w.result != nil && w.result.Workspace != nil {
		if f := w.result.Workspace.File(name); f != nil {
			return f.Src
		}
	}
	src, err := lang.ReadFile(w.dir, name)
	if err != nil {
		return nil
	}
	return src
}

// printText writes diagnostics as text with a summary line, the way every
// command shows a workspace's problems to a person.
func (w *workspace) printText(out io.Writer, diags hcl.Diagnostics) error {
	if err := w.printer.Text(out, diags); err != nil {
		return err
	}
	_, err := io.WriteString(out, report.Summary(diags)+"\n")
	return err
}
