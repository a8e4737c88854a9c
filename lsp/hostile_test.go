package lsp_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.lsp.dev/protocol"
)

// The language server reads a workspace the way validate does: a file
// linked in from outside the root is not loaded, a template linked to a
// file outside is refused at its argument, and a FIFO does not hang the
// server.
func TestHostileFilesAreNotRead(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "ws")
	host := filepath.Join(dir, "host.txt")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Parsed as a journey file or a template, it would be reported by name.
	if err := os.WriteFile(host, []byte("SECRET_HOST_LINE = ${SECRET_HOST_VAR}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"leak.journey.hcl", "welcome.txt"} {
		if err := os.Symlink(host, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "hang.journey.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := `customer {
  trait "email" { type = string }
}
channel "email" {
  type = "smtp"
  from = "care@example.com"
}
event "x" {}
journey "j" {
  entry "x" {}
  stage "s" {
    send "a" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      body    = template("welcome.txt")
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(root, "main.journey.hcl"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startServer(t, root)
	c.open("main.journey.hcl", main)
	diags := c.waitFor("main.journey.hcl", func(ds []protocol.Diagnostic) bool {
		for _, d := range ds {
			if strings.HasPrefix(message(d), "File outside the workspace") {
				return true
			}
		}
		return false
	})
	at := diags[0].Range.Start
	for _, d := range diags {
		if strings.HasPrefix(message(d), "File outside the workspace") {
			at = d.Range.Start
		}
	}
	if at.Line != 15 || at.Character != 25 {
		t.Errorf("refusal at %d:%d, want at template()'s argument, 16:26", at.Line+1, at.Character+1)
	}
	c.settle()
	for u, ds := range c.published() {
		for _, d := range ds {
			if strings.Contains(message(d), "SECRET") {
				t.Errorf("%s: a diagnostic shows the host file: %s", u, message(d))
			}
		}
	}
}

func message(d protocol.Diagnostic) string {
	if s, ok := d.Message.(protocol.String); ok {
		return string(s)
	}
	return ""
}

// A buffer nested deep enough to overflow the parser's stack gets a
// diagnostic where the limit is crossed, and the server goes on serving.
func TestDeepNestingIsADiagnostic(t *testing.T) {
	root := t.TempDir()
	c := startServer(t, root)
	text := "journey \"j\" {\n  description = " + strings.Repeat("(", 70_000) + "\"a\"" + strings.Repeat(")", 70_000) + "\n}\n"
	c.open("deep.journey.hcl", text)
	diags := c.waitFor("deep.journey.hcl", func(ds []protocol.Diagnostic) bool { return len(ds) > 0 })
	if len(diags) != 1 || !strings.HasPrefix(message(diags[0]), "Nested too deep") {
		t.Fatalf("diagnostics %v; want Nested too deep", diags)
	}
	if at := diags[0].Range.Start; at.Line != 1 || at.Character != 143 {
		t.Errorf("at %d:%d, want 2:144", at.Line+1, at.Character+1)
	}
	// Still serving: a fixed buffer is checked.
	c.replace("deep.journey.hcl", 0, len(text), "journey \"j\" {\n  stage \"s\" { goto = stage.nope }\n}\n")
	c.waitFor("deep.journey.hcl", func(ds []protocol.Diagnostic) bool {
		for _, d := range ds {
			if strings.Contains(message(d), `no stage named "nope"`) {
				return true
			}
		}
		return false
	})
}
