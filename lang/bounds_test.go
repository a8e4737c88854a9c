package lang

import (
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Calls that would make far more than they are given fail fast, before the
// work; ordinary calls are unchanged.
func TestFunctionsAreBounded(t *testing.T) {
	fs := Functions(FuncHooks{})
	s16k := cty.StringVal(strings.Repeat("a", 16<<10))
	str := cty.StringVal
	num := cty.NumberIntVal
	tests := []struct {
		fn   string
		args []cty.Value
		want string // a substring of the error; "" for success
	}{
		// The reported case: 16 KB, each character replaced by 16 KB.
		{"replace", []cty.Value{s16k, str("a"), s16k}, "would make a string of 268435456 bytes"},
		{"replace", []cty.Value{s16k, str(""), s16k}, "would make a string"},
		{"regex_replace", []cty.Value{s16k, str("a"), str("$0$0$0")}, "would make a string"},
		{"regex_replace", []cty.Value{s16k, str("a"), s16k}, "would make a string"},
		{"indent", []cty.Value{num(1 << 30), str("a\nb")}, "would make a string"},
		{"format", []cty.Value{str("%999999999d"), num(1)}, "width or precision over"},
		{"format", []cty.Value{str("%.999999999f"), num(1)}, "width or precision over"},
		{"formatlist", []cty.Value{str("%99999999s"), cty.ListVal([]cty.Value{str("a")})}, "width or precision over"},
		{"range", []cty.Value{num(1e9)}, "more than 100000 numbers"},
		{"range", []cty.Value{num(0), num(1e9), num(2)}, "more than 100000 numbers"},
		{"join", []cty.Value{str(""), cty.ListVal(repeat(s16k, 1<<10))}, "would make a string"},
		{"join", []cty.Value{s16k, cty.ListVal(repeat(str("a"), 100))}, "would make a string"},
		{"join", []cty.Value{str(","), cty.ListVal(repeat(str("ab"), 100)), cty.ListVal(repeat(str("c"), 3))}, ""},
		{"upper", []cty.Value{s16k}, ""},
		{"replace", []cty.Value{str(strings.Repeat("a", MaxValueBytes+1)), str("b"), str("c")}, "over 1 MiB, the limit of a value"},
		{"replace", []cty.Value{s16k, str("a"), str("bb")}, ""},
		{"regex_replace", []cty.Value{str("Hello NAME"), str("N(A)ME"), str("$1")}, ""},
		{"format", []cty.Value{str("%05.2f%% %-10s|%[1]v"), num(3), str("x")}, ""},
		{"indent", []cty.Value{num(2), str("a\nb")}, ""},
		{"range", []cty.Value{num(3)}, ""},
		// Tuples a function makes: joined, each would cost a conversion
		// quadratic in its length (minutes at 500,000).
		{"jsondecode", []cty.Value{str("[" + strings.Repeat("1,", MaxTupleElements) + "1]")}, "the limit of a list made by a function"},
		{"jsondecode", []cty.Value{str(`{"a": [` + strings.Repeat(`"x",`, MaxTupleElements) + `"x"]}`)}, "the limit of a list made by a function"},
		{"jsondecode", []cty.Value{str(`{"a": [1, 2, 3]}`)}, ""},
		{"flatten", []cty.Value{cty.TupleVal(repeat(cty.TupleVal(repeat(num(1), 100)), 100))}, "the limit of a list made by a function"},
		{"flatten", []cty.Value{cty.TupleVal(repeat(cty.TupleVal(repeat(num(1), 10)), 10))}, ""},
		{"concat", []cty.Value{cty.TupleVal(repeat(num(1), 3000)), cty.TupleVal(repeat(num(1), 3000))}, "the limit of a list made by a function"},
		{"concat", []cty.Value{cty.TupleVal(repeat(num(1), 3)), cty.TupleVal(repeat(str("a"), 3))}, ""},
	}
	for _, tt := range tests {
		start := time.Now()
		v, err := fs[tt.fn].Call(tt.args)
		took := time.Since(start)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.fn, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v (%d bytes), want an error with %q", tt.fn, err, len(v.GoString()), tt.want)
		}
		// Before the bounds, the replace case took over a second here
		// (5.4 s of an event's handling as reported). Generous for a
		// loaded machine.
		if took > 500*time.Millisecond {
			t.Errorf("%s took %v", tt.fn, took)
		}
	}
	if v, _ := fs["regex_replace"].Call([]cty.Value{str("Hello NAME"), str("N(A)ME"), str("$1")}); v.AsString() != "Hello A" {
		t.Errorf("regex_replace gave %q", v.AsString())
	}
}

func repeat(v cty.Value, n int) []cty.Value {
	vs := make([]cty.Value, n)
	for i := range vs {
		vs[i] = v
	}
	return vs
}
