package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require returns the path of the program name, or ends the test: a
// failure in CI, a skip elsewhere. debianPackage names what to install.
func Require(t testing.TB, name, debianPackage string) string {
	t.Helper()
	return require(t, name, debianPackage, InCI(), exec.LookPath)
}

// InCI reports whether the tests run in CI, where every tool must be there:
// CI is set to anything but "", "0" or "false" (runtime/store/postgres/pgtest
// reads it the same way).
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

func require(t testing.TB, name, debianPackage string, ci bool, lookPath func(string) (string, error)) string {
	t.Helper()
	path, err := lookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not on PATH: install Debian's %s package to run this test (.ci/run does)", name, debianPackage)
	if ci {
		t.Fatalf("%s; CI=true, so a missing tool is a failure, not a skip", msg)
	}
	t.Skip(msg)
	return ""
}
