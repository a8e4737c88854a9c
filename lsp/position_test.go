package lsp

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"
)

func TestPositionUTF16(t *testing.T) {
	// Line 1: ASCII. Line 2: Chinese (3 bytes, 1 unit each). Line 3: an
	// emoji outside the BMP (4 bytes, 2 units), an emoji with a skin tone (2
	// code points, 4 units, 1 grapheme), then ASCII. CRLF and a lone CR end
	// lines too.
	src := "ab\n你好x\r\n👋👋🏽y\rz"
	x := newLineIndex([]byte(src))
	cases := []struct {
		off  int
		line uint32
		char uint32
	}{
		{0, 0, 0}, {2, 0, 2}, // end of line 1, before "\n"
		{3, 1, 0}, {6, 1, 1}, {9, 1, 2}, {10, 1, 3},
		{12, 2, 0}, {16, 2, 2}, {24, 2, 6}, {25, 2, 7},
		{26, 3, 0}, {27, 3, 1},
	}
	for _, c := range cases {
		got := x.position(c.off)
		if got.Line != c.line || got.Character != c.char {
			t.Errorf("position(%d) = %d:%d, want %d:%d", c.off, got.Line, got.Character, c.line, c.char)
		}
		if back := x.offset(got); back != c.off {
			t.Errorf("offset(%d:%d) = %d, want %d", c.line, c.char, back, c.off)
		}
	}
}

func TestPositionClamps(t *testing.T) {
	src := "ab\n👋c\n"
	x := newLineIndex([]byte(src))
	for _, c := range []struct {
		pos  protocol.Position
		want int
	}{
		{protocol.Position{Line: 0, Character: 99}, 2}, // past the end of the line: its end
		{protocol.Position{Line: 1, Character: 1}, 3},  // inside a surrogate pair: the character's start
		{protocol.Position{Line: 1, Character: 2}, 7},  // after the emoji
		{protocol.Position{Line: 2, Character: 5}, 9},  // the empty last line
		{protocol.Position{Line: 9, Character: 0}, 9},  // past the last line: the end
	} {
		if got := x.offset(c.pos); got != c.want {
			t.Errorf("offset(%d:%d) = %d, want %d", c.pos.Line, c.pos.Character, got, c.want)
		}
	}
	// An offset inside a multi-byte character counts as its start.
	if got := x.position(5); got.Line != 1 || got.Character != 0 {
		t.Errorf("position(5) = %d:%d, want 1:0", got.Line, got.Character)
	}
	// An invalid byte counts as one unit, as the U+FFFD an editor shows.
	bad := newLineIndex([]byte("a\xffb"))
	if got := bad.position(2); got.Character != 2 {
		t.Errorf("after an invalid byte: %d, want 2", got.Character)
	}
}

// Every token HCL's parser reports in a file full of multi-byte text maps to
// the same text through its LSP range, counted independently with
// unicode/utf16.
func TestHCLRangesMapToTheirText(t *testing.T) {
	src := []byte("journey \"手机激活\" {\n  description = \"引导 📱✨ 👋🏽\" # 注释 🎉\n  stage \"检查\" { goto = stage.检查 }\n}\n")
	toks, diags := hclsyntax.LexConfig(src, "f", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	x := newLineIndex(src)
	lines := strings.Split(string(src), "\n")
	for _, tok := range toks {
		r := x.hclRange(tok.Range)
		if r.Start.Line != r.End.Line {
			continue // a newline token
		}
		line := utf16.Encode([]rune(lines[r.Start.Line]))
		got := string(utf16.Decode(line[r.Start.Character:r.End.Character]))
		if got != string(tok.Bytes) {
			t.Errorf("token %q maps to %q at %d:%d-%d", tok.Bytes, got, r.Start.Line, r.Start.Character, r.End.Character)
		}
	}
}
