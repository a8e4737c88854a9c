package reload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/report"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Worker is what the reloader needs of the worker (*worker.Worker).
type Worker interface {
	// Swap makes every batch after it run on eng: a batch runs entirely on
	// one engine, and ingest keeps flowing through the same worker.
	Swap(eng *engine.Engine)
	// Submit returns once the commit holding the items is durable.
	Submit(ctx context.Context, items []worker.Item) error
}

// Options tune a Reloader. The zero value is usable.
type Options struct {
	// Engine is what every program's engine is built with (the default
	// time zone, bounds).
	Engine engine.Options
	// Debounce is how long the workspace must be quiet after a change
	// before it is compiled (default 200ms): an editor's save, or a git
	// checkout touching ten files, is one reload.
	Debounce time.Duration
	// PageSize is how many active customers are woken per commit after a
	// swap (default 1000).
	PageSize int
	// WakeOnStart wakes every active customer when Run starts: the store
	// last ran another program (Install says so).
	WakeOnStart bool
	// Prepare, when set, is called for every good program before it is
	// installed, for the parts that hold something of the program besides
	// the engine (the delivery channels). An error refuses the program as
	// a workspace error would (a channel whose env() variable is unset);
	// otherwise apply, when not nil, is called right after the swap.
	Prepare func(p *Program) (apply func(), err error)
	// Rewatch is how often Run checks that the workspace directory itself
	// is still watched (default 1s). fsnotify drops the watch of a
	// directory that is moved or deleted; when the directory is back
	// (moved back, recreated), Run watches it again and reloads.
	Rewatch time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Reloader watches a workspace and swaps in every good program.
type Reloader struct {
	dir  string
	st   store.Store
	w    Worker
	opts Options
	log  *slog.Logger

	reloadMu sync.Mutex // one Reload or wake pass at a time

	mu      sync.Mutex // guards cur and status
	cur     *Program
	status  Status
	pending bool // a wake pass is owed (WakeOnStart, or one that failed)

	acctMu sync.Mutex // guards acct; Observe takes it on the worker's commit path
	acct   *account   // the latest reload's count of its migrations
}

// Status is what GET /v1/status shows. Field names are part of the admin
// API: add fields, never rename or remove them.
type Status struct {
	Workspace string `json:"workspace"`
	// Version is the running program's version (its IR hash).
	Version  string           `json:"version"`
	Journeys []JourneyVersion `json:"journeys"`
	// Started is when the process started running a program; LastReload
	// is when the running program was swapped in (zero: none since start).
	// In JSON, last_reload is an object (see MarshalJSON) holding this
	// time, the version swapped in and what its migration did.
	Started    time.Time `json:"started"`
	LastReload time.Time `json:"-"`
	// LastCheck is when the workspace was last compiled after a change,
	// whatever came of it.
	LastCheck time.Time `json:"last_check,omitzero"`
	Reloads   int       `json:"reloads"`  // programs swapped in since start
	Refusals  int       `json:"refusals"` // edits refused since start
	// Refused describes the workspace on disk when it cannot be run: the
	// running program is older than the files. Null when the files on disk
	// are what runs.
	Refused *Refused `json:"refused"`
	// Migration is the latest wake pass, which moves active customers to
	// the new journey versions.
	Migration *Migration `json:"migration,omitempty"`
}

// LastReload is last_reload in GET /v1/status: the latest program swapped
// in since start, and what its migration did to the customers in flight
// (the same document as migration, once the wake pass of that reload has
// started; a start-up wake pass is no reload and shows only as migration).
type LastReload struct {
	At        time.Time  `json:"at"`
	Version   string     `json:"version"`
	Migration *Migration `json:"migration,omitempty"`
}

// MarshalJSON writes the status with last_reload as a LastReload object.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status // without the method, so no recursion
	doc := struct {
		plain
		LastReload *LastReload `json:"last_reload,omitempty"`
	}{plain: plain(s)}
	if !s.LastReload.IsZero() {
		doc.LastReload = &LastReload{At: s.LastReload, Version: s.Version}
		if s.Migration != nil && s.Migration.Version == s.Version {
			doc.LastReload.Migration = s.Migration
		}
	}
	return json.Marshal(doc)
}

// UnmarshalJSON reads what MarshalJSON writes, for clients of the admin
// API that decode the document into a Status.
func (s *Status) UnmarshalJSON(b []byte) error {
	type plain Status
	var doc struct {
		*plain
		LastReload *LastReload `json:"last_reload"`
	}
	doc.plain = (*plain)(s)
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	s.LastReload = time.Time{}
	if doc.LastReload != nil {
		s.LastReload = doc.LastReload.At
	}
	return nil
}

// JourneyVersion is a journey of the running program.
type JourneyVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Refused is an edit that was not swapped in.
type Refused struct {
	At time.Time `json:"at"`
	// Errors and Warnings count Diagnostics, which is the list `waymark
	// validate --format json` prints, with workspace-relative paths.
	Errors      int             `json:"errors"`
	Warnings    int             `json:"warnings"`
	Diagnostics json.RawMessage `json:"diagnostics"`
	// Error is set when the workspace compiled but could not be installed
	// (the engine refused it, or the store failed); Diagnostics is then
	// empty. A store failure is retried.
	Error string `json:"error,omitempty"`
}

// Migration is a wake pass.
type Migration struct {
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Woken    int       `json:"woken"` // customers woken so far
	Error    string    `json:"error,omitempty"`
	// Journeys and Summary say what the migration did to the customers in
	// flight, in the shape of a plan (waymark.plan/v1's journeys and
	// summary: per journey and stage, how many stayed, moved, were
	// redirected, left, exited or stay pinned), once the pass is finished.
	// A plan made just before, on the same state, counts the same.
	Journeys []diff.JourneyPlan `json:"journeys,omitempty"`
	Summary  *diff.Summary      `json:"summary,omitempty"`
}

// New returns a reloader for the workspace in dir, where cur is the program
// running now (built by Load, stored by Install, and given to the worker).
func New(dir string, st store.Store, w Worker, cur *Program, opts Options) *Reloader {
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	if opts.Rewatch <= 0 {
		opts.Rewatch = time.Second
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{dir: dir, st: st, w: w, opts: opts, log: opts.Logger, cur: cur, pending: opts.WakeOnStart}
	if opts.WakeOnStart {
		r.acct = newAccount(nil, cur.IR)
	}
	r.status = Status{Workspace: dir, Started: opts.Now().UTC()}
	r.setCurrent(cur)
	return r
}

// setCurrent records p as running; r.mu must not be held.
func (r *Reloader) setCurrent(p *Program) {
	js := make([]JourneyVersion, len(p.IR.Journeys))
	for i, j := range p.IR.Journeys {
		js[i] = JourneyVersion{Name: j.Name, Version: j.Version}
	}
	r.mu.Lock()
	r.cur = p
	r.status.Version, r.status.Journeys = p.Version, js
	r.mu.Unlock()
}

// Current returns the running program.
func (r *Reloader) Current() *Program {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Status returns a copy of the status.
func (r *Reloader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Journeys = append([]JourneyVersion(nil), s.Journeys...)
	if s.Refused != nil {
		rf := *s.Refused
		s.Refused = &rf
	}
	if s.Migration != nil {
		m := *s.Migration
		s.Migration = &m
	}
	return s
}

// ErrRefused is returned by Reload for a workspace that has errors.
var ErrRefused = errors.New("the workspace has errors; the running program keeps serving")

// Reload compiles the workspace and, if it is good and differs from the
// running program, stores it, swaps it into the worker and wakes every
// active customer so that their instances move to the new journey
// versions (see engine.Migrate). It returns ErrRefused for a workspace
// with errors, and other errors for a program that could not be prepared
// or installed (Options.Prepare, the engine, the store): in every case the
// running program keeps serving.
func (r *Reloader) Reload(ctx context.Context) error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	now := r.opts.Now().UTC()
	p, diags, err := Load(r.dir, r.opts.Engine)
	r.mu.Lock()
	r.status.LastCheck = now
	r.mu.Unlock()
	switch {
	case err != nil:
		r.refuse(now, nil, err)
		return err
	case p == nil:
		r.refuse(now, diags, nil)
		return ErrRefused
	}
	old := r.Current()
	if p.Version == old.Version {
		// The files are what runs (an edit undone, a file touched): any
		// earlier refusal no longer describes the disk.
		r.mu.Lock()
		r.status.Refused = nil
		pending := r.pending
		r.mu.Unlock()
		if pending {
			return r.wakeActive(ctx, p.Version)
		}
		return nil
	}
	if err := Pin(ctx, r.st, p, r.opts.Engine, old.known()); err != nil {
		r.refuse(now, nil, err)
		return err
	}
	var apply func()
	if r.opts.Prepare != nil {
		if apply, err = r.opts.Prepare(p); err != nil {
			r.refuse(now, nil, err)
			return err
		}
	}
	if _, err := Install(ctx, r.st, p, now); err != nil {
		r.refuse(now, nil, err)
		return storeError{err}
	}
	// From here every batch the worker starts runs on the new engine;
	// batches already running finish on the old one. Customers not woken
	// below migrate at their next input anyway: Step migrates first thing.
	// Every migration committed from now on is this reload's.
	r.startAccount(old.IR, p.IR)
	r.w.Swap(p.Engine)
	if apply != nil {
		apply()
	}
	r.setCurrent(p)
	r.mu.Lock()
	r.status.LastReload = now
	r.status.Reloads++
	r.status.Refused = nil
	if journeysChanged(old.IR, p.IR) {
		r.pending = true
	}
	pending := r.pending
	r.mu.Unlock()
	r.log.Info("program reloaded", "version", p.Version, "previous", old.Version, "warnings", len(diags))
	if pending {
		return r.wakeActive(ctx, p.Version)
	}
	return nil
}

// refuse records a refused edit: diagnostics of a workspace with errors,
// or err for an install that failed.
func (r *Reloader) refuse(now time.Time, diags hcl.Diagnostics, err error) {
	rf := &Refused{At: now, Diagnostics: json.RawMessage("[]")}
	if err != nil {
		rf.Error = err.Error()
		r.log.Error("reload failed; the running program keeps serving", "err", err)
	} else {
		var buf bytes.Buffer
		// Workspace-relative paths: the status is read far from the
		// server's working directory.
		if (report.Printer{}).JSON(&buf, diags) == nil {
			var doc struct {
				Diagnostics json.RawMessage `json:"diagnostics"`
				Errors      int             `json:"errors"`
				Warnings    int             `json:"warnings"`
			}
			if json.Unmarshal(buf.Bytes(), &doc) == nil {
				rf.Diagnostics, rf.Errors, rf.Warnings = doc.Diagnostics, doc.Errors, doc.Warnings
			}
		}
		p := report.Printer{Root: r.dir}
		var lines []string
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				lines = append(lines, p.Line(d)+": "+d.Detail)
			}
		}
		r.log.Error("edit refused: the workspace has errors; the running program keeps serving",
			"errors", rf.Errors, "warnings", rf.Warnings, "diagnostics", strings.Join(lines, "\n"))
	}
	r.mu.Lock()
	r.status.Refused = rf
	r.status.Refusals++
	r.mu.Unlock()
}

// WakeActive submits a Wake input for every customer with an active
// instance, a page at a time, so that each migrates to the running
// program's journey versions now: their timers are recomputed, and an
// instance whose stage is gone ends (exited, stage_removed) rather than
// waiting for its next event. Each page is one Submit: it returns once
// the page is committed.
func (r *Reloader) WakeActive(ctx context.Context) error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	return r.wakeActive(ctx, r.Current().Version)
}

func (r *Reloader) wakeActive(ctx context.Context, version string) error {
	m := &Migration{Version: version, Started: r.opts.Now().UTC()}
	r.setMigration(m)
	after := ""
	for {
		ids, err := r.st.ActiveCustomers(ctx, after, r.opts.PageSize)
		if err == nil && len(ids) > 0 {
			items := make([]worker.Item, len(ids))
			for i, id := range ids {
				items[i] = worker.Item{CustomerID: id, Input: engine.Input{Kind: engine.KindWake}}
			}
			err = r.w.Submit(ctx, items)
		}
		if err != nil {
			// Still owed: the next reload (or restart) tries again. Nothing
			// is wrong meanwhile, only late: Step migrates every customer
			// at its next input or timer.
			m.Error = err.Error()
			r.setMigration(m)
			r.log.Warn("waking active customers after a reload failed; they migrate at their next input", "woken", m.Woken, "err", err)
			return err
		}
		m.Woken += len(ids)
		r.setMigration(m)
		if len(ids) < r.opts.PageSize {
			break
		}
		after = ids[len(ids)-1]
	}
	if err := r.settle(ctx, m); err != nil {
		m.Error = err.Error()
		r.setMigration(m)
		r.log.Warn("counting what the migration did failed", "err", err)
	}
	m.Finished = r.opts.Now().UTC()
	r.mu.Lock()
	r.pending = false
	r.mu.Unlock()
	r.setMigration(m)
	attrs := []any{"version", version, "customers", m.Woken, "took", m.Finished.Sub(m.Started).String()}
	if s := m.Summary; s != nil {
		attrs = append(attrs, "in_flight", s.InFlight, "stay", s.Stay, "moved", s.Moved, "redirected", s.Redirected,
			"left", s.Left, "exited", s.Exited, "pinned", s.Pinned, "journeys", m.Journeys)
	}
	r.log.Info("active customers migrated", attrs...)
	return nil
}

func (r *Reloader) setMigration(m *Migration) {
	c := *m
	r.mu.Lock()
	r.status.Migration = &c
	r.mu.Unlock()
}

// storeError is a reload that failed on the store: unlike a refusal, it is
// worth retrying without a new change.
type storeError struct{ error }

func (e storeError) Unwrap() error { return e.error }

// retryAfterFailure is how soon a reload whose install failed (the store)
// is tried again without a new change.
const retryAfterFailure = 5 * time.Second

// Run watches the workspace until ctx ends and reloads it after every
// change, debounced. New subdirectories are watched as they appear. With
// Options.WakeOnStart it first wakes the active customers.
func (r *Reloader) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := r.watchTree(w, r.dir); err != nil {
		return err
	}
	r.log.Info("watching the workspace for changes", "dir", r.dir)

	r.mu.Lock()
	pending := r.pending
	r.mu.Unlock()
	if pending {
		if err := r.WakeActive(ctx); err != nil && ctx.Err() != nil {
			return nil
		}
	}

	// A change made after the running program was compiled but before the
	// watches above began raised no event: check the workspace once now
	// (a reload of unchanged files installs nothing).
	timer := time.NewTimer(r.opts.Debounce)
	rewatch := time.NewTicker(r.opts.Rewatch)
	defer rewatch.Stop()
	root := filepath.Clean(r.dir)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rewatch.C:
			if slices.Contains(w.WatchList(), root) {
				continue
			}
			// The workspace moved away or was deleted (its Rename or
			// Remove event already made a reload record the error). Once
			// it is back, watch it again and reload: that clears the
			// error, or swaps in what changed meanwhile.
			if err := r.watchTree(w, r.dir); err != nil {
				continue
			}
			r.log.Info("watching the workspace again", "dir", r.dir)
			timer.Reset(r.opts.Debounce)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ignored(r.dir, ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					if err := r.watchTree(w, ev.Name); err != nil {
						r.log.Warn("cannot watch a new directory", "dir", ev.Name, "err", err)
					}
				}
			}
			timer.Reset(r.opts.Debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events, not changes: compile anyway.
			r.log.Warn("watching the workspace", "err", err)
			timer.Reset(r.opts.Debounce)
		case <-timer.C:
			var se storeError
			if err := r.Reload(ctx); errors.As(err, &se) && ctx.Err() == nil {
				timer.Reset(retryAfterFailure)
			}
		}
	}
}

// watchTree adds a watch on dir and every directory under it, but not
// hidden ones (.git changes on every commit and holds no workspace file).
func (r *Reloader) watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished meanwhile
		}
		if !d.IsDir() {
			return nil
		}
		if path != r.dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if err := w.Add(path); err != nil && path == dir {
			return err
		}
		return nil
	})
}

// ignored reports whether a change to path cannot change the program:
// hidden files and directories, and editors' backup and swap files.
func ignored(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(part, ".") && part != "." && part != ".." {
			return true
		}
	}
	base := filepath.Base(path)
	return strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") || strings.HasSuffix(base, ".swx")
}
