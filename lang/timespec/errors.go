package timespec

import (
	"fmt"
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"
)

// Error is a problem inside a time string. Offsets are byte offsets into the string's
// content (not counting the quotes), so callers can point at the offending characters.
//
// End is greater than Start and at most the length of the string, except for an empty
// string, where both are zero.
type Error struct {
	Start, End int
	Msg        string
}

// Error returns the message alone: where it applies is in Start and End, which the
// caller turns into a position in its own terms (a file, line and column, say).
func (e *Error) Error() string { return e.Msg }

// errorf returns an Error covering s[sp.start:sp.end].
func errorf(sp span, format string, args ...any) *Error {
	return &Error{Start: sp.start, End: sp.end, Msg: fmt.Sprintf(format, args...)}
}

// span is a range of bytes [start, end) in the string being parsed.
type span struct{ start, end int }

// tokenSpan is the range a token covers.
func tokenSpan(t lexer.Token) span {
	return span{t.Pos.Offset, t.Pos.Offset + len(t.Value)}
}

// to returns the span from the start of sp to the end of other.
func (sp span) to(other span) span { return span{sp.start, other.end} }

// text is the part of s that sp covers.
func (sp span) text(s string) string { return s[sp.start:sp.end] }

// adjacent reports whether b starts right where a ends, with no space between them.
func adjacent(a, b span) bool { return a.end == b.start }

// quote quotes a piece of user input for a message, shortening it when it is long
// so that one bad string cannot make a message unreadable.
func quote(s string) string {
	const limit = 40 // runes
	if len(s) > limit {
		if r := []rune(s); len(r) > limit {
			return strconv.Quote(string(r[:limit-3])) + "..."
		}
	}
	return strconv.Quote(s)
}
