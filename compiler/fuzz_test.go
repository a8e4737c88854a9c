package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// seedFiles adds every workspace file of the golden cases and the examples
// to the corpus: realistic input to mutate from.
func seedFiles(f *testing.F) {
	cases, _ := filepath.Glob("testdata/*/*.txtar")
	for _, c := range cases {
		ar, err := txtar.ParseFile(c)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if _, ok := lang.KindOf(file.Name); ok {
				f.Add(string(file.Data), strings.HasSuffix(file.Name, lang.TestSuffix))
			}
		}
	}
	examples, _ := filepath.Glob("../examples/*/*.journey*.hcl")
	for _, e := range examples {
		if data, err := os.ReadFile(e); err == nil {
			f.Add(string(data), strings.HasSuffix(e, lang.TestSuffix))
		}
	}
}

// FuzzCompile feeds any text to the loader and every compiler pass as a
// single-file workspace. It must never panic, every diagnostic must point
// inside the file, and a clean result must encode to IR that decodes back.
func FuzzCompile(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, src string, isTest bool) {
		path := "fuzz.journey.hcl"
		if isTest {
			path = "fuzz.journeytest.hcl"
		}
		files := []lang.SourceFile{{Path: path, Src: []byte(src)}}
		ws, diags := lang.Parse(".", files)
		res, more := compiler.Check(ws, compiler.Options{ReadFile: func(string) ([]byte, error) { return []byte("hi ${customer.id}"), nil }})
		for _, d := range append(diags, more...) {
			if d.Subject == nil {
				continue
			}
			r := *d.Subject
			if r.Filename != path {
				continue // a template
			}
			if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
				t.Fatalf("%s: range %v outside the file of %d bytes", d.Summary, r, len(src))
			}
		}
		if !hasErrors(diags, more) {
			if res.Program == nil {
				t.Fatal("no errors but no IR")
			}
			data, err := ir.Encode(res.Program)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ir.Decode(data); err != nil {
				t.Fatalf("IR does not decode: %v", err)
			}
		}
	})
}

func hasErrors(a, b hcl.Diagnostics) bool { return a.HasErrors() || b.HasErrors() }
