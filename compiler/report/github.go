package report

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// GitHub writes each diagnostic as a GitHub Actions workflow command, which
// the runner turns into an annotation on the pull request's diff:
//
//	::error file=journeys/a.journey.hcl,line=12,col=12,endLine=12,endColumn=22,title=Reference to an undeclared stage::Journey "welcome" has no stage "chek".
//
// Columns are 1-based and endColumn is exclusive, like the ranges. The
// message is the detail (the summary when there is none). Paths use forward
// slashes and should be relative to the repository root, which is where
// workflows run.
func (p Printer) GitHub(w io.Writer, diags hcl.Diagnostics) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		var props []string
		if r := d.Subject; r != nil && r.Filename != "" {
			props = append(props,
				"file="+escapeProperty(filepath.ToSlash(p.Path(r.Filename))),
				fmt.Sprintf("line=%d", r.Start.Line),
				fmt.Sprintf("col=%d", r.Start.Column),
				fmt.Sprintf("endLine=%d", r.End.Line),
				fmt.Sprintf("endColumn=%d", r.End.Column))
		}
		props = append(props, "title="+escapeProperty(d.Summary))
		msg := d.Detail
		if strings.TrimSpace(msg) == "" {
			msg = d.Summary
		}
		fmt.Fprintf(bw, "::%s %s::%s\n", severity(d.Severity), strings.Join(props, ","), escapeData(msg))
	}
	return bw.Flush()
}

// dataEscaper escapes a command's message: '%', '\r' and '\n' are written
// as %25, %0D and %0A, which the runner decodes.
var dataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// propertyEscaper escapes a property value (file, title): as a message, and
// also ':' and ',', which would otherwise end the value.
var propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
