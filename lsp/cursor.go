package lsp

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/lang"
)

// cursor is what completion needs to know about a position: the blocks
// around it and what is being typed there. It is found from two things that
// survive a half-typed line: the outline of the file with the cursor's line
// blanked out (so an unclosed quote on it cannot turn the rest of the file
// inside out), and the tokens of the cursor's line up to the cursor.
type cursor struct {
	kind   cursorKind
	frames []frame // the blocks around the cursor, outermost first

	start int    // where the text being completed begins (a byte offset)
	typed string // that text, up to the cursor

	attr   string // ctxValue, ctxString, ctxTraversal, ctxKey: the attribute whose value it is
	root   string // ctxTraversal: the name before the dot
	block  string // ctxLabel: the block type whose label is typed
	label  int    // ctxLabel: which label
	closed bool   // ctxLabel, ctxString: the closing quote is already there
}

type cursorKind int

const (
	ctxNone      cursorKind = iota
	ctxBody                 // at the start of a line in a block body: attribute and block names
	ctxLabel                // inside a block label's quotes
	ctxValue                // in an expression, on an identifier or nothing
	ctxTraversal            // after NAME. in an expression
	ctxString               // inside a string literal in an expression
	ctxKey                  // at an object key, in an attribute's object value
)

// frame is one block around the cursor and its schema (nil when the block
// is not one the language knows).
type frame struct {
	typ    string
	labels []string
	schema *lang.BlockSchema
	block  *oBlock // nil for a block opened on the cursor's own line
}

// inner returns the innermost frame, or a frame for the file itself.
func (c *cursor) inner(root *lang.BlockSchema) frame {
	if len(c.frames) == 0 {
		return frame{schema: root}
	}
	return c.frames[len(c.frames)-1]
}

// find returns the innermost frame of one of the given types.
func (c *cursor) find(types ...string) *frame {
	for i := len(c.frames) - 1; i >= 0; i-- {
		for _, t := range types {
			if c.frames[i].typ == t {
				return &c.frames[i]
			}
		}
	}
	return nil
}

// rootSchema is the schema of a file's top level.
func rootSchema(kind lang.FileKind) *lang.BlockSchema {
	if kind == lang.TestFile {
		return lang.TestSchema
	}
	return lang.Schema
}

// cursorAt finds the completion context at byte offset off of src.
//
// It reads only the top-level block around the cursor: lexing a whole file
// of thousands of lines on every keystroke would cost more than the rest of
// completion together. A formatted file starts each top-level block at the
// start of a line with the block's type, so that is where the region begins
// and ends. When the region does not start at the top level after all (an
// unformatted file with a nested block at the start of a line), the whole
// file is read instead.
func cursorAt(src []byte, lines *lineIndex, kind lang.FileKind, off int) *cursor {
	off = min(max(off, 0), len(src))
	line := lines.lineOf(off)
	lineStart, lineEnd := lines.starts[line], lines.lineEnd(line)
	start, end := topLevelRegion(src, lines, kind, line)
	c := cursorIn(src, start, end, lineStart, lineEnd, kind, off)
	if (start > 0 || end < len(src)) && len(c.frames) > 0 && c.frames[0].schema == nil {
		c = cursorIn(src, 0, len(src), lineStart, lineEnd, kind, off)
	}
	return c
}

// topLevelRegion returns the byte range from the start of the line that
// begins the top-level block holding line (or the start of the file) to the
// start of the line that begins the next one (or the end of the file).
func topLevelRegion(src []byte, lines *lineIndex, kind lang.FileKind, line int) (start, end int) {
	root := rootSchema(kind)
	starts := func(n int) bool {
		text := lines.lineText(n)
		i := 0
		for i < len(text) && (text[i] == '_' || text[i] == '-' || 'a' <= text[i] && text[i] <= 'z' || 'A' <= text[i] && text[i] <= 'Z' || i > 0 && '0' <= text[i] && text[i] <= '9') {
			i++
		}
		return i > 0 && root.Block(string(text[:i])) != nil
	}
	first, last := 0, len(lines.starts)
	for n := line - 1; n >= 0; n-- {
		if starts(n) {
			first = n
			break
		}
	}
	for n := line + 1; n < len(lines.starts); n++ {
		if starts(n) {
			last = n
			break
		}
	}
	end = len(src)
	if last < len(lines.starts) {
		end = lines.starts[last]
	}
	return lines.starts[first], end
}

// cursorIn finds the context from the outline of src[start:end], with the
// cursor's line blanked out.
func cursorIn(src []byte, start, end, lineStart, lineEnd int, kind lang.FileKind, off int) *cursor {
	blank := bytes.Clone(src[start:end])
	for i := lineStart; i < lineEnd; i++ {
		blank[i-start] = ' '
	}
	chain, attr, _ := outlineOf(blank, start).at(off)

	c := &cursor{start: off}
	schema := rootSchema(kind)
	for _, b := range chain {
		c.push(b.typ, labelValues(b.labels), b, &schema)
	}
	// The rest of the line after the cursor, for a closing quote.
	rest := src[off:lineEnd]

	if attr != nil {
		// In an expression that began on an earlier line: read it from its
		// start, with its brackets.
		c.attr = attr.name
		c.expression(lex(src[attr.exprStart:off], attr.exprStart), off, rest)
		return c
	}
	c.bodyLine(lex(src[lineStart:off], lineStart), off, rest, schema)
	return c
}

// push adds a frame, finding its schema from the schema around it.
func (c *cursor) push(typ string, labels []string, b *oBlock, schema **lang.BlockSchema) {
	var s *lang.BlockSchema
	if *schema != nil {
		s = (*schema).Block(typ)
	}
	c.frames = append(c.frames, frame{typ: typ, labels: labels, schema: s, block: b})
	*schema = s
}

func labelValues(ls []oLabel) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.value
	}
	return out
}

// lex tokenises part of a file that starts at byte offset base, dropping the
// end-of-file token and moving ranges to file offsets.
func lex(src []byte, base int) []hclsyntax.Token {
	toks, _ := hclsyntax.LexConfig(src, "", hcl.Pos{Line: 1, Column: 1, Byte: base})
	if n := len(toks); n > 0 && toks[n-1].Type == hclsyntax.TokenEOF {
		toks = toks[:n-1]
	}
	return toks
}

// bodyLine reads a line of a block body up to the cursor.
func (c *cursor) bodyLine(toks []hclsyntax.Token, off int, rest []byte, schema *lang.BlockSchema) {
	if len(toks) == 0 {
		c.kind = ctxBody
		return
	}
	first := toks[0]
	if first.Type != hclsyntax.TokenIdent {
		return
	}
	if len(toks) == 1 {
		if first.Range.End.Byte == off {
			c.kind, c.start, c.typed = ctxBody, first.Range.Start.Byte, string(first.Bytes)
		}
		return
	}
	if toks[1].Type == hclsyntax.TokenEqual {
		c.attr = string(first.Bytes)
		c.expression(toks[2:], off, rest)
		return
	}
	// A block header: labels, then perhaps a brace and more on the same line.
	var labels []string
	for i := 1; i < len(toks); {
		t := toks[i]
		switch t.Type {
		case hclsyntax.TokenOQuote:
			value, end, ok := quotedAt(toks, i)
			if !ok {
				// The cursor is in this label.
				c.kind, c.block, c.label = ctxLabel, string(first.Bytes), len(labels)
				c.start, c.typed = t.Range.End.Byte, value
				c.closed = bytes.HasPrefix(bytes.TrimLeft(rest, identChars), []byte(`"`))
				return
			}
			labels = append(labels, value)
			i = end
		case hclsyntax.TokenIdent:
			labels = append(labels, string(t.Bytes))
			i++
		case hclsyntax.TokenOBrace:
			c.push(string(first.Bytes), labels, nil, &schema)
			c.bodyLine(toks[i+1:], off, rest, schema)
			return
		default:
			return
		}
	}
}

// identChars are the bytes an identifier or a name in a label may hold, for
// finding the end of the word after the cursor.
const identChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

// quotedAt reads the quoted string that opens at toks[i]. ok is false when
// it is not closed before the cursor.
func quotedAt(toks []hclsyntax.Token, i int) (value string, next int, ok bool) {
	for j := i + 1; j < len(toks); j++ {
		switch toks[j].Type {
		case hclsyntax.TokenQuotedLit:
			value += string(toks[j].Bytes)
		case hclsyntax.TokenCQuote:
			return value, j + 1, true
		default:
			return value, j, false
		}
	}
	return value, len(toks), false
}

// expression reads an attribute's value up to the cursor: whether the cursor
// is in a string, at an object key, after a dot, or on a name.
func (c *cursor) expression(toks []hclsyntax.Token, off int, rest []byte) {
	// A stack of what is open: brackets, strings and template interpolations.
	type open struct {
		typ hclsyntax.TokenType
		at  int // index of the opening token
	}
	var stack []open
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl, hclsyntax.TokenOHeredoc:
			stack = append(stack, open{t.Type, i})
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCHeredoc:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if n := len(stack); n > 0 && (stack[n-1].typ == hclsyntax.TokenOQuote || stack[n-1].typ == hclsyntax.TokenOHeredoc) {
		// In the literal text of a string.
		c.kind = ctxString
		c.start = toks[stack[n-1].at].Range.End.Byte
		for _, t := range toks[stack[n-1].at+1:] {
			c.typed += string(t.Bytes)
		}
		c.closed = bytes.HasPrefix(bytes.TrimLeft(rest, identChars), []byte(`"`))
		return
	}

	n := len(toks)
	touching := n > 0 && toks[n-1].Range.End.Byte == off
	switch {
	case n >= 2 && touching && toks[n-1].Type == hclsyntax.TokenIdent && toks[n-2].Type == hclsyntax.TokenDot:
		if n >= 3 && toks[n-3].Type == hclsyntax.TokenIdent && (n < 4 || toks[n-4].Type != hclsyntax.TokenDot) {
			c.kind, c.root = ctxTraversal, string(toks[n-3].Bytes)
			c.start, c.typed = toks[n-1].Range.Start.Byte, string(toks[n-1].Bytes)
		}
		return
	case n >= 2 && touching && toks[n-1].Type == hclsyntax.TokenDot:
		if toks[n-2].Type == hclsyntax.TokenIdent && (n < 3 || toks[n-3].Type != hclsyntax.TokenDot) {
			c.kind, c.root, c.start = ctxTraversal, string(toks[n-2].Bytes), off
		}
		return
	}
	c.kind = ctxValue
	last := n - 1
	if touching && toks[last].Type == hclsyntax.TokenIdent {
		c.start, c.typed = toks[last].Range.Start.Byte, string(toks[last].Bytes)
		last--
	} else if touching && toks[last].Type != hclsyntax.TokenEqual && toks[last].Type != hclsyntax.TokenComma && !isOpener(toks[last].Type) && !isOperator(toks[last].Type) {
		c.kind = ctxNone // right after a number, a closing bracket...
		return
	}
	// An object key: the name follows the object's brace or a comma, in the
	// attribute's own object (not one nested deeper).
	if len(stack) == 1 && stack[0].typ == hclsyntax.TokenOBrace && stack[0].at == 0 {
		if last < 0 || toks[last].Type == hclsyntax.TokenOBrace || toks[last].Type == hclsyntax.TokenComma || endsLine(toks[last]) {
			c.kind = ctxKey
		}
	}
}

func isOpener(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenNewline:
		return true
	}
	return false
}

func isOperator(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
		hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
		hclsyntax.TokenBang, hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
		hclsyntax.TokenPercent, hclsyntax.TokenQuestion, hclsyntax.TokenColon:
		return true
	}
	return false
}
