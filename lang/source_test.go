package lang

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostSecret is what a file outside the workspace holds: no load may show it.
const hostSecret = "root:x:0:0:SECRET-HOST-LINE"

// hostile builds a workspace next to a "host" directory with a secret file,
// and returns the workspace root.
func hostile(t *testing.T) (root, secret string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "ws")
	secret = filepath.Join(dir, "host", "passwd")
	for _, d := range []string{filepath.Join(root, "templates"), filepath.Dir(secret)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(secret, hostSecret+"\n")
	write(filepath.Join(root, "templates", "ok.txt"), "Hello")
	write(filepath.Join(root, "big.txt"), strings.Repeat("x", MaxFileBytes+1))
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(secret, "abs.txt")
	link("../host/passwd", "rel.txt")
	link("templates/ok.txt", "inside.txt")
	link("templates", "tdir")
	link("nowhere", "dangling.txt")
	if err := syscall.Mkfifo(filepath.Join(root, "fifo.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, secret
}

func TestReadFileStaysInsideTheWorkspace(t *testing.T) {
	root, secret := hostile(t)
	tests := []struct {
		path string
		want error // nil: reads "Hello"
	}{
		{"templates/ok.txt", nil},
		{"inside.txt", nil},  // a symlink to a file inside
		{"tdir/ok.txt", nil}, // through a symlinked folder inside
		{"./templates/ok.txt", nil},
		{"../host/passwd", ErrOutsideWorkspace},
		{"templates/../../host/passwd", ErrOutsideWorkspace},
		{secret, ErrOutsideWorkspace},
		{"abs.txt", ErrOutsideWorkspace},
		{"rel.txt", ErrOutsideWorkspace},
		{"fifo.txt", ErrNotRegular},
		{"templates", ErrNotRegular},
		{"big.txt", ErrTooLarge},
		{"dangling.txt", os.ErrNotExist},
		{"missing.txt", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			done := make(chan struct{})
			var src []byte
			var err error
			go func() {
				defer close(done)
				src, err = ReadFile(root, filepath.ToSlash(tt.path))
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked") // a FIFO opened for reading waits for a writer
			}
			if tt.want == nil {
				if err != nil || string(src) != "Hello" {
					t.Fatalf("ReadFile = %q, %v; want Hello", src, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadFile error = %v; want %v", err, tt.want)
			}
			if strings.Contains(string(src)+err.Error(), "SECRET") {
				t.Errorf("the host file leaked: %q, %v", src, err)
			}
		})
	}
}

// A workspace file that is a symlink to the host, a FIFO or a file over the
// limit is reported at its own name and contributes nothing.
func TestLoadDirRefusesFilesItDoesNotOwn(t *testing.T) {
	root, secret := hostile(t)
	if err := os.Symlink(secret, filepath.Join(root, "leak.journey.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "hang.journey.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := "journey \"big\" {\n  description = \"" + strings.Repeat("x", MaxFileBytes) + "\"\n}\n"
	if err := os.WriteFile(filepath.Join(root, "big.journey.hcl"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ok.journey.hcl"), []byte("journey \"ok\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, diags := LoadDir(root)
	got := map[string]string{}
	for _, d := range diags {
		if d.Subject != nil {
			got[d.Subject.Filename] = d.Summary
		}
		if strings.Contains(d.Detail, "SECRET") {
			t.Errorf("diagnostic shows the host file: %s", d.Detail)
		}
	}
	want := map[string]string{
		"leak.journey.hcl": "File outside the workspace",
		"hang.journey.hcl": "Not a regular file",
		"big.journey.hcl":  "File too large",
	}
	for file, summary := range want {
		if got[file] != summary {
			t.Errorf("%s: diagnostic %q, want %q (all: %v)", file, got[file], summary, diags)
		}
	}
	if len(ws.Files) != 1 || ws.Files[0].Path != "ok.journey.hcl" || !ws.LoadErrors {
		t.Errorf("loaded %d files, LoadErrors %v; want only ok.journey.hcl and LoadErrors", len(ws.Files), ws.LoadErrors)
	}
}

// Buffers handed to Parse (the language server's) meet the same limits.
func TestParseAppliesTheWorkspaceLimits(t *testing.T) {
	chunk := []byte("# " + strings.Repeat("x", MaxFileBytes-3) + "\n")
	files := []SourceFile{{Path: "a_huge.journey.hcl", Src: append(chunk, 'x')}}
	for i := 0; i*len(chunk) <= MaxWorkspaceBytes; i++ {
		files = append(files, SourceFile{Path: "d/" + strings.Repeat("a", i+1) + ".journey.hcl", Src: chunk})
	}
	// overLimits is what Parse runs first; parsing 8 MiB of comments
	// would only make the test slow.
	skip, diags := overLimits(files)
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	if s := strings.Join(summaries, ", "); s != "File too large, Workspace too large" {
		t.Errorf("diagnostics %s; want File too large, Workspace too large", s)
	}
	kept := 0
	for _, s := range skip {
		if !s {
			kept++
		}
	}
	if kept != MaxWorkspaceBytes/len(chunk) {
		t.Errorf("kept %d files, want the %d that fit", kept, MaxWorkspaceBytes/len(chunk))
	}
	ws, diags := Parse(".", []SourceFile{files[0]})
	if len(diags) != 1 || diags[0].Summary != "File too large" || len(ws.Files) != 1 || len(ws.Files[0].Body.Blocks) != 0 {
		t.Errorf("Parse of a file over the limit: %v; want it reported and kept empty", diags)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		512: "512 bytes", 1 << 10: "1 KiB", 1536: "1.5 KiB", 1 << 20: "1 MiB", 8 << 20: "8 MiB", 15204352: "14.5 MiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
