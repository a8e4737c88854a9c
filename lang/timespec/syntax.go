package timespec

import (
	"errors"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// tokens is the lexer shared by every kind of time string. It never fails: a
// character that starts no other token becomes a one-character Other token, so
// every mistake reaches the parser, or the checks after it, with a position.
// Spaces never become tokens (a rule whose name is lower case is dropped by the
// lexer); where spacing matters, the checks compare the offsets of neighbouring
// tokens.
var tokens = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "space", Pattern: ` +`},
	{Name: "Number", Pattern: `[0-9]+(?:\.[0-9]+)?`},
	{Name: "Word", Pattern: `\p{L}+`},
	{Name: "Punct", Pattern: `[-+,:]`},
	{Name: "Other", Pattern: `(?s:.)`},
})

// The grammars below are deliberately loose: they accept pieces in the wrong
// form (a number without a unit, a time without minutes, a missing "-") so that
// the checks that turn syntax into values can say precisely what is wrong. The
// parser itself only rejects tokens that fit nowhere.
//
// Leaves are captured as lexer.Token, which keeps each token's byte offset for
// the messages. A group may open in one field's tag and close in a later one's:
// participle reads a struct's tags as one grammar.

// durationNode is a duration as written: parts such as "1w", "2d" and "3h".
type durationNode struct {
	Parts []*partNode `parser:"@@+"`
}

// partNode is one part of a duration. Besides a number and a unit it takes a
// sign, a bare number or a bare unit, all of which the checks reject.
type partNode struct {
	Sign   *lexer.Token `parser:"@('-' | '+')?"`
	Number *lexer.Token `parser:"( @Number"`
	Unit   *lexer.Token `parser:"  @Word? | @Word )"`
}

// windowNode is a daily or weekly window: optional days, then "HH:MM-HH:MM".
type windowNode struct {
	Days []*dayRangeNode `parser:"( @@ ( ',' @@ )* )?"`
	From *clockNode      `parser:"@@?"`
	Dash *lexer.Token    `parser:"@'-'?"`
	To   *clockNode      `parser:"@@?"`
}

// dayRangeNode is one day ("Sat") or a range of days ("Mon-Fri").
type dayRangeNode struct {
	First lexer.Token  `parser:"@Word"`
	Dash  *lexer.Token `parser:"( @'-'"`
	Last  *lexer.Token `parser:"  @Word? )?"`
}

// clockNode is a time of day, "HH:MM".
type clockNode struct {
	Hour   lexer.Token  `parser:"@Number"`
	Colon  *lexer.Token `parser:"( @':'"`
	Minute *lexer.Token `parser:"  @Number? )?"`
}

// capNode is a frequency cap, "N per DURATION".
type capNode struct {
	Count   *lexer.Token  `parser:"@Number?"`
	Keyword *lexer.Token  `parser:"@Word?"`
	Period  *durationNode `parser:"@@?"`
}

// reentryNode is a re-entry rule: "never", "always" or "after DURATION".
type reentryNode struct {
	Keyword *lexer.Token  `parser:"@Word?"`
	Period  *durationNode `parser:"@@?"`
}

var (
	durationParser = build[durationNode]()
	windowParser   = build[windowNode]()
	capParser      = build[capNode]()
	reentryParser  = build[reentryNode]()
)

func build[G any]() *participle.Parser[G] {
	return participle.MustBuild[G](participle.Lexer(tokens))
}

// kind describes one kind of time string for the messages that are the same
// for every kind.
type kind struct {
	noun    string // "duration"
	example string // how to write one, completing "write ..."
	// hint, if set, returns advice for a token the grammar has no place for,
	// or "" to give the example instead.
	hint func(token string) string
}

var (
	durationKind = kind{noun: "duration", example: `a duration like "2d" or "1w 2d 3h"`}
	windowKind   = kind{noun: "window", example: `a window like "21:00-08:00" or "Mon-Fri 09:00-18:00"`, hint: windowHint}
	capKind      = kind{noun: "frequency cap", example: `a cap like "3 per 7d"`}
	reentryKind  = kind{noun: "re-entry rule", example: `"never", "always" or "after 30d"`}
)

// windowHint explains the tokens people most often put in a window by mistake.
func windowHint(token string) string {
	switch strings.ToLower(token) {
	case "am", "pm":
		return `use the 24-hour clock, as in "09:00-17:00"`
	}
	return ""
}

// maxLength is the length of the longest time string. Real ones are a few
// dozen bytes; the limit keeps the work on absurd ones small.
const maxLength = 256

// parse runs the grammar p over s. Problems the grammar cannot express (an
// empty string, spaces around it) and tokens the grammar has no place for
// become Errors; everything else is left to the caller's checks.
func parse[G any](p *participle.Parser[G], s string, k kind) (*G, *Error) {
	switch {
	case s == "":
		return nil, &Error{Msg: "empty " + k.noun + ": write " + k.example}
	case len(s) > maxLength:
		return nil, errorf(span{0, len(s)}, "too long for a %s (%d bytes, at most %d): write %s",
			k.noun, len(s), maxLength, k.example)
	}
	if n := len(s) - len(strings.TrimLeft(s, " ")); n > 0 {
		return nil, errorf(span{0, n}, "space at the start of the %s: remove it", k.noun)
	}
	if n := len(s) - len(strings.TrimRight(s, " ")); n > 0 {
		return nil, errorf(span{len(s) - n, len(s)}, "space at the end of the %s: remove it", k.noun)
	}
	node, err := p.ParseString("", s)
	if err != nil {
		return nil, syntaxError(p, s, err, k)
	}
	return node, nil
}

// syntaxError turns an error from participle, which names the token it could
// not place, into an Error that covers that token and says how to write k.
func syntaxError[G any](p *participle.Parser[G], s string, err error, k kind) *Error {
	whole := span{0, len(s)}
	var perr participle.Error
	if !errors.As(err, &perr) {
		return errorf(whole, "invalid %s: write %s", k.noun, k.example)
	}
	offset := perr.Position().Offset
	toks, lexErr := p.Lex("", strings.NewReader(s))
	if lexErr != nil {
		return errorf(whole, "invalid %s: write %s", k.noun, k.example)
	}
	// The parser reports where it stopped; find the token there, or, when it ran
	// out of input, the last token it saw.
	var last *lexer.Token
	for i := range toks {
		t := &toks[i]
		if t.EOF() {
			break
		}
		if t.Pos.Offset >= offset {
			if k.hint != nil {
				if hint := k.hint(t.Value); hint != "" {
					return errorf(tokenSpan(*t), "unexpected %s: %s", quote(t.Value), hint)
				}
			}
			return errorf(tokenSpan(*t), "unexpected %s: write %s", quote(t.Value), k.example)
		}
		last = t
	}
	if last == nil {
		return errorf(whole, "invalid %s: write %s", k.noun, k.example)
	}
	return errorf(tokenSpan(*last), "unexpected end after %s: write %s", quote(last.Value), k.example)
}
