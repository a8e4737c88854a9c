package lsp

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The outline is the block structure of a file read from its tokens alone:
// blocks with their types, labels and braces, attributes with the extent of
// their expressions, and the brackets inside those. Completion needs it
// because the text being typed is rarely valid: after a syntax error the
// parser may drop the very block the cursor is in, while a token scan still
// sees every brace. HCL's own lexer does the tokenising, so strings,
// templates, heredocs and comments are read as the parser reads them.

type oBlock struct {
	typ        string
	typeStart  int
	labels     []oLabel
	open       int // the byte offset of '{'; -1 for the file itself
	close      int // just past '}', or the end of the text when unclosed
	attrs      []*oAttr
	blocks     []*oBlock
	parent     *oBlock
	hasClose   bool // the closing brace is there
	singleLine bool // the braces are on one line
}

// oLabel is a block label; start and end include its quotes.
type oLabel struct {
	value      string
	start, end int
}

type oAttr struct {
	name               string
	nameStart, nameEnd int
	exprStart, exprEnd int
	nests              []*oNest
	block              *oBlock
}

// oNest is a bracketed part of an expression: an object, a tuple, or a
// parenthesised argument list.
type oNest struct {
	kind        hclsyntax.TokenType // TokenOBrace, TokenOBrack or TokenOParen
	open, close int
	parent      *oNest
}

// outlineOf reads the outline of part of a file that begins at its top
// level, at byte offset base; the outline's offsets are into the file.
func outlineOf(part []byte, base int) *oBlock {
	toks, _ := hclsyntax.LexConfig(part, "", hcl.Pos{Line: 1, Column: 1, Byte: base})
	end := base + len(part)
	o := &outliner{toks: toks, end: end}
	root := &oBlock{open: -1, close: end}
	o.body(root)
	return root
}

type outliner struct {
	toks hclsyntax.Tokens
	i    int
	end  int
}

func (o *outliner) peek() hclsyntax.Token {
	if o.i >= len(o.toks) {
		return hclsyntax.Token{Type: hclsyntax.TokenEOF, Range: hcl.Range{Start: hcl.Pos{Byte: o.end}, End: hcl.Pos{Byte: o.end}}}
	}
	return o.toks[o.i]
}

// endsLine tells whether a token ends a line: a newline, or a comment that
// runs to the end of the line and includes its line break.
func endsLine(t hclsyntax.Token) bool {
	if t.Type == hclsyntax.TokenNewline {
		return true
	}
	return t.Type == hclsyntax.TokenComment && len(t.Bytes) > 0 && t.Bytes[len(t.Bytes)-1] == '\n'
}

// body reads the items of a block until its closing brace.
func (o *outliner) body(b *oBlock) {
	for {
		t := o.peek()
		switch {
		case t.Type == hclsyntax.TokenEOF:
			b.close = o.end
			return
		case t.Type == hclsyntax.TokenCBrace:
			o.i++
			if b.open < 0 {
				continue // a stray brace at the top level
			}
			b.close = t.Range.End.Byte
			b.hasClose = true
			return
		case t.Type == hclsyntax.TokenIdent:
			o.item(b)
		case endsLine(t) || t.Type == hclsyntax.TokenComment:
			o.i++
		default:
			o.skipLine()
		}
	}
}

// item reads an attribute or a block.
func (o *outliner) item(b *oBlock) {
	name := o.peek()
	o.i++
	if o.peek().Type == hclsyntax.TokenEqual {
		o.i++
		a := &oAttr{name: string(name.Bytes), nameStart: name.Range.Start.Byte, nameEnd: name.Range.End.Byte, block: b}
		o.expr(a)
		b.attrs = append(b.attrs, a)
		return
	}
	child := &oBlock{typ: string(name.Bytes), typeStart: name.Range.Start.Byte, parent: b}
	for {
		t := o.peek()
		switch t.Type {
		case hclsyntax.TokenOQuote:
			l, ok := o.quoted()
			if !ok {
				o.skipLine()
				return
			}
			child.labels = append(child.labels, l)
			continue
		case hclsyntax.TokenIdent:
			child.labels = append(child.labels, oLabel{value: string(t.Bytes), start: t.Range.Start.Byte, end: t.Range.End.Byte})
			o.i++
			continue
		case hclsyntax.TokenOBrace:
			o.i++
			child.open = t.Range.Start.Byte
			line := t.Range.Start.Line
			o.body(child)
			child.singleLine = o.i > 0 && o.toks[o.i-1].Range.End.Line == line
			b.blocks = append(b.blocks, child)
			return
		}
		o.skipLine()
		return
	}
}

// quoted reads a quoted label.
func (o *outliner) quoted() (oLabel, bool) {
	open := o.peek()
	o.i++
	l := oLabel{start: open.Range.Start.Byte}
	for {
		t := o.peek()
		switch t.Type {
		case hclsyntax.TokenQuotedLit:
			l.value += string(t.Bytes)
			o.i++
		case hclsyntax.TokenCQuote:
			l.end = t.Range.End.Byte
			o.i++
			return l, true
		default:
			return l, false
		}
	}
}

// expr reads an attribute's expression: to the end of the line, unless a
// bracket or a template is open, or to the brace that closes a one-line block.
func (o *outliner) expr(a *oAttr) {
	a.exprStart = o.peek().Range.Start.Byte
	a.exprEnd = a.exprStart
	var nests []*oNest // open brackets
	var depth []hclsyntax.TokenType
	for {
		t := o.peek()
		switch {
		case t.Type == hclsyntax.TokenEOF:
			for _, n := range nests {
				n.close = o.end
			}
			a.exprEnd = o.end
			return
		case endsLine(t) && len(depth) == 0:
			return
		case t.Type == hclsyntax.TokenCBrace && len(depth) == 0:
			return // closes a one-line block
		case t.Type == hclsyntax.TokenOBrace || t.Type == hclsyntax.TokenOBrack || t.Type == hclsyntax.TokenOParen:
			n := &oNest{kind: t.Type, open: t.Range.Start.Byte, close: o.end}
			if len(nests) > 0 {
				n.parent = nests[len(nests)-1]
			}
			nests = append(nests, n)
			a.nests = append(a.nests, n)
			depth = append(depth, t.Type)
		case t.Type == hclsyntax.TokenTemplateInterp || t.Type == hclsyntax.TokenTemplateControl:
			depth = append(depth, t.Type)
		case t.Type == hclsyntax.TokenCBrace || t.Type == hclsyntax.TokenCBrack || t.Type == hclsyntax.TokenCParen || t.Type == hclsyntax.TokenTemplateSeqEnd:
			if len(depth) > 0 {
				top := depth[len(depth)-1]
				depth = depth[:len(depth)-1]
				if top != hclsyntax.TokenTemplateInterp && top != hclsyntax.TokenTemplateControl && len(nests) > 0 {
					nests[len(nests)-1].close = t.Range.End.Byte
					nests = nests[:len(nests)-1]
				}
			}
		}
		if !endsLine(t) {
			a.exprEnd = t.Range.End.Byte
		}
		o.i++
	}
}

func (o *outliner) skipLine() {
	for {
		t := o.peek()
		if t.Type == hclsyntax.TokenEOF {
			return
		}
		o.i++
		if endsLine(t) {
			return
		}
	}
}

// at returns the blocks around off, outermost first (the file itself is not
// one of them), and the attribute and innermost bracket whose expression off
// is in, if any.
func (root *oBlock) at(off int) (chain []*oBlock, attr *oAttr, nest *oNest) {
	b := root
descend:
	for {
		for _, c := range b.blocks {
			if c.open < off && (off < c.close || !c.hasClose && off <= c.close) {
				chain = append(chain, c)
				b = c
				continue descend
			}
		}
		break
	}
	for _, a := range b.attrs {
		if a.exprStart <= off && off <= a.exprEnd {
			attr = a
			for _, n := range a.nests {
				if n.open < off && off < n.close {
					nest = n // nests are in order of their opening, so the last match is innermost
				}
			}
		}
	}
	return chain, attr, nest
}
