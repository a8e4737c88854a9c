package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/waymark-dev/waymark/internal/testtool"
)

// SmallDisk mounts a tmpfs of size bytes in a temporary directory: a real
// file system that really fills, for tests of a full disk. It needs root
// (CAP_SYS_ADMIN) and mount(8): without them the test is skipped with a
// message, and fails in CI (internal/testtool).
func SmallDisk(t testing.TB, size int) string {
	t.Helper()
	mount := testtool.Require(t, "mount", "mount")
	dir := t.TempDir()
	out, err := exec.Command(mount, "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a small tmpfs for a real full disk (it needs root): %v: %s", err, out)
		if testtool.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// FillDisk writes a file in dir until the file system has only leave
// bytes free (or none), and returns its path: remove it to free the space.
func FillDisk(t testing.TB, dir string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := free - leave; n > 0 {
		if _, err := f.Write(make([]byte, n)); err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatal(err)
		}
	}
	return path
}
