package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// deep returns the constructs that overflowed hclsyntax's stack (a fatal
// error, not a panic) at n levels, with the position where MaxNesting is
// crossed: line 1 unless said otherwise.
func deepCases(n int) []struct {
	name, src string
	line, col int
} {
	rep := strings.Repeat
	return []struct {
		name, src string
		line, col int
	}{
		// The reported case: 70,000 parentheses in a 140 KB file.
		{"parentheses", "journey \"j\" {\n  description = " + rep("(", n) + "\"a\"" + rep(")", n) + "\n}\n", 2, 17 + MaxNesting - 1},
		{"brackets", "x = " + rep("[", n) + rep("]", n) + "\n", 1, 5 + MaxNesting},
		{"objects", "x = " + rep("{a=", n) + "1" + rep("}", n) + "\n", 1, 5 + 3*MaxNesting},
		{"blocks", rep("b {\n", n) + rep("}\n", n), MaxNesting + 1, 3},
		{"interpolations", "x = " + rep("\"${", n) + rep("}\"", n) + "\n", 1, 5 + 3*(MaxNesting/2)},
		{"not", "x = " + rep("!", n) + "true\n", 1, 5 + MaxNesting},
		{"minus", "x = " + rep("- ", n) + "1\n", 1, 5 + 2*MaxNesting},
		{"minus over lines", "x = (" + rep("-\n", n) + "1)\n", MaxNesting, 1},
		{"heredocs", "x = " + rep("<<E\n${", n) + "\n", MaxNesting/2 + 1, 3},
	}
}

func TestParseConfigRefusesDeepNesting(t *testing.T) {
	for _, tt := range deepCases(70_000) {
		t.Run(tt.name, func(t *testing.T) {
			// Without the check, hclsyntax.ParseConfig ends the test binary
			// with "fatal error: stack overflow".
			f, diags := ParseConfig([]byte(tt.src), "f.journey.hcl")
			if len(diags) != 1 || diags[0].Summary != "Nested too deep" {
				t.Fatalf("diagnostics %v; want one Nested too deep", diags)
			}
			if at := diags[0].Subject.Start; at.Line != tt.line || at.Column != tt.col {
				t.Errorf("reported at %d:%d, want %d:%d", at.Line, at.Column, tt.line, tt.col)
			}
			if f == nil || f.Body == nil {
				t.Error("no file: the loader needs an empty body")
			}
		})
	}
}

// Nesting up to the limit is parsed, and brackets that are text (in
// strings, comments, heredocs, escaped templates) do not count.
func TestParseConfigAcceptsNestingUpToTheLimit(t *testing.T) {
	rep := strings.Repeat
	n := MaxNesting - 1 // the attribute's value is one level inside the file
	for name, src := range map[string]string{
		"parentheses": "x = " + rep("(", n) + "1" + rep(")", n) + "\n",
		"text":        "x = \"" + rep("((([[[{{{", 1000) + "\"\n# " + rep("(", 1000) + "\n/* " + rep("{", 1000) + " */\n",
		"heredoc":     "x = <<EOT\n" + rep("(((\n", 1000) + "EOT\ny = <<-EOT\n  " + rep("[", 1000) + "\n  EOT\n",
		"escapes":     "x = \"" + rep("$${", 1000) + rep("%%{", 1000) + "\"\n",
		"directives":  "x = \"" + rep("%{ if true }a%{ endif }", 1000) + "\"\n",
		"negatives":   "x = [" + rep("-1, ", 1000) + "!true]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, diags := ParseConfig([]byte(src), "f.journey.hcl"); diags.HasErrors() {
				t.Errorf("diagnostics %v", diags)
			}
		})
	}
	examples, _ := filepath.Glob("../examples/*/*.journey*.hcl")
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	for _, e := range examples {
		src, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		if d := checkNesting(src, e, hcl.InitialPos, configMode); d != nil {
			t.Errorf("%s: %s", e, d.Detail)
		}
	}
}

func TestParseTemplateRefusesDeepNesting(t *testing.T) {
	rep := strings.Repeat
	for name, src := range map[string]string{
		"interpolations": rep("${(", 40_000) + rep(")}", 40_000),
		"directives":     rep("%{ if true }", 70_000) + rep("%{ endif }", 70_000),
		"for":            rep("%{~ for x in [1] ~}", 70_000) + rep("%{ endfor }", 70_000),
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := ParseTemplate([]byte(src), "t.txt", hcl.InitialPos)
			if len(diags) != 1 || diags[0].Summary != "Nested too deep" {
				t.Fatalf("diagnostics %v; want one Nested too deep", diags)
			}
		})
	}
	if _, diags := ParseExpression([]byte(rep("(", 70_000)+"1"+rep(")", 70_000)), "e", hcl.InitialPos); len(diags) != 1 {
		t.Errorf("ParseExpression: %v", diags)
	}
}

// The loader reports the file and goes on with the others.
func TestParseReportsDeepNestingAndGoesOn(t *testing.T) {
	deep := deepCases(70_000)[0].src
	ws, diags := Parse(".", []SourceFile{
		{Path: "deep.journey.hcl", Src: []byte(deep)},
		{Path: "ok.journey.hcl", Src: []byte("journey \"ok\" {}\n")},
	})
	if len(diags) != 1 || diags[0].Subject.Filename != "deep.journey.hcl" || !ws.LoadErrors {
		t.Errorf("diagnostics %v; want one, in deep.journey.hcl", diags)
	}
	if len(ws.Journeys) != 1 || ws.Journeys[0].Name.Value != "ok" {
		t.Errorf("journeys %v; want ok alone", ws.Journeys)
	}
}
