package compiler_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// loadArchive parses a txtar case: every file but the golden sections is a
// workspace file or a template.
func loadArchive(t *testing.T, path string) (*txtar.Archive, []lang.SourceFile, map[string][]byte) {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var files []lang.SourceFile
	other := map[string][]byte{}
	for _, f := range ar.Files {
		if _, ok := lang.KindOf(f.Name); ok {
			files = append(files, lang.SourceFile{Path: f.Name, Src: f.Data})
		} else {
			other[f.Name] = f.Data
		}
	}
	return ar, files, other
}

func check(files []lang.SourceFile, other map[string][]byte) (*compiler.Result, hcl.Diagnostics) {
	ws, diags := lang.Parse(".", files)
	res, more := compiler.Check(ws, compiler.Options{ReadFile: func(p string) ([]byte, error) {
		if b, ok := other[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}})
	return res, compiler.Sort(append(diags, more...))
}

// render prints diagnostics one per line in the CLI's location format, with
// the exact text the range covers, so a golden file shows what is underlined.
func render(diags hcl.Diagnostics, files []lang.SourceFile) string {
	src := map[string][]byte{}
	for _, f := range files {
		src[f.Path] = f.Src
	}
	var b strings.Builder
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject == nil {
			fmt.Fprintf(&b, "%s: %s: %s\n", sev, d.Summary, d.Detail)
			continue
		}
		r := *d.Subject
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s: %s\n", r.Filename, r.Start.Line, r.Start.Column, sev, d.Summary, d.Detail)
		if s, ok := src[r.Filename]; ok && r.CanSliceBytes(s) {
			fmt.Fprintf(&b, "    covers %q\n", r.SliceBytes(s))
		}
	}
	return b.String()
}

// TestDiagnostics runs every case under testdata/diagnostics: each holds a
// workspace and, in its "want" section, every diagnostic it must produce.
func TestDiagnostics(t *testing.T) {
	paths, _ := filepath.Glob("testdata/diagnostics/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no cases under testdata/diagnostics")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, files, other := loadArchive(t, path)
			want := other["want"]
			delete(other, "want")
			_, diags := check(files, other)
			got := render(diags, files)
			assertRangesInside(t, diags, files)
			if *update {
				setSection(ar, "want", got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(want) {
				t.Errorf("diagnostics differ (run with -update to accept)\n--- got\n%s--- want\n%s", got, want)
			}
			if !strings.Contains(string(want), ": ") {
				t.Errorf("case %s expects no diagnostics; every case should show at least one", path)
			}
		})
	}
}

func setSection(ar *txtar.Archive, name, data string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = []byte(data)
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
}

// assertRangesInside checks that every diagnostic points inside its file.
func assertRangesInside(t *testing.T, diags hcl.Diagnostics, files []lang.SourceFile) {
	t.Helper()
	src := map[string][]byte{}
	for _, f := range files {
		src[f.Path] = f.Src
	}
	for _, d := range diags {
		if d.Subject == nil {
			continue
		}
		r := *d.Subject
		s, ok := src[r.Filename]
		if !ok {
			continue // a template file
		}
		if r.Start.Byte < 0 || r.End.Byte > len(s) || r.Start.Byte > r.End.Byte || r.Start.Line < 1 || r.Start.Column < 1 {
			t.Errorf("%s: range %v outside its file of %d bytes", d.Summary, r, len(s))
		}
		if !utf8.Valid(s[min(r.Start.Byte, len(s)):min(r.End.Byte, len(s))]) && utf8.Valid(s) {
			t.Errorf("%s: range %v splits a character", d.Summary, r)
		}
	}
}

// TestExamplesCompileClean compiles every example workspace: none may have
// a diagnostic, not even a warning.
func TestExamplesCompileClean(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	n := 0
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, diags := compiler.CompileDir(dir)
			for _, d := range diags {
				t.Errorf("%s", d)
			}
			if res.Program == nil || len(res.Program.Journeys) == 0 {
				t.Fatalf("no IR or no journeys")
			}
		})
	}
	if n == 0 {
		t.Skip("no examples yet")
	}
}

// TestIRGolden compiles every case under testdata/ir and compares the IR
// with the case's "ir.json" section; it also checks determinism.
func TestIRGolden(t *testing.T) {
	paths, _ := filepath.Glob("testdata/ir/*.txtar")
	if len(paths) == 0 {
		t.Fatal("no cases under testdata/ir")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, files, other := loadArchive(t, path)
			want := other["ir.json"]
			delete(other, "ir.json")
			res, diags := check(files, other)
			if diags.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", render(diags, files))
			}
			got, err := ir.Encode(res.Program)
			if err != nil {
				t.Fatal(err)
			}
			// Determinism: the files in another order give the same bytes.
			rev := append([]lang.SourceFile(nil), files...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			res2, _ := check(rev, other)
			again, _ := ir.Encode(res2.Program)
			if !bytes.Equal(got, again) {
				t.Errorf("IR is not deterministic")
			}
			back, err := ir.Decode(got)
			if err != nil {
				t.Fatalf("IR does not decode: %v", err)
			}
			if re, _ := ir.Encode(back); !bytes.Equal(re, got) {
				t.Errorf("IR changes on a decode/encode round trip")
			}
			if *update {
				setSection(ar, "ir.json", string(got))
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("IR differs (run with -update to accept)\n--- got\n%s", got)
			}
		})
	}
}
