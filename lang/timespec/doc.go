// Package timespec reads and writes the time strings of the Waymark journey
// language: durations, daily and weekly windows, frequency caps and re-entry
// rules, all written as HCL strings in journey files.
//
//	after "2d" { ... }                     duration         ParseDuration
//	quiet_hours   = "21:00-08:00"          window           ParseWindow
//	send_window   = "Mon-Fri 09:00-18:00"  window           ParseWindow
//	frequency_cap = "3 per 7d"             frequency cap    ParseCap
//	reentry       = "after 30d"            re-entry rule    ParseReentry
//
// It also loads the IANA time zones that windows are read in (LoadZone), and
// answers the questions the runtime asks of a window: is this instant inside it
// (Window.Contains), and when does it next open or close (Window.NextStart,
// Window.NextEnd), on the customer's wall clock and correctly across changes of
// clocks.
//
// # How a string is read
//
// Each Parse function takes the content of one string literal and works in
// three steps:
//
//  1. A lexer shared by all the kinds splits the string into numbers, words,
//     punctuation and single stray characters, each with its byte offset.
//     Spaces separate tokens but are not tokens themselves. The lexer accepts
//     any input, so every problem is found later with a position.
//  2. A grammar for the kind, built with participle, arranges the tokens into
//     a small syntax tree. The grammars are deliberately loose: they take a
//     number without a unit, a time without its minutes or a range without its
//     "-", so that the next step can name the mistake instead of the parser
//     reporting an unexpected token. Only a token with no place at all stops
//     the parser, and that is reported as an unexpected token with advice on
//     how to write the kind of string.
//  3. A check walks the tree left to right, turning it into a value (a
//     time.Duration, a Window, a Cap, a Reentry) and rejecting what the
//     language does not allow: unknown units and days (with a suggestion),
//     units out of order, hours past 23, empty windows, zero or absurdly long
//     durations, and spacing the language does not allow.
//
// Every error is an *Error whose Start and End are byte offsets into the
// string's content, covering exactly the characters at fault, and whose
// message says what is wrong and what is expected, such as
//
//	unknown unit "y": use s, m, h, d or w (months and years vary in length: count days instead, as in "30d")
//
// The compiler adds the offsets to the position of the literal's content (just
// after its opening quote) to point into the file. The offsets are into the
// decoded string, so they are also offsets into the source when the literal has
// no escape sequences, which time strings never need.
//
// # Writing values back
//
// Each value has a String method, or for durations FormatDuration, that writes
// the canonical form its Parse function reads back to the same value, and a
// Describe method, or DescribeDuration, that says it in words for hovers,
// documentation and test reports ("Monday to Friday, 09:00 to 18:00", "at most
// 3 sends in any 7 days").
//
// Durations are fixed lengths: a day is 24 hours and a week 7 days, whatever
// the clocks do. Windows, by contrast, are read on the wall clock of the zone
// they are applied in.
package timespec
