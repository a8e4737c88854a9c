package compiler_test

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/compilertest"
	"github.com/waymark-dev/waymark/lang"
)

// BenchmarkValidate1000x12 measures a full validate (load + every check) of
// 1,000 journeys × 12 stages against plain hclsyntax parsing of the same
// files, one after another, in the same run, and reports both and their
// ratio. Targets: ratio ≤ 3 and validate under 1 s. The loader parses files
// on every core (lang.parseAll); the baseline is the plain sequential loop
// a tool would write, so the ratio says what the whole of validate costs
// over merely reading the files.
func BenchmarkValidate1000x12(b *testing.B) {
	files := compilertest.Workspace(1000)
	var parse, validate time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for _, f := range files {
			if _, diags := hclsyntax.ParseConfig(f.Src, f.Path, hcl.InitialPos); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
		t1 := time.Now()
		ws, diags := lang.Parse(".", files)
		_, more := compiler.Validate(ws, compiler.Options{})
		t2 := time.Now()
		if all := append(diags, more...); len(all) > 0 {
			b.Fatalf("generated workspace is not clean: %s", all[0])
		}
		parse += t1.Sub(t0)
		validate += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(parse.Milliseconds())/n, "parse-ms")
	b.ReportMetric(float64(validate.Milliseconds())/n, "validate-ms")
	b.ReportMetric(float64(validate)/float64(parse), "x-parse")
}
