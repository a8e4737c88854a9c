package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/waymark-dev/waymark/lang"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

// TestMain lets the scripts `exec waymark`: the test binary runs as the
// command when invoked under that name.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"waymark": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script. With
// -update, a failing `cmp stdout file` rewrites the file in the script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits, "seedstore": cmdSeedStore, "waitfor": cmdWaitFor},
	})
}

// cmdExits runs a command like exec and checks its exit code, which exec
// cannot: `exits 2 waymark frob`. Its stdout and stderr are then checked as
// exec's are.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit code", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("exits: %v", err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// cmdWaitFor waits (up to 30s) until a file exists and is not empty:
// `waitfor shared.db-lock`, a background `waymark run` holding its store.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not appear in 30s", args[0])
		}
	}
}

// Formatting is idempotent over every example workspace, whatever examples
// exist: formatting formatted output changes nothing.
func TestFormatExamplesIdempotent(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "examples", "*"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() || strings.HasPrefix(filepath.Base(dir), ".") {
			continue
		}
		files, err := lang.FindFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range files {
			path := filepath.Join(dir, filepath.FromSlash(rel))
			t.Run(filepath.ToSlash(path), func(t *testing.T) {
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				once, diags := lang.Format(path, src)
				if diags.HasErrors() {
					t.Fatalf("does not parse: %s", diags.Error())
				}
				twice, diags := lang.Format(path, once)
				if diags.HasErrors() {
					t.Fatalf("formatted output does not parse: %s", diags.Error())
				}
				if !bytes.Equal(once, twice) {
					t.Errorf("formatting is not idempotent:\n--- once\n%s\n--- twice\n%s", once, twice)
				}
			})
			checked++
		}
	}
	if checked == 0 {
		t.Skip("no example workspaces under ../../examples")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"aligns and indents", "a=1\nbbb   =  2\nx {\ny=1\n}\n", "a   = 1\nbbb = 2\nx {\n  y = 1\n}\n"},
		{"adds the final line break", "a = 1", "a = 1\n"},
		{"drops blank lines at both ends", "\n\n\na = 1\n\n\n", "a = 1\n"},
		{"keeps heredoc content", "a = <<EOT\n  x  \n\nEOT\n", "a = <<EOT\n  x  \n\nEOT\n"},
		{"keeps CRLF line ends", "a=1\r\nb=2", "a = 1\r\nb = 2\r\n"},
		{"empty stays empty", "", ""},
		{"only blank lines become empty", "\n \n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := lang.Format("x.journey.hcl", []byte(tt.src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if string(got) != tt.want {
				t.Errorf("format(%q) = %q, want %q", tt.src, got, tt.want)
			}
			again, _ := lang.Format("x.journey.hcl", got)
			if !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		o    string
		x    bool
	}{
		{[]string{"dir"}, []string{"dir"}, "", false},
		{[]string{"-o", "f", "dir"}, []string{"dir"}, "f", false},
		{[]string{"dir", "-o", "f"}, []string{"dir"}, "f", false},
		{[]string{"a", "--x", "b", "-o=f"}, []string{"a", "b"}, "f", true},
		{[]string{"a", "--", "-o", "f"}, []string{"a", "-o", "f"}, "", false},
		{[]string{"--", "-x"}, []string{"-x"}, "", false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		o := fs.String("o", "", "")
		x := fs.Bool("x", false, "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if strings.Join(pos, " ") != strings.Join(tt.pos, " ") || *o != tt.o || *x != tt.x {
			t.Errorf("parseArgs(%q) = %q, -o %q, -x %v; want %q, -o %q, -x %v", tt.args, pos, *o, *x, tt.pos, tt.o, tt.x)
		}
	}
}

func TestVersionText(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{
			"release with a clean commit",
			debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0c72e2fbb7aa"}, {Key: "vcs.time", Value: "2026-11-22T13:33:17Z"}, {Key: "vcs.modified", Value: "false"},
			}},
			"waymark v0.4.0\ncommit  0c72e2fbb7aa (2026-11-22T13:33:17Z)\ngo      go1.26.8 linux/amd64\n",
		},
		{
			"clone with uncommitted changes",
			debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261122133317-0c72e2fbb7aa+dirty"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0c72e2fbb7aa"}, {Key: "vcs.modified", Value: "true"},
			}},
			"waymark v0.0.0-20261122133317-0c72e2fbb7aa+dirty\ncommit  0c72e2fbb7aa (modified)\ngo      go1.26.8 linux/amd64\n",
		},
		{
			"no VCS stamp",
			debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"waymark (devel)\ncommit  unknown (not built from a Git checkout with go build or go install)\ngo      go1.26.8 linux/amd64\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(&tt.bi, "linux/amd64"); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
