package storelock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store"
)

// TestMain doubles as the other process: with STORELOCK_HOLD set, the test
// binary takes the lock, says so, and holds it until its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv("STORELOCK_HOLD"); path != "" {
		l, err := Acquire(path, "held")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		l.Unlock()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waymark.db-lock")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "STORELOCK_HOLD="+path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("the holder said %q", line)
	}

	_, err = Acquire(path, "./waymark.db")
	var inUse *InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, store.ErrInUse) {
		t.Fatalf("Acquire while another process holds the lock: %v; want an *InUseError", err)
	}
	want := fmt.Sprintf("store ./waymark.db is in use by another waymark process (pid %d); stop it or use another --store", cmd.Process.Pid)
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}

	// The holder goes: the lock is free.
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	l, err := Acquire(path, "./waymark.db")
	if err != nil {
		t.Fatalf("Acquire after the holder exited: %v", err)
	}
	if got, _ := os.ReadFile(path); strings.TrimSpace(string(got)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid %d", got, os.Getpid())
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// A holder that died without Unlock (killed) leaves its pid in the file:
// the kernel released the lock, and the next Acquire takes it.
func TestStalePID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(path, "s")
	if err != nil {
		t.Fatalf("Acquire over a stale pid: %v", err)
	}
	defer l.Unlock()
	if got, _ := os.ReadFile(path); strings.TrimSpace(string(got)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid %d", got, os.Getpid())
	}
}
