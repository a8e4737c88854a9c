package compiler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// A workspace that declares more than the limits is one error at the first
// block past the limit, found before any check runs, in well under a
// second: the checks cost in proportion to what is declared.
func TestWorkspaceCountLimits(t *testing.T) {
	many := func(n int, format string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	tests := []struct {
		name  string
		files []lang.SourceFile
		want  string
	}{
		{"journeys", []lang.SourceFile{{Path: "a.journey.hcl", Src: []byte(many(compiler.MaxJourneys+1, "journey \"j%d\" {}\n"))}},
			fmt.Sprintf("a.journey.hcl:%d:1: The workspace declares %d journeys; the limit is %d", compiler.MaxJourneys+1, compiler.MaxJourneys+1, compiler.MaxJourneys)},
		{"actions", []lang.SourceFile{{Path: "a.journey.hcl", Src: []byte("journey \"j\" {\n  stage \"s\" {\n" + strings.Repeat("update {}\n", compiler.MaxActions+1) + "  }\n}\n")}},
			fmt.Sprintf("a.journey.hcl:2:3: The workspace declares %d sends, updates and emits; the limit is %d", compiler.MaxActions+1, compiler.MaxActions)},
		{"stages", []lang.SourceFile{
			{Path: "a.journey.hcl", Src: []byte("journey \"a\" {\n" + many(compiler.MaxStages/2, "stage \"s%d\" {}\n") + "}\n")},
			{Path: "b.journey.hcl", Src: []byte("journey \"b\" {\n" + many(compiler.MaxStages/2+1, "stage \"s%d\" {}\n") + "}\n")},
		}, fmt.Sprintf("b.journey.hcl:%d:1: The workspace declares %d stages; the limit is %d", compiler.MaxStages/2+2, compiler.MaxStages+1, compiler.MaxStages)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, diags := lang.Parse(".", tt.files)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			start := time.Now()
			_, diags = compiler.Validate(ws, compiler.Options{})
			took := time.Since(start)
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got %d: %v", len(diags), diags[:min(len(diags), 3)])
			}
			d := diags[0]
			got := fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Detail)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s...", got, tt.want)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}
