package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The guide's examples that say so (a code block whose first line is
// "# example NAME: FILE") are real workspaces: the files of each NAME are
// written out, must compile without errors, and their scenario tests must
// pass, so the guide cannot teach something the compiler refuses or the
// engine does differently.
func TestGuideExamples(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```[a-z]*\n# example ([a-z_]+): ([^\n]+)\n(.*?)```")
	testBlock := regexp.MustCompile(`(?m)^test "`)
	workspaces := map[string]map[string]string{}
	for _, m := range block.FindAllStringSubmatch(string(src), -1) {
		name, file, body := m[1], m[2], m[3]
		if workspaces[name] == nil {
			workspaces[name] = map[string]string{}
		}
		workspaces[name][file] += body
	}
	// Every HCL snippet, complete or not, is at least valid HCL.
	for _, m := range regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatchIndex(string(src), -1) {
		snippet := src[m[2]:m[3]]
		line := 1 + bytes.Count(src[:m[2]], []byte("\n"))
		if _, diags := hclsyntax.ParseConfig(snippet, "docs/guide.md", hcl.Pos{Line: line, Column: 1}); diags.HasErrors() {
			t.Errorf("an HCL snippet does not parse: %s", diags.Error())
		}
	}
	if len(workspaces) == 0 {
		t.Fatal("docs/guide.md has no examples marked # example NAME: FILE")
	}
	for name, files := range workspaces {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tests := 0
			for file, body := range files {
				path := filepath.Join(dir, filepath.FromSlash(file))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				tests += len(testBlock.FindAllString(body, -1))
			}
			var out, errb bytes.Buffer
			if code := run([]string{"validate", dir}, &out, &errb); code != exitOK {
				t.Fatalf("validate exits %d:\n%s%s", code, out.String(), errb.String())
			}
			out.Reset()
			errb.Reset()
			if code := run([]string{"test", "-v", dir}, &out, &errb); code != exitOK {
				t.Fatalf("waymark test exits %d:\n%s%s", code, out.String(), errb.String())
			}
			if tests == 0 {
				t.Fatalf("example %s has no scenario test", name)
			}
			t.Logf("%s", out.String())
		})
	}
}

// The repository stands alone: every relative link of its Markdown files
// names a file or directory inside it that exists (a clone has nothing
// beside it).
func TestDocLinksStayInside(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range link.FindAllStringSubmatch(string(src), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			abs := filepath.Clean(filepath.Join(filepath.Dir(path), filepath.FromSlash(target)))
			if abs != root && !strings.HasPrefix(abs, root+string(filepath.Separator)) {
				t.Errorf("%s links outside the repository: %s", rel, m[1])
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, m[1])
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no relative links found: is the walk reading the repository?")
	}
}
