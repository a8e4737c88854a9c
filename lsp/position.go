package lsp

import (
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/protocol"
)

// Positions. LSP counts a position as a zero-based line and a character
// offset in UTF-16 code units; HCL counts bytes (hcl.Pos.Byte), lines, and
// columns in grapheme clusters. The two agree only on ASCII, so every
// conversion goes through byte offsets: hcl.Pos.Byte is exact, and a line
// index over the text turns bytes into UTF-16 offsets and back. HCL's line
// and column numbers are never used for LSP.

// lineIndex maps between byte offsets into a text and LSP positions. Lines
// end at "\n", "\r\n" or "\r", as the LSP specification says.
type lineIndex struct {
	src    []byte
	starts []int // byte offset of the start of each line
}

func newLineIndex(src []byte) *lineIndex {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\n':
			starts = append(starts, i+1)
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{src: src, starts: starts}
}

// lineOf returns the zero-based line holding byte offset off.
func (x *lineIndex) lineOf(off int) int {
	return sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > off }) - 1
}

// lineEnd returns the byte offset of the end of line n, before its line break.
func (x *lineIndex) lineEnd(n int) int {
	end := len(x.src)
	if n+1 < len(x.starts) {
		end = x.starts[n+1]
	}
	for end > x.starts[n] && (x.src[end-1] == '\n' || x.src[end-1] == '\r') {
		end--
	}
	return end
}

// position converts a byte offset to an LSP position. An offset inside a
// multi-byte character counts as the character's start; one past the end of
// the text is the end of the last line.
func (x *lineIndex) position(off int) protocol.Position {
	off = min(max(off, 0), len(x.src))
	line := x.lineOf(off)
	start := x.starts[line]
	off = min(off, x.lineEnd(line))
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(x.src[start:runeStart(x.src, start, off)]))}
}

// offset converts an LSP position to a byte offset. As the specification
// asks, a character past the end of its line means the end of the line, and
// a line past the end of the text means the end of the text. A position in
// the middle of a surrogate pair counts as the character's start.
func (x *lineIndex) offset(p protocol.Position) int {
	if int(p.Line) >= len(x.starts) {
		return len(x.src)
	}
	start, end := x.starts[p.Line], x.lineEnd(int(p.Line))
	want := int(p.Character)
	units := 0
	for i := start; i < end; {
		r, size := utf8.DecodeRune(x.src[i:end])
		n := 1
		if r >= 0x10000 && size > 1 {
			n = 2
		}
		if units+n > want {
			return i
		}
		units += n
		i += size
	}
	return end
}

// rangeOf converts a byte range to an LSP range.
func (x *lineIndex) rangeOf(start, end int) protocol.Range {
	return protocol.Range{Start: x.position(start), End: x.position(end)}
}

// hclRange converts an HCL range in this text to an LSP range, by its bytes.
func (x *lineIndex) hclRange(r hcl.Range) protocol.Range {
	return x.rangeOf(r.Start.Byte, r.End.Byte)
}

// lineText returns the text of line n without its line break.
func (x *lineIndex) lineText(n int) []byte {
	if n < 0 || n >= len(x.starts) {
		return nil
	}
	return x.src[x.starts[n]:x.lineEnd(n)]
}

// runeStart moves off back to the start of the character it is in, not
// before lo.
func runeStart(src []byte, lo, off int) int {
	for off > lo && off < len(src) && !utf8.RuneStart(src[off]) {
		off--
	}
	return off
}

// utf16Len counts the UTF-16 code units of b. An invalid byte counts as one
// unit, as the U+FFFD an editor shows for it.
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x10000 && size > 1 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}
