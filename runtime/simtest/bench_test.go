package simtest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// BenchmarkSuite1000 runs 1,000 scenario tests drawn from the examples'
// own tests (repeated round-robin) and reports tests/s and the time for
// the 1,000. Target: under 2 s. Compiling the workspaces is not counted:
// `waymark test` compiles once per workspace.
func BenchmarkSuite1000(b *testing.B) {
	type job struct {
		eng  *engine.Engine
		test *lang.Test
	}
	var pool []job
	dirs, _ := filepath.Glob("../../examples/*")
	for _, dir := range dirs {
		res, diags := compiler.CompileDir(dir)
		if diags.HasErrors() {
			b.Fatalf("%s: %s", dir, diags)
		}
		eng, err := engine.New(res.Program, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range res.Workspace.Tests {
			pool = append(pool, job{eng, t})
		}
	}
	if len(pool) == 0 {
		b.Fatal("no scenario tests in the examples")
	}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		began := time.Now()
		for k := 0; k < 1000; k++ {
			j := pool[k%len(pool)]
			if r := Run(j.eng, j.test); !r.Passed() {
				b.Fatalf("%s failed: %+v", r.Name, r.Failures)
			}
		}
		total += time.Since(began)
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(per.Seconds()*1000, "ms/1000-tests")
	b.ReportMetric(1000/per.Seconds(), "tests/s")
}
