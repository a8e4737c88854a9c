package diagram

import (
	"fmt"
	"io"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Format names an output format.
type Format string

// The formats Write draws.
const (
	FormatMermaid Format = "mermaid"
	FormatDot     Format = "dot"
)

// Formats lists every format, the default first.
var Formats = []Format{FormatMermaid, FormatDot}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		if string(f) == s {
			return f, nil
		}
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", s, strings.Join(names, ", "))
}

// Write draws journeys in format f.
func Write(w io.Writer, f Format, journeys []ir.Journey) error {
	switch f {
	case FormatMermaid:
		return Mermaid(w, journeys)
	case FormatDot:
		return Dot(w, journeys)
	}
	return fmt.Errorf("diagram: unknown format %q", f)
}
