package lang

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// A for expression nested in another's value, key or condition is refused
// at the parse, at the inner one; one over more than MaxForElements
// elements fails when it runs, before iterating. Ordinary ones work.
func TestForExpressionsAreBounded(t *testing.T) {
	items := make([]cty.Value, MaxForElements+1)
	for i := range items {
		items[i] = cty.StringVal("x")
	}
	ctx := &hcl.EvalContext{
		Functions: Functions(FuncHooks{}),
		Variables: map[string]cty.Value{
			"entry": cty.ObjectVal(map[string]cty.Value{"s": cty.StringVal("x")}),
			"event": cty.ObjectVal(map[string]cty.Value{
				"many": cty.TupleVal(items), "fits": cty.TupleVal(items[:MaxForElements]),
				"orders": cty.TupleVal([]cty.Value{
					cty.ObjectVal(map[string]cty.Value{"items": cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})}),
					cty.ObjectVal(map[string]cty.Value{"items": cty.TupleVal([]cty.Value{cty.StringVal("c")})}),
				}),
				"map": cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)}),
			}),
		},
	}
	tests := []struct {
		name, src string
		template  bool
		parseErr  string // the inner for's start, line:col, when refused at the parse
		want      string // the value, or the substring of the error when it runs
	}{
		{"nested in value", `join("", flatten([for i in range(1024) : [for j in range(1024) : entry.s]]))`, false, "1,42", ""},
		{"nested in key", `{for i in range(3) : join("", [for j in range(3) : "k"]) => i}`, false, "1,31", ""},
		{"nested in condition", "[for i in range(3) : i\n  if length([for j in range(3) : j]) > 0]", false, "2,13", ""},
		{"nested directive", "%{ for i in range(3) }\n%{ for j in range(3) }x%{ endfor }%{ endfor }", true, "2,1", ""},
		{"directive in for", `[for i in range(3) : "%{ for j in range(3) }x%{ endfor }"]`, false, "1,23", ""},
		{"over the limit", `join("", [for s in event.many : s])`, false, "", "at most 1024 elements and this collection has 1025"},
		{"directive over the limit", `%{ for s in event.many }${s}%{ endfor }`, true, "", "this collection has 1025"},
		{"at the limit", `length([for s in event.fits : s])`, false, "", "1024"},
		{"range", `join(",", [for i in range(3) : i * 2])`, false, "", "0,2,4"},
		{"map with condition", `jsonencode({for k, v in event.map : k => v if v > 1})`, false, "", `{"b":2}`},
		{"for in a for's collection", `join("", [for s in [for i in range(3) : "a"] : s])`, false, "", "aaa"},
		{"flatten in the collection", `join(",", [for it in flatten([for o in event.orders : o.items]) : it])`, false, "", "a,b,c"},
		{"two in a row", `"%{ for i in range(2) }a%{ endfor }%{ for i in range(2) }b%{ endfor }"`, false, "", "aabb"},
		{"list literal over the limit", "length(\n[" + strings.Repeat("1,", MaxTupleElements) + "1])", false, "2,1", ""},
		{"list literal at the limit", "length([" + strings.Repeat("1,", MaxTupleElements-1) + "1])", false, "", "4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := ParseExpression
			if tc.template {
				parse = ParseTemplate
			}
			e, diags := parse([]byte(tc.src), "j.hcl", hcl.InitialPos)
			if tc.parseErr != "" {
				want := "Nested for expressions"
				if strings.Contains(tc.name, "list literal") {
					want = "List too long"
				}
				if len(diags) != 1 || diags[0].Summary != want {
					t.Fatalf("want one %s error, got %v", want, diags)
				}
				if at := fmt.Sprintf("%d,%d", diags[0].Subject.Start.Line, diags[0].Subject.Start.Column); at != tc.parseErr {
					t.Fatalf("error at %s, want %s", at, tc.parseErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			start := time.Now()
			v, diags := e.Value(ctx)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			got := diags.Error()
			if !diags.HasErrors() {
				if v.Type() == cty.Number {
					got = v.AsBigFloat().String()
				} else {
					got = v.AsString()
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("got %.200q, want %q in it", got, tc.want)
			}
		})
	}
}

// The red team's expression, in a workspace file: without the bounds it
// ran for minutes; now it is refused at the parse, and a single for over
// the most range() makes, joined, stays fast.
func TestForExpressionsDoNotHang(t *testing.T) {
	src := `x = join("", flatten([for i in range(1024) : [for j in range(1024) : entry.s]]))` + "\n" +
		`y = join("", [for i in range(1024) : entry.s])` + "\n"
	start := time.Now()
	f, diags := ParseConfig([]byte(src), "j.journey.hcl")
	if !strings.Contains(diags.Error(), "j.journey.hcl:1,46-") || !strings.Contains(diags.Error(), "Nested for expressions") {
		t.Fatalf("want a Nested for expressions error at 1,46, got %v", diags)
	}
	attrs, _ := f.Body.JustAttributes()
	ctx := &hcl.EvalContext{
		Functions: Functions(FuncHooks{}),
		Variables: map[string]cty.Value{"entry": cty.ObjectVal(map[string]cty.Value{"s": cty.StringVal("x")})},
	}
	v, d := attrs["y"].Expr.Value(ctx)
	if d.HasErrors() || len(v.AsString()) != 1024 {
		t.Fatalf("y = %v, %v", v, d)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v on a loaded machine; a few ms expected", took)
	}
}
