package lsp_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/internal/testtool"
)

// A real editor drives the server: headless Neovim, configured with
// testdata/nvim/init.lua (the setup lsp/README.md gives), opens a journey
// file with a misspelled stage, shows the server's diagnostic, completes
// after `stage.`, hovers a reference, and clears the diagnostic when the
// buffer is fixed. testdata/nvim/drive.lua does the typing.
func TestNeovim(t *testing.T) {
	nvim := testtool.Require(t, "nvim", "neovim")
	root := t.TempDir()
	files := map[string]string{
		"schema.journey.hcl": `event "order_completed" {}
event "device_activated" {}

channel "email" {
  type = "smtp"
  from = "Care <care@example.com>"
}

policy "marketing" {
  quiet_hours = "21:00-08:00"
}
`,
		"phone.journey.hcl": `journey "phone_activation" {
  policy = policy.marketing
  entry "order_completed" {}
  goal "device_activated" {}

  stage "guide" {
    send "guide" {
      channel = channel.email
      to      = customer.email
      subject = "Welcome"
      body    = "Hello"
    }
    after "2d" { goto = stage.chek }
  }

  stage "check" {
    on "device_activated" { goto = end }
  }
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	init, _ := filepath.Abs("testdata/nvim/init.lua")
	drive, _ := filepath.Abs("testdata/nvim/drive.lua")
	out := filepath.Join(t.TempDir(), "out.json")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "-n", "-i", "NONE", "--noplugin", "-u", init,
		filepath.Join(root, "phone.journey.hcl"), "-c", "luafile "+drive)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "WAYMARK="+waymarkBin, "OUT="+out,
		"XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home, "XDG_STATE_HOME="+home, "XDG_CACHE_HOME="+home)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nvim: %v\n%s", err, output)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("nvim wrote no result: %v", err)
	}
	var got struct {
		Steps []struct {
			Name string
			OK   bool
		}
		Error       string
		Diagnostics []struct {
			Line, Col, End_col, Severity int
			Message                      string
		}
		Completion []string
		Hover      string
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	t.Logf("Neovim saw: %s", data)
	if got.Error != "" {
		t.Fatalf("the Lua driver failed: %s", got.Error)
	}
	for _, s := range got.Steps {
		if !s.OK {
			t.Fatalf("step %q timed out", s.Name)
		}
	}
	if len(got.Steps) != 3 {
		t.Fatalf("the driver stopped early: %+v", got.Steps)
	}
	if len(got.Diagnostics) != 1 || !strings.Contains(got.Diagnostics[0].Message, `no stage named "chek". Did you mean "check"?`) {
		t.Errorf("diagnostics: %+v, want the unknown stage", got.Diagnostics)
	} else if d := got.Diagnostics[0]; d.Line != 12 || d.Col != 30 || d.End_col != 34 {
		t.Errorf("the diagnostic is at %d:%d-%d, want 12:30-34 (the name chek)", d.Line, d.Col, d.End_col)
	}
	if !slices.Equal(got.Completion, []string{"guide", "check"}) {
		t.Errorf("completion after stage.: %v, want [guide check]", got.Completion)
	}
	if !strings.Contains(got.Hover, "**channel** `email`, type `smtp`") {
		t.Errorf("hover on channel.email: %q", got.Hover)
	}
}
