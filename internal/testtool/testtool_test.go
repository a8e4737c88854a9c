package testtool

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how the test would end instead of
// ending it, so that Require's decision can be checked. Fatalf and Skip
// stop the goroutine like the real ones, which callers rely on.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func TestRequire(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/nvim", nil }
	missing := func(name string) (string, error) { return "", &exec.Error{Name: name, Err: exec.ErrNotFound} }
	tests := []struct {
		name          string
		ci            bool
		look          func(string) (string, error)
		path          string
		failed, skips bool
	}{
		{"found locally", false, found, "/usr/bin/nvim", false, false},
		{"found in CI", true, found, "/usr/bin/nvim", false, false},
		{"missing locally skips", false, missing, "", false, true},
		{"missing in CI fails", true, missing, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			var path string
			done := make(chan struct{})
			go func() {
				defer close(done)
				path = require(r, "nvim", "neovim", tt.ci, tt.look)
			}()
			<-done
			if path != tt.path || r.failed != tt.failed || r.skipped != tt.skips {
				t.Fatalf("path %q failed %v skipped %v, want %q %v %v", path, r.failed, r.skipped, tt.path, tt.failed, tt.skips)
			}
			if (r.failed || r.skipped) && !strings.Contains(r.msg, "install Debian's neovim package") {
				t.Errorf("message %q does not say what to install", r.msg)
			}
			if r.failed && !strings.Contains(r.msg, "CI=true") {
				t.Errorf("failure %q does not say why a missing tool fails", r.msg)
			}
		})
	}
}

func TestInCI(t *testing.T) {
	for _, v := range []struct {
		env  string
		want bool
	}{{"true", true}, {"1", true}, {"TRUE", true}, {"", false}, {"0", false}, {"false", false}, {"False", false}} {
		t.Setenv("CI", v.env)
		if got := InCI(); got != v.want {
			t.Errorf("CI=%q: InCI() = %v, want %v", v.env, got, v.want)
		}
	}
}
