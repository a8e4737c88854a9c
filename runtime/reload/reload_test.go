package reload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

const schema = `
channel "log" {
  type = "log"
}

policy "gentle" {
  frequency_cap = "5 per 1d"
}

customer {
  trait "pings" { type = number }
}

event "signed_up" {}
event "ping" {}
event "park" {}
event "unpark" {}
event "ordered" {}
`

// v1 has a parked stage; v2 removes it and changes count's timer.
const v1 = `
journey "welcome" {
  policy  = policy.gentle
  reentry = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "count" {
    on "ping" { goto = stage.bump }
    on "park" { goto = stage.parked }
    after "30d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    goto = stage.count
  }

  stage "parked" {
    on "unpark" { goto = stage.count }
  }
}
`

const v2 = `
journey "welcome" {
  policy  = policy.gentle
  reentry = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "count" {
    on "ping" { goto = stage.bump }
    after "60d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    goto = stage.count
  }
}
`

type rig struct {
	t     *testing.T
	dir   string
	st    *sqlite.Store
	w     *worker.Worker
	swaps *atomic.Int32 // calls of the reloader to Worker.Swap
	r     *Reloader
	log   *logBuffer // what the reloader and the worker logged, as JSON lines
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// Through a rename, as editors save: the watcher must see it.
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects log output; it is written by the reloader's and the
// worker's goroutines while the test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// countingWorker counts the swaps the reloader makes.
type countingWorker struct {
	*worker.Worker
	swaps atomic.Int32
}

func (w *countingWorker) Swap(eng *engine.Engine) {
	w.swaps.Add(1)
	w.Worker.Swap(eng)
}

// newRig starts a worker and a reloader (watching) on a workspace holding
// journey, with a SQLite store in a temporary directory.
func newRig(t *testing.T, journey string, opts Options) *rig {
	t.Helper()
	return newRigFiles(t, map[string]string{"schema.journey.hcl": schema, "welcome.journey.hcl": journey}, opts)
}

// newRigFiles is newRig on a workspace holding files (name: content).
func newRigFiles(t *testing.T, files map[string]string, opts Options) *rig {
	t.Helper()
	return newRigEditedBeforeRun(t, files, opts, nil)
}

// newRigEditedBeforeRun is newRigFiles calling edit (when not nil) with
// the workspace's directory after the program is loaded and before the
// reloader runs.
func newRigEditedBeforeRun(t *testing.T, files map[string]string, opts Options, edit func(dir string)) *rig {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		write(t, filepath.Join(dir, name), content)
	}
	p, diags, err := Load(dir, engine.Options{})
	if err != nil || p == nil {
		t.Fatalf("load: %v %s", err, diags.Error())
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), st, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The reloader counts the migrations the worker commits.
	var observer atomic.Pointer[Reloader]
	w := worker.New(st, p.Engine, worker.Options{Logger: log, OnCommit: func(b *store.Batch) {
		if r := observer.Load(); r != nil {
			r.Observe(b)
		}
	}})
	cw := &countingWorker{Worker: w}
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	opts.Logger = log
	r := New(dir, st, cw, p, opts)
	observer.Store(r)
	if edit != nil {
		edit(dir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wDone, rDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(wDone); w.Run(ctx) }()
	rctx, rcancel := context.WithCancel(context.Background())
	go func() { defer close(rDone); r.Run(rctx) }()
	t.Cleanup(func() {
		rcancel()
		<-rDone
		cancel()
		<-wDone
		st.Close()
	})
	// Run adds the watches before it logs this.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"watching the workspace for changes"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the reloader did not start watching; log:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &rig{t: t, dir: dir, st: st, w: w, swaps: &cw.swaps, r: r, log: logs}
}

func (g *rig) submit(id string, events ...string) {
	g.t.Helper()
	items := make([]worker.Item, len(events))
	for i, ev := range events {
		items[i] = worker.Item{CustomerID: id, Input: engine.Input{Kind: engine.KindEvent, Event: ev}}
	}
	if err := g.w.Submit(context.Background(), items); err != nil {
		g.t.Fatal(err)
	}
}

func (g *rig) customer(id string) *engine.Customer {
	g.t.Helper()
	c, err := g.st.Customer(context.Background(), id)
	if err != nil {
		g.t.Fatal(err)
	}
	return c
}

// waitStatus polls the status until cond holds.
func (g *rig) waitStatus(what string, cond func(Status) bool) Status {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := g.r.Status()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(s, "", "  ")
			g.t.Fatalf("timed out waiting for %s; status:\n%s", what, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReloadMigratesByStageName(t *testing.T) {
	g := newRig(t, v1, Options{})
	g.submit("c1", "signed_up", "ping")
	g.submit("c2", "signed_up", "park")
	old := g.r.Status()
	oldJourney := old.Journeys[0].Version

	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), v2)
	s := g.waitStatus("the new program and its migration", func(s Status) bool {
		return s.Version != old.Version && s.Migration != nil && !s.Migration.Finished.IsZero()
	})
	if s.Reloads != 1 || s.Refused != nil || s.LastReload.IsZero() || s.Migration.Woken != 2 || s.Migration.Error != "" {
		t.Errorf("status after the reload: %+v, migration %+v", s, s.Migration)
	}
	// In /v1/status, last_reload holds what the reload's migration did.
	var doc struct {
		LastReload struct {
			At        time.Time `json:"at"`
			Version   string    `json:"version"`
			Migration struct {
				Woken   int `json:"woken"`
				Summary struct {
					InFlight int `json:"in_flight"`
					Stay     int `json:"stay"`
					Exited   int `json:"exited"`
				} `json:"summary"`
			} `json:"migration"`
		} `json:"last_reload"`
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	lr := doc.LastReload
	if !lr.At.Equal(s.LastReload) || lr.Version != s.Version || lr.Migration.Woken != 2 ||
		lr.Migration.Summary.InFlight != 2 || lr.Migration.Summary.Stay != 1 || lr.Migration.Summary.Exited != 1 {
		t.Errorf("last_reload in the status document: %s", raw)
	}
	newJourney := s.Journeys[0].Version
	if newJourney == oldJourney {
		t.Fatal("the journey version did not change")
	}
	if g.w.Engine() == nil || g.w.Engine().Program().Journey("welcome").Version != newJourney {
		t.Error("the worker does not run the new program")
	}
	progs, err := g.st.Programs(context.Background())
	if err != nil || len(progs) != 2 || progs[0].Hash != s.Version {
		t.Errorf("stored programs: %v %v", len(progs), err)
	}

	// c1 stays in count, on the new version, with the new timer.
	c1 := g.customer("c1").Instance("welcome")
	if c1.Status != engine.StatusActive || c1.Stage != "count" || c1.Version != newJourney {
		t.Errorf("c1 = %+v", c1)
	}
	if len(c1.Waits) != 1 || c1.Waits[0].Due.Sub(c1.StageEnteredAt) != 60*24*time.Hour {
		t.Errorf("c1's timer was not recomputed: %+v", c1.Waits)
	}
	// c2 was in the removed stage: it ended exited, stage_removed.
	c2 := g.customer("c2").Instance("welcome")
	if c2.Status != engine.StatusExited || c2.Cause != "stage_removed" {
		t.Errorf("c2 = %+v", c2)
	}
	trs, err := g.st.Transitions(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if last := trs[len(trs)-1]; last.Cause != "migrate" || last.From != "count" || last.To != "count" || last.Version != newJourney {
		t.Errorf("c1's last transition = %+v", last)
	}
	// Events keep flowing on the new program.
	g.submit("c1", "ping")
	if got := g.customer("c1").Traits["pings"]; got != float64(2) {
		t.Errorf("pings = %v, want 2", got)
	}
}

func TestReloadRefusesABrokenEdit(t *testing.T) {
	g := newRig(t, v1, Options{})
	before := g.r.Status()
	broken := strings.Replace(v1, "goto = stage.parked", "goto = stage.parkd", 1)
	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), broken)
	s := g.waitStatus("the refusal", func(s Status) bool { return s.Refused != nil })
	if s.Version != before.Version || s.Reloads != 0 || s.Refusals != 1 {
		t.Errorf("status: %+v", s)
	}
	if s.Refused.Errors != 1 || !strings.Contains(string(s.Refused.Diagnostics), `"summary": "Unknown stage"`) ||
		!strings.Contains(string(s.Refused.Diagnostics), `"file": "welcome.journey.hcl"`) {
		t.Errorf("refused: %+v\n%s", s.Refused, s.Refused.Diagnostics)
	}
	// The running program keeps serving.
	g.submit("c1", "signed_up", "park")
	if in := g.customer("c1").Instance("welcome"); in.Stage != "parked" {
		t.Errorf("c1 = %+v", in)
	}
	// Undoing the edit clears the refusal without a reload: the files are
	// what runs.
	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), v1)
	s = g.waitStatus("the refusal to clear", func(s Status) bool { return s.Refused == nil })
	if s.Version != before.Version || s.Reloads != 0 {
		t.Errorf("status: %+v", s)
	}
}

// Edits from a hostile pull request are refused like any broken edit, and
// the running program keeps serving: nesting deep enough to overflow the
// parser's stack (before the nesting check, a fatal error that ended the
// process), and a journey file linked to a file outside the workspace.
func TestReloadRefusesHostileEdits(t *testing.T) {
	tests := []struct {
		name, summary string
		edit          func(t *testing.T, dir string)
	}{
		{"deep nesting", "Nested too deep", func(t *testing.T, dir string) {
			deep := strings.Replace(v1, `reentry = "never"`,
				`description = `+strings.Repeat("(", 70_000)+`"a"`+strings.Repeat(")", 70_000)+"\n  reentry = \"never\"", 1)
			write(t, filepath.Join(dir, "welcome.journey.hcl"), deep)
		}},
		{"symlink out", "File outside the workspace", func(t *testing.T, dir string) {
			host := filepath.Join(t.TempDir(), "passwd")
			if err := os.WriteFile(host, []byte("journey \"SECRET\" {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(host, filepath.Join(dir, "leak.journey.hcl")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newRig(t, v1, Options{})
			before := g.r.Status()
			tt.edit(t, g.dir)
			s := g.waitStatus("the refusal", func(s Status) bool { return s.Refused != nil })
			if s.Version != before.Version || s.Reloads != 0 {
				t.Errorf("status: %+v", s)
			}
			diags := string(s.Refused.Diagnostics)
			if !strings.Contains(diags, `"summary": "`+tt.summary+`"`) || strings.Contains(diags, "SECRET") {
				t.Errorf("refused: %+v\n%s", s.Refused, diags)
			}
			g.submit("c1", "signed_up", "park")
			if in := g.customer("c1").Instance("welcome"); in.Stage != "parked" {
				t.Errorf("c1 = %+v", in)
			}
		})
	}
}

// A journey in a directory created after the watch started is picked up.
// An edit made after the program was loaded but before the watches began
// (a deploy writing files while the process starts) is picked up: it
// raised no event, so Run checks the workspace once it watches.
func TestReloadSeesAnEditBeforeTheWatch(t *testing.T) {
	files := map[string]string{"schema.journey.hcl": schema, "welcome.journey.hcl": v1}
	g := newRigEditedBeforeRun(t, files, Options{}, func(dir string) {
		write(t, filepath.Join(dir, "welcome.journey.hcl"), v2)
	})
	other := t.TempDir()
	write(t, filepath.Join(other, "schema.journey.hcl"), schema)
	write(t, filepath.Join(other, "welcome.journey.hcl"), v2)
	edited, diags, err := Load(other, engine.Options{})
	if err != nil || edited == nil {
		t.Fatalf("load: %v %s", err, diags.Error())
	}
	g.waitStatus("the edit installed", func(s Status) bool { return s.Version == edited.Version })
}

func TestReloadWatchesNewDirectories(t *testing.T) {
	g := newRig(t, v1, Options{})
	extra := strings.ReplaceAll(strings.ReplaceAll(v2, `journey "welcome"`, `journey "second"`), "pings", "pings")
	if err := os.Mkdir(filepath.Join(g.dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the new directory's watch is added
	write(t, filepath.Join(g.dir, "more", "second.journey.hcl"), extra)
	g.waitStatus("the second journey", func(s Status) bool { return len(s.Journeys) == 2 })
	// The journeys already running did not change: no wake pass.
	if s := g.r.Status(); s.Migration != nil {
		t.Errorf("a reload that changed no running journey woke customers: %+v", s.Migration)
	}
}

// A workspace moved away and back (a deploy's `mv new current`, a restore)
// is watched again: the error of the missing directory clears, and later
// edits reload. fsnotify drops the watch of a directory that moves.
func TestReloadRewatchesAMovedWorkspace(t *testing.T) {
	g := newRig(t, v1, Options{Rewatch: 50 * time.Millisecond})
	before := g.r.Status()
	away := g.dir + ".away"
	if err := os.Rename(g.dir, away); err != nil {
		t.Fatal(err)
	}
	g.waitStatus("the refusal of the missing workspace", func(s Status) bool { return s.Refused != nil })
	if err := os.Rename(away, g.dir); err != nil {
		t.Fatal(err)
	}
	g.waitStatus("the refusal to clear once the workspace is back", func(s Status) bool { return s.Refused == nil })
	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), v2)
	s := g.waitStatus("the edit after the move back", func(s Status) bool { return s.Version != before.Version })
	if s.Reloads != 1 || s.Refused != nil {
		t.Errorf("status: %+v", s)
	}
	if !strings.Contains(g.log.String(), `"msg":"watching the workspace again"`) {
		t.Errorf("no log of the watch coming back:\n%s", g.log)
	}
}

// Changes to hidden files and editor backups are not reloads.
func TestIgnored(t *testing.T) {
	for path, want := range map[string]bool{
		"/ws/a.journey.hcl":         false,
		"/ws/templates/x.html":      false,
		"/ws/.git/index":            true,
		"/ws/.a.journey.hcl.swp":    true,
		"/ws/a.journey.hcl~":        true,
		"/ws/sub/.hidden/x":         true,
		"/ws/a.journey.hcl.tmp~":    true,
		"/ws/sub/b.journeytest.hcl": false,
	} {
		if got := ignored("/ws", path); got != want {
			t.Errorf("ignored(%q) = %v, want %v", path, got, want)
		}
	}
}

// A program whose other parts cannot be prepared (Options.Prepare: the
// channels) is refused, and the running one keeps serving.
func TestReloadPrepareRefuses(t *testing.T) {
	applied := false
	g := newRig(t, v1, Options{Prepare: func(p *Program) (func(), error) {
		if p.IR.Journey("welcome").Stage("parked") == nil {
			return nil, errors.New(`channel "log": no`)
		}
		return func() { applied = true }, nil
	}})
	before := g.r.Status()
	write(t, filepath.Join(g.dir, "welcome.journey.hcl"), v2)
	s := g.waitStatus("the refusal", func(s Status) bool { return s.Refused != nil })
	if s.Version != before.Version || !strings.Contains(s.Refused.Error, `channel "log": no`) || applied {
		t.Errorf("status: %+v %+v", s, s.Refused)
	}
}

// Install tells a start on a store that last ran other journey versions,
// so that the active customers are woken to migrate.
func TestInstallReportsAMigration(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "schema.journey.hcl"), schema)
	write(t, filepath.Join(dir, "welcome.journey.hcl"), v1)
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	load := func() *Program {
		p, diags, err := Load(dir, engine.Options{})
		if p == nil {
			t.Fatalf("%v %s", err, diags.Error())
		}
		return p
	}
	install := func(p *Program, at time.Time) bool {
		m, err := Install(ctx, st, p, at)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	t0 := time.Now()
	if install(load(), t0) {
		t.Error("first start: a migration on an empty store")
	}
	if install(load(), t0.Add(time.Second)) {
		t.Error("same program: a migration")
	}
	// A comment changes ranges, not journey versions.
	write(t, filepath.Join(dir, "welcome.journey.hcl"), "# moved\n"+v1)
	if install(load(), t0.Add(2*time.Second)) {
		t.Error("only ranges changed: a migration")
	}
	write(t, filepath.Join(dir, "welcome.journey.hcl"), v2)
	if !install(load(), t0.Add(3*time.Second)) {
		t.Error("a changed journey: no migration")
	}
	var _ store.Store = st
}

// A burst of changes is one compile: every change restarts the debounce
// timer, so the workspace is compiled once, after the last change.
//
// Every write leaves the workspace in a state it was never in before (a
// new timer, a new file, an error), so every compile, wherever it fell in
// the burst, would count: a good state it saw would be swapped in (a
// reload and a swap), a broken one refused (a refusal). One compile after
// the last write is exactly one reload and one swap, and no refusal.
func TestReloadDebounces(t *testing.T) {
	second := strings.ReplaceAll(v2, `journey "welcome"`, `journey "second"`)
	for _, tc := range []struct {
		name     string
		debounce time.Duration
		writes   int
		gap      time.Duration // between two writes
	}{
		// A save-all, or a checkout: writes a few ms apart.
		{name: "burst", debounce: 300 * time.Millisecond, writes: 8, gap: 5 * time.Millisecond},
		// Changes that go on for longer than the interval, never pausing
		// as long: still one compile, after the last (a timer started by
		// the first change rather than restarted by each would compile
		// midway).
		{name: "longer than the interval", debounce: 500 * time.Millisecond, writes: 14, gap: 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, v1, Options{Debounce: tc.debounce})
			before := g.r.Status()
			type step struct{ file, content string }
			var steps []step
			for i := 0; i < tc.writes-2; i++ {
				// Alternately welcome's timer and a second journey
				// (created by the first such write), each time a new one.
				after := fmt.Sprintf(`after "%dd"`, 31+i)
				if i%2 == 0 {
					steps = append(steps, step{"welcome.journey.hcl", strings.Replace(v1, `after "30d"`, after, 1)})
				} else {
					steps = append(steps, step{"second.journey.hcl", strings.Replace(second, `after "60d"`, after, 1)})
				}
			}
			steps = append(steps,
				step{"welcome.journey.hcl", strings.Replace(v1, "goto = stage.parked", "goto = stage.parkd", 1)},
				step{"welcome.journey.hcl", strings.Replace(v1, `after "30d"`, `after "99d"`, 1)})

			start := time.Now()
			var longest time.Duration
			last := start
			for i, s := range steps {
				if i > 0 {
					time.Sleep(tc.gap)
				}
				write(t, filepath.Join(g.dir, s.file), s.content)
				now := time.Now()
				longest, last = max(longest, now.Sub(last)), now
			}
			took := last.Sub(start)
			if longest >= tc.debounce {
				// The debounce was right to compile midway.
				t.Skipf("the test was stalled for %v between two writes (debounce %v)", longest, tc.debounce)
			}
			t.Logf("%d writes in %v, at most %v apart", len(steps), took, longest)

			p, diags, err := Load(g.dir, engine.Options{})
			if err != nil || p == nil {
				t.Fatalf("the final workspace: %v %s", err, diags.Error())
			}
			if p.Version == before.Version {
				t.Fatal("the burst did not change the program")
			}
			g.waitStatus("the final program", func(s Status) bool { return s.Version == p.Version })
			// Any further compile would come within a debounce of the last
			// event: wait a few, then count.
			time.Sleep(3 * tc.debounce)
			s := g.r.Status()
			if s.Reloads != 1 || s.Refusals != 0 || s.Refused != nil || s.Version != p.Version {
				b, _ := json.MarshalIndent(s, "", "  ")
				t.Errorf("want one reload and no refusal after %d writes; status:\n%s", len(steps), b)
			}
			if n := g.swaps.Load(); n != 1 {
				t.Errorf("%d swaps after %d writes, want 1", n, len(steps))
			}
			if n := strings.Count(g.log.String(), `"msg":"program reloaded"`); n != 1 {
				t.Errorf("%d reloads logged, want 1:\n%s", n, g.log)
			}
		})
	}
}

// channelSchema is schema with a webhook channel set up from the
// environment, its secret included.
const channelSchema = schema + `
channel "hook" {
  type   = "webhook"
  url    = env("WAYMARK_RELOAD_TEST_URL")
  secret = env("WAYMARK_RELOAD_TEST_SECRET")
}
`

// secretValue is the channel's secret: it must never be logged.
const secretValue = "wm-reload-secret-5e1f0c9a7b3d"

// position returns where sub first occurs in src as "LINE:COL" (src is
// ASCII, so a byte is a column); a caret in sub marks the character meant,
// when not the first.
func position(t *testing.T, src, sub string) string {
	t.Helper()
	caret := max(strings.Index(sub, "^"), 0)
	i := strings.Index(src, strings.Replace(sub, "^", "", 1))
	if i < 0 {
		t.Fatalf("%q is not in the source", sub)
	}
	i += caret
	return fmt.Sprintf("%d:%d", strings.Count(src[:i], "\n")+1, i-strings.LastIndex(src[:i], "\n"))
}

// A refused edit is logged, as an error (or a warning), with what is wrong and where:
// the operator watching the log need not run `waymark validate`. Nothing
// logged holds a secret the workspace reads with env().
func TestReloadLogsARefusal(t *testing.T) {
	unknownStage := strings.Replace(v1, "goto = stage.parked", "goto = stage.parkd", 1)
	syntax := strings.Replace(v1, `on "unpark" { goto = stage.count }`, `on "unpark" { goto = }`, 1)
	badSetting := strings.Replace(channelSchema, `secret = env("WAYMARK_RELOAD_TEST_SECRET")`, `secret = env(WAYMARK_RELOAD_TEST_SECRET)`, 1)
	unsetURL := strings.Replace(channelSchema, `env("WAYMARK_RELOAD_TEST_URL")`, `env("WAYMARK_RELOAD_TEST_UNSET")`, 1)
	for _, tc := range []struct {
		name, file, content string
		msg                 string   // the record's message starts so
		attr                string   // the attribute that says what is wrong
		want                []string // in attr
		errors              int      // the record's count of errors; -1: none
	}{
		{
			name: "unknown stage", file: "welcome.journey.hcl", content: unknownStage,
			msg: "edit refused", attr: "diagnostics", errors: 1,
			want: []string{"welcome.journey.hcl:" + position(t, unknownStage, "stage.^parkd") + ": error: Unknown stage", `no stage named "parkd"`},
		},
		{
			name: "syntax error", file: "welcome.journey.hcl", content: syntax,
			msg: "edit refused", attr: "diagnostics", errors: 1,
			want: []string{"welcome.journey.hcl:" + position(t, syntax, "goto = ^}") + ": error: Invalid expression"},
		},
		{
			name: "channel setting", file: "schema.journey.hcl", content: badSetting,
			msg: "edit refused", attr: "diagnostics", errors: 1,
			want: []string{
				"schema.journey.hcl:" + position(t, badSetting, "WAYMARK_RELOAD_TEST_SECRET)") + ": error: Unknown variable",
				`no variable named "WAYMARK_RELOAD_TEST_SECRET"`,
			},
		},
		{
			// The workspace compiles, but its channels cannot be set up
			// (Options.Prepare, as `waymark run` does it): the secret was
			// read this time.
			name: "channel setup", file: "schema.journey.hcl", content: unsetURL,
			msg: "reload failed", attr: "err", errors: -1,
			want: []string{
				`schema.journey.hcl:` + position(t, unsetURL, `env("WAYMARK_RELOAD_TEST_UNSET")`) + `: channel "hook" setting url: `,
				"WAYMARK_RELOAD_TEST_UNSET is not set",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WAYMARK_RELOAD_TEST_URL", "https://hooks.example.com/in")
			t.Setenv("WAYMARK_RELOAD_TEST_SECRET", secretValue)
			g := newRigFiles(t, map[string]string{"schema.journey.hcl": channelSchema, "welcome.journey.hcl": v1}, Options{
				Prepare: func(p *Program) (func(), error) {
					if _, err := deliver.Setup(p.IR, os.LookupEnv, deliver.Live); err != nil {
						return nil, fmt.Errorf("channels: %w", err)
					}
					return nil, nil
				},
			})
			write(t, filepath.Join(g.dir, tc.file), tc.content)
			s := g.waitStatus("the refusal", func(s Status) bool { return s.Refused != nil })
			logged := g.log.String()

			var found []map[string]any
			for line := range strings.Lines(logged) {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("a log line is not JSON: %v\n%s", err, line)
				}
				if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, tc.msg) {
					found = append(found, rec)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d records %q..., want 1; log:\n%s", len(found), tc.msg, logged)
			}
			rec := found[0]
			if lv := rec["level"]; lv != slog.LevelError.String() && lv != slog.LevelWarn.String() {
				t.Errorf("logged at level %v, want ERROR or WARN", lv)
			}
			text, _ := rec[tc.attr].(string)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s = %q\nwant it to contain %q", tc.attr, text, w)
				}
			}
			if tc.errors >= 0 {
				if n, _ := rec["errors"].(float64); int(n) != tc.errors || s.Refused.Errors != tc.errors {
					t.Errorf("errors: logged %v, status %d, want %d", rec["errors"], s.Refused.Errors, tc.errors)
				}
			}
			if strings.Contains(logged, secretValue) {
				t.Errorf("the log holds the secret:\n%s", logged)
			}
			if b, _ := json.Marshal(s); bytes.Contains(b, []byte(secretValue)) {
				t.Errorf("the status holds the secret:\n%s", b)
			}
			t.Logf("%s: %s", tc.attr, text)
		})
	}
}
