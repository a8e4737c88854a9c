package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apparentlymart/go-textseg/v15/textseg"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/text/width"
)

// tabWidth is how many columns a tab advances to in snippets. Tabs are
// expanded so that the source line and its underline agree in any terminal.
const tabWidth = 4

// Text writes each diagnostic as a header line, its detail indented, and the
// source line it points at with the range underlined, each followed by a
// blank line:
//
//	journeys/a.journey.hcl:12:12: error: Reference to an undeclared stage
//	  Journey "welcome" has no stage "chek". Did you mean "check"?
//
//	  12 |     goto = stage.chek
//	     |            ^^^^^^^^^^
//
// It writes no summary line: callers add Summary(diags) where they want one.
func (p Printer) Text(w io.Writer, diags hcl.Diagnostics) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		bw.WriteString(p.Line(d))
		bw.WriteByte('\n')
		if detail := strings.TrimSpace(d.Detail); detail != "" {
			for _, line := range strings.Split(detail, "\n") {
				bw.WriteString(strings.TrimRight("  "+line, " \t"))
				bw.WriteByte('\n')
			}
		}
		if s, ok := p.snippet(d.Subject); ok {
			bw.WriteByte('\n')
			bw.WriteString(s)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// snippet renders the first line of rng with the range underlined:
//
//	12 |     goto = stage.chek
//	   |            ^^^^^^^^^^
//
// A range over several lines is underlined to the end of its first line; an
// empty range gets one caret.
func (p Printer) snippet(rng *hcl.Range) (string, bool) {
	if rng == nil || p.Source == nil || rng.Filename == "" {
		return "", false
	}
	src := p.Source(rng.Filename)
	if src == nil {
		return "", false
	}
	line, start, ok := lineAt(src, rng.Start)
	if !ok {
		return "", false
	}
	end := len(line)
	if rng.End.Line == rng.Start.Line {
		if off, ok := offsetIn(src, line, rng.Start, rng.End); ok {
			end = off
		}
	}
	end = max(end, start)

	var text, marks strings.Builder
	col := 0
	for i := 0; i < len(line); {
		n := clusterLen(line[i:])
		cluster := line[i : i+n]
		w := clusterWidth(cluster, col)
		switch {
		case cluster[0] == '\t':
			text.WriteString(strings.Repeat(" ", w))
		case isControl(cluster):
			text.WriteRune(utf8.RuneError) // never send a file's control bytes to a terminal
		default:
			text.Write(cluster)
		}
		mark := " "
		if i >= start && i < end {
			mark = "^"
		}
		marks.WriteString(strings.Repeat(mark, w))
		col += w
		i += n
	}
	under := strings.TrimRight(marks.String(), " ")
	if !strings.Contains(under, "^") {
		// An empty range, or one over characters of no width: point at
		// where it starts.
		under = strings.Repeat(" ", displayWidth(line[:start])) + "^"
	}

	num := strconv.Itoa(rng.Start.Line)
	gutter := strings.Repeat(" ", len(num))
	return fmt.Sprintf("  %s | %s\n  %s | %s\n",
		num, strings.TrimRight(text.String(), " \t"), gutter, under), true
}

// lineAt returns the source line pos is on, without its line ending, and
// pos's byte offset within it. It trusts pos.Byte when it agrees with
// pos.Line and falls back to counting lines and columns (in grapheme
// clusters, HCL's unit) when it does not.
func lineAt(src []byte, pos hcl.Pos) (line []byte, off int, ok bool) {
	if pos.Line < 1 {
		return nil, 0, false
	}
	if pos.Byte >= 0 && pos.Byte <= len(src) {
		lineStart := bytes.LastIndexByte(src[:pos.Byte], '\n') + 1
		if bytes.Count(src[:lineStart], []byte("\n"))+1 == pos.Line {
			l := lineFrom(src, lineStart)
			return l, min(pos.Byte-lineStart, len(l)), true
		}
	}
	lineStart := 0
	for n := 1; n < pos.Line; n++ {
		i := bytes.IndexByte(src[lineStart:], '\n')
		if i < 0 {
			return nil, 0, false
		}
		lineStart += i + 1
	}
	l := lineFrom(src, lineStart)
	off = 0
	for c := 1; c < pos.Column && off < len(l); c++ {
		off += clusterLen(l[off:])
	}
	return l, off, true
}

// offsetIn returns end's byte offset within line, the line start is on.
func offsetIn(src, line []byte, start, end hcl.Pos) (int, bool) {
	if end.Byte >= start.Byte && end.Byte <= len(src) && start.Byte >= 0 {
		lineStart := bytes.LastIndexByte(src[:start.Byte], '\n') + 1
		if off := end.Byte - lineStart; off >= 0 && off <= len(line) {
			return off, true
		}
	}
	if end.Column < 1 {
		return 0, false
	}
	off := 0
	for c := 1; c < end.Column && off < len(line); c++ {
		off += clusterLen(line[off:])
	}
	return off, true
}

// lineFrom returns the line that starts at byte i, without "\n" or "\r\n".
func lineFrom(src []byte, i int) []byte {
	rest := src[i:]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	return bytes.TrimSuffix(rest, []byte("\r"))
}

// clusterLen returns the length in bytes of the grapheme cluster s starts with.
func clusterLen(s []byte) int {
	adv, _, err := textseg.ScanGraphemeClusters(s, true)
	if err != nil || adv <= 0 {
		_, n := utf8.DecodeRune(s)
		return max(n, 1)
	}
	return adv
}

// clusterWidth returns how many terminal columns a grapheme cluster takes
// when it starts at column col (0-based): tabs advance to the next tab stop,
// East Asian wide and full-width characters (most emoji among them) take two
// columns. Other control characters are shown as one replacement character.
func clusterWidth(cluster []byte, col int) int {
	r, _ := utf8.DecodeRune(cluster)
	if r == '\t' {
		return tabWidth - col%tabWidth
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func displayWidth(s []byte) int {
	col := 0
	for i := 0; i < len(s); {
		n := clusterLen(s[i:])
		col += clusterWidth(s[i:i+n], col)
		i += n
	}
	return col
}

func isControl(cluster []byte) bool {
	r, _ := utf8.DecodeRune(cluster)
	return r < ' ' || r == 0x7f
}
