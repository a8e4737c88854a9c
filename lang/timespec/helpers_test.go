package timespec

import (
	"errors"
	"testing"
)

// errorCase is an input that must be rejected with this message, pointing at
// s[start:end].
type errorCase struct {
	s          string
	start, end int
	msg        string
}

// checkError fails t unless err is an *Error for s matching want.
func checkError(t *testing.T, err error, want errorCase) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: got error %v (%T), want an *Error", want.s, err, err)
	}
	if e.Msg != want.msg {
		t.Errorf("%q: message\n got: %s\nwant: %s", want.s, e.Msg, want.msg)
	}
	if e.Start != want.start || e.End != want.end {
		t.Errorf("%q: error covers [%d,%d) %q, want [%d,%d) %q", want.s,
			e.Start, e.End, safeSlice(want.s, e.Start, e.End),
			want.start, want.end, safeSlice(want.s, want.start, want.end))
	}
}

// checkErrorShape fails t unless err is nil or an *Error whose offsets lie
// within s and cover at least one byte (none for an empty string).
func checkErrorShape(t *testing.T, s string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: got error %v (%T), want an *Error", s, err, err)
	}
	switch {
	case e.Start < 0 || e.End > len(s) || e.Start > e.End:
		t.Fatalf("%q: error offsets [%d,%d) out of range: %s", s, e.Start, e.End, e.Msg)
	case s != "" && e.Start == e.End:
		t.Fatalf("%q: error offsets [%d,%d) cover nothing: %s", s, e.Start, e.End, e.Msg)
	case e.Msg == "":
		t.Fatalf("%q: error without a message", s)
	}
}

func safeSlice(s string, start, end int) string {
	if 0 <= start && start <= end && end <= len(s) {
		return s[start:end]
	}
	return "<out of range>"
}
