package lang

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds any text to the tolerant loader as a journey file and as a
// test file: it must never panic or overflow its stack, and every label and attribute it keeps
// must have a range inside the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "journey \"j\" {}", "journey \"j\" {\n  stage \"s\" { goto = end }\n}\n",
		"journey {", "stage \"x\" \"y\" {}", "customer { trait \"a\" { type = string } }",
		"test \"t\" {\n  start = \"2026-01-01T00:00:00Z\"\n  wait \"1d\" {}\n}\n",
		"journey \"j\" { stage \"s\" { send \"m\" { channel = channel.x } update { a = 1 } emit \"e\" {} } }",
		"\xff\xfe", "journey \"日本\" { description = \"😀\" }",
	} {
		f.Add(s)
	}
	// Nesting just past the limit and far past it (deep enough to have
	// overflowed the parser's stack before the nesting check).
	for _, n := range []int{MaxNesting + 2, 20_000} {
		for _, c := range deepCases(n) {
			f.Add(c.src)
		}
	}
	examples, _ := filepath.Glob("../examples/*/*.journey*.hcl")
	for _, e := range examples {
		if data, err := os.ReadFile(e); err == nil {
			f.Add(string(data))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, path := range []string{"f.journey.hcl", "f.journeytest.hcl"} {
			ws, _ := Parse(".", []SourceFile{{Path: path, Src: []byte(src)}})
			inside := func(what string, r interface{ String() string }, start, end int) {
				if start < 0 || end > len(src) || start > end {
					t.Fatalf("%s range %s outside a file of %d bytes", what, r, len(src))
				}
			}
			for _, j := range ws.Journeys {
				inside("journey", j.Range, j.Range.Start.Byte, j.Range.End.Byte)
				for _, s := range j.Stages {
					inside("stage label", s.Name.Range, s.Name.Range.Start.Byte, s.Name.Range.End.Byte)
				}
			}
			for _, ts := range ws.Tests {
				inside("test", ts.Range, ts.Range.Start.Byte, ts.Range.End.Byte)
			}
		}
	})
}
