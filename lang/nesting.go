package lang

import (
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// MaxNesting is how deep blocks, brackets, interpolations, strings inside
// them and runs of unary operators may nest in a file, a template or an
// expression. hclsyntax parses by recursion: some 70,000 parentheses in a
// 140 KB file overflow the goroutine stack, a fatal error no recover
// catches. Real journeys nest a handful of levels.
const MaxNesting = 128

// ParseConfig parses a workspace file as hclsyntax.ParseConfig does, after
// checking its nesting: a file nested deeper than MaxNesting is not parsed,
// an error at the place the limit is crossed says so, and the file is
// empty. A number literal out of range is an error too (see NumberInRange),
// and arithmetic checks its results the same way. Every parse of workspace source goes through these three
// functions.
func ParseConfig(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if d := checkNesting(src, filename, hcl.InitialPos, configMode); d != nil {
		return &hcl.File{Body: &hclsyntax.Body{}, Bytes: src}, hcl.Diagnostics{d}
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		diags = append(diags, boundNumbers(body)...)
	}
	return f, diags
}

// ParseTemplate is hclsyntax.ParseTemplate after the nesting check.
func ParseTemplate(src []byte, filename string, start hcl.Pos) (hclsyntax.Expression, hcl.Diagnostics) {
	if d := checkNesting(src, filename, start, templateMode); d != nil {
		return nullExpr(d), hcl.Diagnostics{d}
	}
	e, diags := hclsyntax.ParseTemplate(src, filename, start)
	return e, append(diags, boundNumbers(e)...)
}

// ParseExpression is hclsyntax.ParseExpression after the nesting check.
func ParseExpression(src []byte, filename string, start hcl.Pos) (hclsyntax.Expression, hcl.Diagnostics) {
	if d := checkNesting(src, filename, start, configMode); d != nil {
		return nullExpr(d), hcl.Diagnostics{d}
	}
	e, diags := hclsyntax.ParseExpression(src, filename, start)
	return e, append(diags, boundNumbers(e)...)
}

func nullExpr(d *hcl.Diagnostic) hclsyntax.Expression {
	return &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType), SrcRange: *d.Subject}
}

// What an open construct is, on the scanner's stack.
const (
	configMode   = iota // code: blocks, attributes, expressions
	templateMode        // a template file: text with ${...} and %{...}
	paren               // ( [ { and the body of ${ or %{
	quoted              // "..."
	heredoc             // <<EOF ... EOF
)

type open struct {
	kind       int
	marker     []byte // for heredoc: the line that ends it
	directives int    // for text: the %{ if } and %{ for } open in it
}

// scanner is the state of checkNesting.
type scanner struct {
	stack      []open
	directives int // open in every frame together
	unary      int // a run of ! and - in code: each is a level of recursion
}

func (s *scanner) depth() int { return len(s.stack) - 1 + s.directives + s.unary }

func (s *scanner) push(o open) bool {
	s.stack = append(s.stack, o)
	return s.depth() <= MaxNesting
}

func (s *scanner) pop() {
	s.directives -= s.stack[len(s.stack)-1].directives
	s.stack = s.stack[:len(s.stack)-1]
}

// checkNesting scans src the way the lexer would, without building
// anything, and returns an error at the first place where more than
// MaxNesting constructs are open, or nil. It knows comments, quoted
// strings, heredocs and interpolations well enough that brackets in text
// and comments do not count; it never reports a syntax error, the parser
// does that.
func checkNesting(src []byte, filename string, start hcl.Pos, mode int) *hcl.Diagnostic {
	s := &scanner{stack: []open{{kind: mode}}}
	pos := start
	i := 0
	advance := func(n int) {
		for end := i + n; i < end && i < len(src); {
			r, size := utf8.DecodeRune(src[i:])
			if r == '\n' {
				pos.Line++
				pos.Column = 1
			} else {
				pos.Column++
			}
			i += size
			pos.Byte += size
		}
	}
	atLineStart := true
	for i < len(src) {
		c := src[i]
		top := &s.stack[len(s.stack)-1]
		switch top.kind {
		case configMode, paren:
			switch {
			case c == '!' || c == '-':
				s.unary++
				if s.depth() > MaxNesting {
					return nestingError(filename, pos)
				}
				advance(1)
				continue
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
				advance(1)
				continue
			}
			s.unary = 0
			switch {
			case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
				for i < len(src) && src[i] != '\n' {
					advance(1)
				}
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				advance(2)
				for i < len(src) && !(src[i] == '*' && i+1 < len(src) && src[i+1] == '/') {
					advance(1)
				}
				advance(2)
			case c == '"':
				if !s.push(open{kind: quoted}) {
					return nestingError(filename, pos)
				}
				advance(1)
			case c == '<' && i+1 < len(src) && src[i+1] == '<':
				j := i + 2
				if j < len(src) && src[j] == '-' {
					j++
				}
				k := j
				for k < len(src) && (isIdentByte(src[k])) {
					k++
				}
				if k == j || k >= len(src) || src[k] != '\n' && src[k] != '\r' {
					advance(2)
					continue
				}
				if !s.push(open{kind: heredoc, marker: src[j:k]}) {
					return nestingError(filename, pos)
				}
				advance(k - i)
				atLineStart = false
			case c == '(' || c == '[' || c == '{':
				if !s.push(open{kind: paren}) {
					return nestingError(filename, pos)
				}
				advance(1)
			case c == ')' || c == ']' || c == '}':
				if top.kind == paren {
					s.pop()
				}
				advance(1)
			default:
				advance(1)
			}
		case quoted:
			switch {
			case c == '\\':
				advance(2)
			case c == '"' || c == '\n':
				s.pop()
				advance(1)
			default:
				n, ok := s.text(src, i)
				if !ok {
					return nestingError(filename, pos)
				}
				advance(n)
			}
		case heredoc, templateMode:
			if top.kind == heredoc && atLineStart && endsHeredoc(src[i:], top.marker) {
				n := len(top.marker) + leadingSpace(src[i:])
				s.pop()
				advance(n)
				atLineStart = false
				continue
			}
			atLineStart = c == '\n'
			n, ok := s.text(src, i)
			if !ok {
				return nestingError(filename, pos)
			}
			advance(n)
		}
	}
	return nil
}

// text handles one step of template text at src[i]: an escaped $${ or
// %%{, an interpolation or directive that opens, or a plain byte. It
// returns the bytes consumed and false when the limit is crossed. An
// %{ if } or %{ for } directive nests what follows it until its %{ end... }.
func (s *scanner) text(src []byte, i int) (int, bool) {
	c := src[i]
	if (c == '$' || c == '%') && i+1 < len(src) {
		switch {
		case src[i+1] == c && i+2 < len(src) && src[i+2] == '{':
			return 3, true
		case src[i+1] == '{':
			if c == '%' {
				top := &s.stack[len(s.stack)-1]
				switch directive(src[i+2:]) {
				case "if", "for":
					top.directives++
					s.directives++
				case "endif", "endfor":
					if top.directives > 0 {
						top.directives--
						s.directives--
					}
				}
			}
			return 2, s.push(open{kind: paren})
		}
	}
	return 1, true
}

// directive returns the keyword that starts a %{ directive's body.
func directive(b []byte) string {
	n := 0
	if n < len(b) && b[n] == '~' {
		n++
	}
	n += leadingSpace(b[n:])
	end := n
	for end < len(b) && b[end] >= 'a' && b[end] <= 'z' {
		end++
	}
	return string(b[n:end])
}

func endsHeredoc(line, marker []byte) bool {
	n := leadingSpace(line)
	rest := line[n:]
	if len(rest) < len(marker) || string(rest[:len(marker)]) != string(marker) {
		return false
	}
	after := rest[len(marker):]
	return len(after) == 0 || after[0] == '\n' || after[0] == '\r'
}

func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return n
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func nestingError(filename string, at hcl.Pos) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Nested too deep",
		Detail: fmt.Sprintf("Blocks, brackets, strings and interpolations are nested more than %d levels deep here; the file is not read further. Flatten the expression (a deep nesting is never needed).",
			MaxNesting),
		Subject: &hcl.Range{Filename: filename, Start: at, End: at},
	}
}
