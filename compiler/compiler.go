package compiler

import (
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// Options adjusts how a workspace is checked.
type Options struct {
	// ReadFile reads a file named by template(), relative to the workspace
	// root. The default is lang.ReadFile under the workspace root: only
	// regular files inside it, after symlinks, within the size limit. A
	// path that leaves the root is refused before ReadFile is called.
	ReadFile func(path string) ([]byte, error)
}

// Result is what a check produced: the model it checked, the symbols and
// references it resolved (for the language server), and the IR when the
// workspace has no errors.
type Result struct {
	Workspace *lang.Workspace
	Index     *Index
	Program   *ir.Program // nil when there are errors
}

// CompileDir loads the workspace under dir and checks it.
func CompileDir(dir string) (*Result, hcl.Diagnostics) {
	ws, diags := lang.LoadDir(dir)
	res, more := Check(ws, Options{})
	return res, Sort(append(diags, more...))
}

// Check runs every pass over a loaded workspace and returns all problems,
// sorted by file and position. The IR is produced only when neither loading
// nor checking found an error; warnings do not stop it.
func Check(ws *lang.Workspace, opts Options) (*Result, hcl.Diagnostics) {
	return run(ws, opts, true)
}

// Validate runs every check but does not build the IR: what `waymark
// validate` and the language server need.
func Validate(ws *lang.Workspace, opts Options) (*Result, hcl.Diagnostics) {
	return run(ws, opts, false)
}

func run(ws *lang.Workspace, opts Options, lower bool) (*Result, hcl.Diagnostics) {
	if opts.ReadFile == nil {
		root := ws.Root
		opts.ReadFile = func(path string) ([]byte, error) {
			return lang.ReadFile(root, path)
		}
	}
	c := newChecker(ws, opts)
	if c.overLimits() {
		return &Result{Workspace: ws, Index: c.index}, Sort(c.diags)
	}
	c.resolve()
	c.types()
	c.graph()
	c.lint()
	c.tests()
	c.diags = clampRanges(dropAtSyntaxErrors(c.diags, ws.SyntaxErrors))
	res := &Result{Workspace: ws, Index: c.index}
	if lower && !c.diags.HasErrors() && !ws.LoadErrors {
		res.Program = c.lower()
	}
	return res, Sort(c.diags)
}

// clampRanges shrinks a subject whose end lies before its start to its
// start. hclsyntax gives such ranges to expressions it could not finish
// parsing (an unclosed call), and typeexpr to types it could not read; left
// alone they would point outside the file.
func clampRanges(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r != nil && r.End.Byte < r.Start.Byte {
				r.End = r.Start
			}
		}
	}
	return diags
}

// dropAtSyntaxErrors removes diagnostics about a spot the parser already
// reported: a half-parsed expression there says nothing new.
func dropAtSyntaxErrors(diags hcl.Diagnostics, syntax []hcl.Range) hcl.Diagnostics {
	if len(syntax) == 0 {
		return diags
	}
	out := diags[:0]
	for _, d := range diags {
		if d.Subject != nil && overlapsAny(*d.Subject, syntax) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func overlapsAny(r hcl.Range, rs []hcl.Range) bool {
	for _, s := range rs {
		if s.Filename == r.Filename && s.Start.Byte < r.End.Byte && r.Start.Byte < s.End.Byte {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file, then position, then severity (errors
// first), then summary, so output is stable. Diagnostics without a subject
// come first.
func Sort(diags hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Byte != b.Start.Byte:
			return a.Start.Byte < b.Start.Byte
		case diags[i].Severity != diags[j].Severity:
			return diags[i].Severity < diags[j].Severity
		}
		return diags[i].Summary < diags[j].Summary
	})
	return diags
}
