package diff

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/waymark-dev/waymark/compiler"
	goldenfile "github.com/waymark-dev/waymark/compiler/internal/golden"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// compileTxtar compiles the workspaces old/ and new/ of testdata/name.txtar.
func compileTxtar(t testing.TB, name string) (old, new *ir.Program) {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]lang.SourceFile{}
	for _, f := range ar.Files {
		side, path, _ := strings.Cut(f.Name, "/")
		files[side] = append(files[side], lang.SourceFile{Path: path, Src: f.Data})
	}
	compile := func(side string) *ir.Program {
		ws, diags := lang.Parse(side, files[side])
		res, more := compiler.Check(ws, compiler.Options{ReadFile: func(string) ([]byte, error) { return nil, nil }})
		diags = append(diags, more...)
		if diags.HasErrors() {
			for _, d := range diags {
				t.Errorf("%s/%s: %v", name, side, d)
			}
			t.FailNow()
		}
		return res.Program
	}
	return compile("old"), compile("new")
}

// The diff of each testdata case, as text and as JSON, against golden files.
func TestCompute(t *testing.T) {
	for _, name := range []string{"trial", "moves"} {
		t.Run(name, func(t *testing.T) {
			old, new := compileTxtar(t, name)
			d := Compute(old, new)
			var text, js bytes.Buffer
			if err := WriteText(&text, d); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, d); err != nil {
				t.Fatal(err)
			}
			goldenfile.Check(t, name+".diff.txt", text.Bytes())
			goldenfile.Check(t, name+".diff.json", js.Bytes())
		})
	}
}
