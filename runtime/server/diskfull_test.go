package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/pebble"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// lockedBuffer is a log destination the server's and the worker's
// goroutines write to at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// On a real full disk each store refuses writes: ingest answers 503 with
// Retry-After (the process does not die: Pebble's commit error was fatal),
// /healthz says the store cannot write, the log has one line of each kind,
// not one per request, and everything recovers once there is space.
func TestFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(dir string) (store.Store, error)
	}{
		{"sqlite", func(dir string) (store.Store, error) { return sqlite.Open(filepath.Join(dir, "waymark.db")) }},
		{"pebble", func(dir string) (store.Store, error) { return pebble.Open(filepath.Join(dir, "db")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := storetest.SmallDisk(t, 4<<20)
			var logs lockedBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			h := newHarness(t, Options{Logger: log}, withWorkerLogger(log), withStore(func(t testing.TB) store.Store {
				s, err := tc.open(disk)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}))
			testFullDisk(t, h, disk, &logs)
		})
	}
}

func testFullDisk(t *testing.T, h *harness, disk string, logs *lockedBuffer) {
	// Events large enough that each needs new pages: SQLite writes small
	// ones into WAL space it already has, full disk or not.
	pad := strings.Repeat("x", 16<<10)
	track := func(i int) response {
		return h.post("/v1/track", fmt.Sprintf(`{"userId":"u%d","event":"signed_up","messageId":"m%d","properties":{"pad":%q}}`, i, i, pad))
	}
	h.mustPost("/v1/track", `{"userId":"u0","event":"signed_up","messageId":"m0"}`)

	filler := storetest.FillDisk(t, disk, 0)
	// SQLite first fills the WAL space it already has.
	first := 1
	for ; first < 500 && track(first).code == 200; first++ {
	}
	const refused = 30
	for i := first; i < first+refused; i++ {
		r := track(i)
		if r.code != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("POST /v1/track on a full disk: %d (Retry-After %q) %s; want 503 with Retry-After", r.code, r.header.Get("Retry-After"), r.body)
		}
		if i == first && !strings.Contains(string(r.body), "disk is full") {
			t.Errorf("the 503 does not say the disk is full: %s", r.body)
		}
	}
	r := h.get("/healthz")
	if r.code != 503 || string(bytes.TrimSpace(r.body)) != `{"failing":"store writes","status":"unavailable"}` {
		t.Errorf("GET /healthz on a full disk: %d %s", r.code, r.body)
	}
	for _, line := range []string{"ingest not committed", "commit failed"} {
		if n := logs.count(line); n != 1 {
			t.Errorf("%d log lines %q for %d refused requests; want 1 an interval", n, line, refused)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.get("/healthz").code != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not recover once the disk had space")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.mustPost("/v1/track", `{"userId":"u99","event":"signed_up","messageId":"m99"}`)
	if r := h.get("/v1/customers/u99"); r.code != 200 {
		t.Errorf("the event after recovery: %d %s", r.code, r.body)
	}
}
