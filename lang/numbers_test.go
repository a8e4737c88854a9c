package lang

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// A number too large or too small to write as text in bounded time
// (1e300000000: 300 million digits, minutes of CPU) is refused wherever it
// could be made: a literal, arithmetic, and the functions that make or
// convert numbers. Numbers in range are unchanged.
func TestNumbersAreBounded(t *testing.T) {
	fs := Functions(FuncHooks{})
	ctx := &hcl.EvalContext{
		Functions: fs,
		Variables: map[string]cty.Value{"big": cty.StringVal("1e300000000")},
	}
	tests := []struct {
		expr string
		want string // "" for success, else a substring of the diagnostics
	}{
		{`1e300000000`, "Number out of range"},
		{`"${1e-300000000}"`, "Number out of range"},
		{`1e1000 * 1e1000 * 1e1000 * 1e1000 * 1e1000`, "number's size must be under"},
		{`big + 0`, "number's size must be under"},
		{`tonumber(big)`, "number's size must be under"},
		{`jsondecode("{\"a\": [1e300000000]}")`, "number's size must be under"},
		{`parseint(join("", [for i in range(1000) : "1234567890"]), 10)`, "number's size must be under"},
		{`format("%f", big)`, "number's size must be under"},
		{`formatlist("%d", [big])`, "number's size must be under"},
		{`1e1000 * 1e200`, ""},
		{`"${1e300 * 1e300} ${0.000001} ${12345678901234567890}"`, ""},
		{`pow(10, 1e9)`, ""}, // float64: an infinity, written "+Inf"
		{`format("%.2f", "12.5")`, ""},
		{`ceil(2.5) + floor(-2.5) + abs(-1) + max(1, 2)`, ""},
	}
	for _, tt := range tests {
		start := time.Now()
		e, diags := ParseExpression([]byte(tt.expr), "t.hcl", hcl.InitialPos)
		if !diags.HasErrors() {
			var v cty.Value
			v, diags = e.Value(ctx)
			if !diags.HasErrors() && v.IsKnown() && !v.IsNull() {
				if v.Type() == cty.Number {
					_, err := convert.Convert(v, cty.String)
					if err != nil {
						t.Errorf("%s: %v", tt.expr, err)
					}
				}
			}
		}
		switch {
		case tt.want == "" && diags.HasErrors():
			t.Errorf("%s: %v", tt.expr, diags)
		case tt.want != "" && !strings.Contains(diags.Error(), tt.want):
			t.Errorf("%s: got %v, want an error with %q", tt.expr, diags, tt.want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s took %v", tt.expr, took)
		}
	}
	if !errors.Is(checkNumbers(cty.NumberFloatVal(1e308)), nil) {
		t.Error("1e308 is in range")
	}
}
