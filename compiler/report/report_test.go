package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	goldenfile "github.com/waymark-dev/waymark/compiler/internal/golden"
)

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, name, got) }

// The sources the golden tests point into. Ranges are computed from
// markers so that the test reads like the output it checks.
var sources = map[string]string{
	"welcome.journey.hcl": `journey "welcome" {
  stage "start" {
    goto = stage.chek
  }
}
`,
	"tabs.journey.hcl": "journey \"tabs\" {\n\tstage \"a\" {\n\t\tafter \"2x\" { goto = end }\n\t}\n}\n",
	"wide.journey.hcl": `journey "wide" {
  description = "顧客へ 👋 welcome"
  stage "s" { goto = stage.nope }
}
`,
	"broken.journey.hcl": `journey "broken" {
  stage "s" {
    goto = 
  }
`,
}

// rangeOf returns the range of the first occurrence of needle in the file,
// with lines, columns (grapheme clusters) and bytes as HCL computes them.
func rangeOf(t *testing.T, file, needle string) *hcl.Range {
	t.Helper()
	src := sources[file]
	i := strings.Index(src, needle)
	if i < 0 {
		t.Fatalf("%q not in %s", needle, file)
	}
	return &hcl.Range{Filename: file, Start: posAt(src, i), End: posAt(src, i+len(needle))}
}

func posAt(src string, off int) hcl.Pos {
	line := strings.Count(src[:off], "\n") + 1
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	col := 1
	for i := lineStart; i < off; i += clusterLen([]byte(src[i:])) {
		col++
	}
	return hcl.Pos{Line: line, Column: col, Byte: off}
}

func testDiagnostics(t *testing.T) hcl.Diagnostics {
	diags := hcl.Diagnostics{
		{
			Severity: hcl.DiagError,
			Summary:  "Cannot read workspace",
			Detail:   "Reading journeys failed: permission denied.",
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Reference to an undeclared stage",
			Detail:   `Journey "welcome" has no stage "chek". Did you mean "check"?`,
			Subject:  rangeOf(t, "welcome.journey.hcl", "stage.chek"),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Invalid duration",
			Detail:   "A duration is a number and a unit (s, m, h, d, w), such as \"2d\".\nThe unit \"x\" is not one of them.",
			Subject:  rangeOf(t, "tabs.journey.hcl", `x`),
		},
		{
			Severity: hcl.DiagWarning,
			Summary:  "Stage never reached",
			Detail:   "No entry, goto, branch, split or wait leads to stage \"s\"; 100% sure, see: docs.",
			Subject:  rangeOf(t, "wide.journey.hcl", `stage.nope`),
		},
		{
			Severity: hcl.DiagWarning,
			Summary:  "Description with emoji",
			Subject:  rangeOf(t, "wide.journey.hcl", `👋 welcome`),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Block spans lines",
			Detail:   "Only the first line of a range over several lines is underlined.",
			Subject:  rangeOf(t, "welcome.journey.hcl", "stage \"start\" {\n    goto"),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "File not available",
			Detail:   "There is no source for this file, so no snippet.",
			Subject:  &hcl.Range{Filename: "gone.journey.hcl", Start: hcl.Pos{Line: 3, Column: 1, Byte: 40}, End: hcl.Pos{Line: 3, Column: 5, Byte: 44}},
		},
	}
	// A real parser diagnostic, with HCL's own ranges.
	_, parse := hclsyntax.ParseConfig([]byte(sources["broken.journey.hcl"]), "broken.journey.hcl", hcl.InitialPos)
	if !parse.HasErrors() {
		t.Fatal("broken.journey.hcl parsed")
	}
	return append(diags, parse...)
}

func testPrinter() Printer {
	return Printer{
		Root: "workspace",
		Source: func(name string) []byte {
			if src, ok := sources[name]; ok {
				return []byte(src)
			}
			return nil
		},
	}
}

func TestGolden(t *testing.T) {
	diags := testDiagnostics(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := testPrinter().Write(&buf, f, diags); err != nil {
				t.Fatal(err)
			}
			golden(t, "diagnostics."+string(f), buf.Bytes())
		})
	}
}

func TestEmpty(t *testing.T) {
	tests := []struct {
		format Format
		want   string
	}{
		{Text, ""},
		{GitHub, ""},
		{JSON, "{\n  \"diagnostics\": [],\n  \"errors\": 0,\n  \"warnings\": 0\n}\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := (Printer{}).Write(&buf, tt.format, nil); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("%s of no diagnostics = %q, want %q", tt.format, buf.String(), tt.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		start int // byte offsets of the range
		end   int
		want  string
	}{
		{
			name:  "plain",
			src:   "a = b\n",
			start: 4, end: 5,
			want: "  1 | a = b\n" +
				"    |     ^\n",
		},
		{
			name:  "tab before the range",
			src:   "\tx = 1\n",
			start: 1, end: 2,
			want: "  1 |     x = 1\n" +
				"    |     ^\n",
		},
		{
			name:  "tab after text rounds to the next stop",
			src:   "ab\tc\n",
			start: 3, end: 4,
			want: "  1 | ab  c\n" +
				"    |     ^\n",
		},
		{
			name:  "tab inside the range",
			src:   "a\tb\n",
			start: 0, end: 3,
			want: "  1 | a   b\n" +
				"    | ^^^^^\n",
		},
		{
			name:  "multi-byte characters before the range",
			src:   "é = ü\n",
			start: len("é = "), end: len("é = ü"),
			want: "  1 | é = ü\n" +
				"    |     ^\n",
		},
		{
			name:  "wide characters take two columns",
			src:   "名前 = x\n",
			start: len("名前 = "), end: len("名前 = x"),
			want: "  1 | 名前 = x\n" +
				"    |        ^\n",
		},
		{
			name:  "wide characters in the range",
			src:   "x = \"名前\"\n",
			start: 5, end: 5 + len("名前"),
			want: "  1 | x = \"名前\"\n" +
				"    |      ^^^^\n",
		},
		{
			name:  "combining mark is one character",
			src:   "e\u0301 = y\n",
			start: len("e\u0301 = "), end: len("e\u0301 = y"),
			want: "  1 | e\u0301 = y\n" +
				"    |     ^\n",
		},
		{
			name:  "empty range gets one caret",
			src:   "abc\n",
			start: 1, end: 1,
			want: "  1 | abc\n" +
				"    |  ^\n",
		},
		{
			name:  "range at the end of the line",
			src:   "abc\n",
			start: 3, end: 3,
			want: "  1 | abc\n" +
				"    |    ^\n",
		},
		{
			name:  "range over lines underlines the first to its end",
			src:   "x {\n  y\n}\n",
			start: 2, end: 9,
			want: "  1 | x {\n" +
				"    |   ^\n",
		},
		{
			name:  "second line and CRLF",
			src:   "a\r\nbb = c\r\n",
			start: 3, end: 5,
			want: "  2 | bb = c\n" +
				"    | ^^\n",
		},
		{
			name:  "control characters are not printed",
			src:   "a\x1b[31m = 1\n",
			start: 7, end: 8,
			want: "  1 | a\uFFFD[31m = 1\n" +
				"    |        ^\n",
		},
		{
			name:  "gutter grows with the line number",
			src:   strings.Repeat("\n", 9) + "ten\n",
			start: 9, end: 12,
			want: "  10 | ten\n" +
				"     | ^^^\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Printer{Source: func(string) []byte { return []byte(tt.src) }}
			rng := &hcl.Range{Filename: "f", Start: posAt(tt.src, tt.start), End: posAt(tt.src, tt.end)}
			got, ok := p.snippet(rng)
			if !ok {
				t.Fatal("no snippet")
			}
			if got != tt.want {
				t.Errorf("snippet:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// Ranges from a tool that got bytes wrong still point at the right line:
// columns are used instead.
func TestSnippetFallsBackToColumns(t *testing.T) {
	src := "one\ntwo = 2\n"
	p := Printer{Source: func(string) []byte { return []byte(src) }}
	rng := &hcl.Range{Filename: "f",
		Start: hcl.Pos{Line: 2, Column: 7, Byte: 0},
		End:   hcl.Pos{Line: 2, Column: 8, Byte: 0}}
	got, _ := p.snippet(rng)
	want := "  2 | two = 2\n    |       ^\n"
	if got != want {
		t.Errorf("snippet:\n%s\nwant:\n%s", got, want)
	}
	if _, ok := p.snippet(&hcl.Range{Filename: "f", Start: hcl.Pos{Line: 9, Column: 1, Byte: 99}}); ok {
		t.Error("a line past the end of the file gave a snippet")
	}
}

func TestSummary(t *testing.T) {
	e := &hcl.Diagnostic{Severity: hcl.DiagError}
	w := &hcl.Diagnostic{Severity: hcl.DiagWarning}
	tests := []struct {
		diags hcl.Diagnostics
		want  string
	}{
		{nil, "0 errors, 0 warnings"},
		{hcl.Diagnostics{e}, "1 error, 0 warnings"},
		{hcl.Diagnostics{e, e, w}, "2 errors, 1 warning"},
		{hcl.Diagnostics{w, w}, "0 errors, 2 warnings"},
	}
	for _, tt := range tests {
		if got := Summary(tt.diags); got != tt.want {
			t.Errorf("Summary(%d diagnostics) = %q, want %q", len(tt.diags), got, tt.want)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "a: b, 100%",
		Detail:   "line one\r\nline two: 50%, done",
		Subject:  &hcl.Range{Filename: "dir,x/a:b.journey.hcl", Start: hcl.Pos{Line: 1, Column: 2}, End: hcl.Pos{Line: 1, Column: 3}},
	}
	var buf bytes.Buffer
	if err := (Printer{}).GitHub(&buf, hcl.Diagnostics{d}); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=dir%2Cx/a%3Ab.journey.hcl,line=1,col=2,endLine=1,endColumn=3," +
		"title=a%3A b%2C 100%25::line one%0D%0Aline two: 50%25, done\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil || err.Error() != `unknown format "xml": use one of text, json, github` {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}
