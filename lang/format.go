package lang

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical form: as hclwrite.Format writes it, with
// no blank lines before the first line and exactly one line break after the
// last. It refuses a file with syntax errors, whose tokens could be misread,
// and returns nil for a file with nothing in it. Formatting is idempotent.
//
// `waymark fmt` and the language server's formatting both call it, so an
// editor formats a file exactly as the command line does.
func Format(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if _, diags := ParseConfig(src, filename); diags.HasErrors() {
		return nil, diags
	}
	out := hclwrite.Format(src)
	out = bytes.TrimLeft(out, "\r\n")
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	eol := []byte("\n")
	if bytes.Contains(out, []byte("\r\n")) {
		eol = []byte("\r\n")
	}
	// Nothing after the last line break can be inside a string: the file
	// parsed, and a heredoc ends with its marker.
	out = bytes.TrimRight(out, " \t\r\n")
	return append(out, eol...), nil
}
