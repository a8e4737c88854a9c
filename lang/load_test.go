package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestFindFilesSkipsHiddenFoldersAndOtherFiles(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"a.journey.hcl", "sub/b.journey.hcl", "sub/deeper/c.journeytest.hcl",
		".git/d.journey.hcl", "sub/.cache/e.journey.hcl", "notes.hcl", "templates/x.txt",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The root may itself be a symlink (a checkout linked into place).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, link} {
		got, err := FindFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := "a.journey.hcl sub/b.journey.hcl sub/deeper/c.journeytest.hcl"
		if strings.Join(got, " ") != want {
			t.Errorf("FindFiles(%s) = %v, want %s", dir, got, want)
		}
	}
}

// A syntax error in one file leaves the intact blocks of that file and every
// other file in the model.
func TestParseIsTolerant(t *testing.T) {
	ws, diags := Parse(".", []SourceFile{
		{Path: "a.journey.hcl", Src: []byte(`
journey "one" {
  stage "first" {
    goto = = end
  }
  stage "second" {}
}
journey "two" {
  stage "only" {
`)},
		{Path: "b.journey.hcl", Src: []byte(`channel "email" {
  type = "smtp"
}
`)},
	})
	if !diags.HasErrors() {
		t.Fatal("want syntax errors")
	}
	if len(ws.Channels) != 1 || ws.Channels[0].Name.Value != "email" {
		t.Errorf("the other file's channel is missing: %+v", ws.Channels)
	}
	if len(ws.Journeys) == 0 || ws.Journeys[0].Name.Value != "one" {
		t.Fatalf("journey one is missing")
	}
	if n := len(ws.Journeys[0].Stages); n != 2 {
		t.Errorf("journey one has %d stages, want 2", n)
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Filename != "a.journey.hcl" {
			t.Errorf("diagnostic outside the broken file: %s", d)
		}
	}
}

// Every node keeps the ranges the compiler and the editor need.
func TestParseKeepsRanges(t *testing.T) {
	src := "journey \"j\" {\n  stage \"s\" {\n    after \"2d\" { goto = stage.t }\n  }\n}\n"
	ws, diags := Parse(".", []SourceFile{{Path: "x.journey.hcl", Src: []byte(src)}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	j := ws.Journeys[0]
	s := j.Stages[0]
	af := s.Afters[0]
	check := func(what string, r hcl.Range, want string) {
		t.Helper()
		if got := string(r.SliceBytes([]byte(src))); got != want {
			t.Errorf("%s covers %q, want %q", what, got, want)
		}
	}
	check("journey label", j.Name.Range, `"j"`)
	check("journey def", j.DefRange, `journey "j"`)
	check("stage label", s.Name.Range, `"s"`)
	check("after label", af.Duration.Range, `"2d"`)
	check("goto attr", af.Goto.Range, `goto = stage.t`)
	check("goto expr", af.Goto.Expr.Range(), `stage.t`)
	check("goto name", af.Goto.NameRange, `goto`)
	if !strings.HasPrefix(string(j.Range.SliceBytes([]byte(src))), "journey") || !strings.HasSuffix(string(j.Range.SliceBytes([]byte(src))), "}") {
		t.Errorf("journey range does not cover the block")
	}
}

func TestInString(t *testing.T) {
	src := []byte(`x = "Mon-Fir 09:00"` + "\n" + `y = "日本 1d"` + "\n" + `z = "a\tb"`)
	lit := func(start, end, line, col int) hcl.Range {
		return hcl.Range{Filename: "f", Start: hcl.Pos{Line: line, Column: col, Byte: start}, End: hcl.Pos{Line: line, Column: col + end - start, Byte: end}}
	}
	r := InString(src, lit(4, 19, 1, 5), "Mon-Fir 09:00", 4, 7)
	if got := string(r.SliceBytes(src)); got != "Fir" || r.Start.Column != 10 {
		t.Errorf("ascii: covers %q at column %d", got, r.Start.Column)
	}
	// Columns count characters, bytes count bytes.
	r = InString(src, hcl.Range{Filename: "f", Start: hcl.Pos{Line: 2, Column: 5, Byte: 24}, End: hcl.Pos{Line: 2, Column: 12, Byte: 35}}, "日本 1d", 7, 9)
	if got := string(r.SliceBytes(src)); got != "1d" || r.Start.Column != 9 {
		t.Errorf("multi-byte: covers %q at column %d, want \"1d\" at 9", got, r.Start.Column)
	}
	// With escapes the source differs from the value: the whole literal.
	whole := hcl.Range{Filename: "f", Start: hcl.Pos{Line: 3, Column: 5, Byte: 40}, End: hcl.Pos{Line: 3, Column: 11, Byte: 46}}
	if r := InString(src, whole, "a\tb", 1, 2); r != whole {
		t.Errorf("escaped literal: got %v, want the whole literal", r)
	}
}
