package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Format names an output format.
type Format string

// The formats a Printer writes.
const (
	Text   Format = "text"
	JSON   Format = "json"
	GitHub Format = "github"
)

// Formats lists every format, in the order usage messages name them.
var Formats = []Format{Text, JSON, GitHub}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", s, strings.Join(names, ", "))
}

// Printer writes diagnostics. The zero value prints paths as they are in the
// ranges and shows no source snippets.
type Printer struct {
	// Root is the workspace directory as the user named it. It is joined
	// before each range's Filename, which is relative to the workspace root.
	Root string
	// Source returns the content of a file named by a range's Filename, or
	// nil when it is not available; the text format then shows no snippet.
	// A nil Source shows no snippets.
	Source func(filename string) []byte
}

// Write writes diags in format f.
func (p Printer) Write(w io.Writer, f Format, diags hcl.Diagnostics) error {
	switch f {
	case Text:
		return p.Text(w, diags)
	case JSON:
		return p.JSON(w, diags)
	case GitHub:
		return p.GitHub(w, diags)
	}
	return fmt.Errorf("report: unknown format %q", f)
}

// Path returns the path to print for a range's Filename: Root joined with it.
func (p Printer) Path(filename string) string {
	if filename == "" {
		return ""
	}
	if p.Root == "" || filepath.IsAbs(filename) {
		return filepath.FromSlash(filename)
	}
	return filepath.Join(p.Root, filepath.FromSlash(filename))
}

// Position returns where d points as "path:LINE:COL", or "" when it has no
// subject.
func (p Printer) Position(d *hcl.Diagnostic) string {
	if d.Subject == nil || d.Subject.Filename == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", p.Path(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
}

// Line returns d on one line: "path:LINE:COL: error: Summary".
func (p Printer) Line(d *hcl.Diagnostic) string {
	head := severity(d.Severity) + ": " + d.Summary
	if pos := p.Position(d); pos != "" {
		return pos + ": " + head
	}
	return head
}

// Count returns how many errors and how many warnings diags holds.
func Count(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}

// Summary says how many problems diags holds: "2 errors, 1 warning".
func Summary(diags hcl.Diagnostics) string {
	errs, warns := Count(diags)
	return plural(errs, "error") + ", " + plural(warns, "warning")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// severity names a severity the way every format prints it. HCL's invalid
// severity never comes out of a parser; it counts as an error so that nothing
// is lost.
func severity(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}
