package lsp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Formatting in the editor gives exactly what `waymark fmt` writes: every
// file of every example workspace, messed up (indentation stripped, spacing
// around "=" collapsed, blank lines added at the ends), is formatted by the
// server and by the command, and the two must agree byte for byte.
func TestFormattingMatchesFmt(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*"))
	root := t.TempDir()
	var files []string
	for _, ex := range examples {
		paths, err := lang.FindFiles(ex)
		if err != nil {
			continue
		}
		for _, p := range paths {
			src, err := os.ReadFile(filepath.Join(ex, p))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(ex) + "_" + strings.ReplaceAll(p, "/", "_")
			if err := os.WriteFile(filepath.Join(root, name), mess(src), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		t.Skip("no example workspaces")
	}
	c := startServer(t, root)
	formatted := map[string]string{}
	for _, name := range files {
		text, _ := os.ReadFile(filepath.Join(root, name))
		c.open(name, string(text))
		edits, err := c.server.Formatting(c.ctx(), &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(name)}})
		if err != nil {
			t.Fatalf("formatting %s: %v", name, err)
		}
		formatted[name] = applyEdits(string(text), edits)
	}
	cmd := exec.Command(waymarkBin, "fmt", root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("waymark fmt: %v\n%s", err, out)
	}
	for _, name := range files {
		want, _ := os.ReadFile(filepath.Join(root, name))
		if formatted[name] != string(want) {
			t.Errorf("%s: the server formats it differently from waymark fmt:\n%s", name, lineDiff(string(want), formatted[name]))
		}
	}
}

var spacedEqual = regexp.MustCompile(` *= *`)

// mess undoes formatting without changing what a file means.
func mess(src []byte) []byte {
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		l = strings.TrimLeft(l, " ")
		if !strings.Contains(l, `"`) && !strings.Contains(l, "#") {
			l = spacedEqual.ReplaceAllString(l, "=")
		}
		lines[i] = l
	}
	return []byte("\n\n" + strings.Join(lines, "\n") + "\n\n\n")
}
