package lang

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files and golden files")

// TestReferenceIsCurrent fails when docs/language.md differs from what the
// schema generates: change lang/schema.go, then run `go generate ./lang`.
func TestReferenceIsCurrent(t *testing.T) {
	const path = "../docs/language.md"
	want := ReferenceDoc()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run `go generate ./lang`", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with lang/schema.go: run `go generate ./lang`", path)
	}
}

// TestSchemaDocumentsEverything: every block, label and attribute carries
// documentation, since hover and completion show it.
func TestSchemaDocumentsEverything(t *testing.T) {
	var walk func(bs *BlockSchema, path string)
	walk = func(bs *BlockSchema, path string) {
		if bs.Doc == "" {
			t.Errorf("%s: block has no doc", path)
		}
		if bs.Type != "" && bs.Snippet == "" {
			t.Errorf("%s: block has no snippet", path)
		}
		for _, l := range bs.Labels {
			if l.Doc == "" {
				t.Errorf("%s: label %s has no doc", path, l.Name)
			}
		}
		for _, a := range bs.Attrs {
			if a.Doc == "" {
				t.Errorf("%s.%s: attribute has no doc", path, a.Name)
			}
		}
		for _, c := range bs.Blocks {
			walk(c, path+"/"+c.Type)
		}
	}
	walk(Schema, "journey-file")
	walk(TestSchema, "test-file")
}
