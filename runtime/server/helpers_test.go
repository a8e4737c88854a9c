package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/manualclock"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// harness is the API over real HTTP, with a real worker on a real SQLite
// file in t.TempDir().
type harness struct {
	t      testing.TB
	st     *sqlite.Store
	w      *worker.Worker
	srv    *Server
	http   *httptest.Server
	stopW  context.CancelFunc
	doneW  chan struct{}
	client *http.Client
}

func testEngine(t testing.TB) *engine.Engine {
	t.Helper()
	return workspaceEngine(t, "ws")
}

func workspaceEngine(t testing.TB, dir string) *engine.Engine {
	t.Helper()
	res, diags := compiler.CompileDir(filepath.Join("testdata", dir))
	if diags.HasErrors() {
		t.Fatalf("test workspace: %s", diags.Error())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// harnessOption changes a harness's worker or workspace.
type harnessOption func(*harnessConfig)

type harnessConfig struct {
	worker     worker.Options
	ws         string                       // under testdata
	clockStart time.Time                    // zero: the real clock
	open       func(testing.TB) store.Store // another store than SQLite (harness.st is then nil)
}

// withStore runs the harness on the store open returns.
func withStore(open func(testing.TB) store.Store) harnessOption {
	return func(c *harnessConfig) { c.open = open }
}

func withWorkerLogger(l *slog.Logger) harnessOption {
	return func(c *harnessConfig) { c.worker.Logger = l }
}

// withFailingSends runs testdata/failing: the journey newsletter, entered
// on "subscribed", whose email send fails for a customer without an email.
func withFailingSends() harnessOption { return func(c *harnessConfig) { c.ws = "failing" } }

// withManualClock runs the harness on a manual clock starting at start, as
// `waymark run --clock manual` wires it: the worker reads it, and the
// server's Options.Clock is it.
func withManualClock(start time.Time) harnessOption {
	return func(c *harnessConfig) { c.clockStart = start }
}

func newHarness(t testing.TB, opts Options, hopts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{worker: worker.Options{Logger: discardLogger()}, ws: "ws"}
	for _, o := range hopts {
		o(&cfg)
	}
	var st store.Store
	var sq *sqlite.Store
	if cfg.open != nil {
		st = cfg.open(t)
	} else {
		var err error
		if sq, err = sqlite.Open(filepath.Join(t.TempDir(), "waymark.db")); err != nil {
			t.Fatal(err)
		}
		st = sq
	}
	var w *worker.Worker
	if !cfg.clockStart.IsZero() {
		clock := manualclock.New(cfg.clockStart, st, func(ctx context.Context, items []worker.Item) error { return w.Submit(ctx, items) })
		cfg.worker.Now, opts.Clock = clock.Now, clock
	}
	w = worker.New(st, workspaceEngine(t, cfg.ws), cfg.worker)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, st: sq, w: w, stopW: cancel, doneW: make(chan struct{})}
	go func() {
		defer close(h.doneW)
		w.Run(ctx)
	}()
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	h.srv = New(st, w, opts)
	h.http = httptest.NewServer(h.srv)
	h.client = h.http.Client()
	t.Cleanup(func() {
		h.http.Close()
		h.stopWorker()
		st.Close()
	})
	return h
}

func (h *harness) stopWorker() {
	h.stopW()
	<-h.doneW
}

// response is an answer, its body read.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, r.body)
	}
}

// errorText returns the "error" member of a JSON error answer.
func (r response) errorText(t testing.TB) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	r.json(t, &e)
	return e.Error
}

func (h *harness) do(method, path string, body []byte, header map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func (h *harness) post(path, body string) response {
	h.t.Helper()
	return h.do("POST", path, []byte(body), nil)
}

func (h *harness) get(path string) response {
	h.t.Helper()
	return h.do("GET", path, nil, nil)
}

// mustPost posts and fails the test unless the answer is 200 {"success":true}.
func (h *harness) mustPost(path, body string) {
	h.t.Helper()
	r := h.post(path, body)
	if r.code != 200 || string(bytes.TrimSpace(r.body)) != `{"success":true}` {
		h.t.Fatalf("POST %s %s: %d %s", path, body, r.code, r.body)
	}
}

func (h *harness) customer(id string) customerDoc {
	h.t.Helper()
	r := h.get("/v1/customers/" + id)
	if r.code != 200 {
		h.t.Fatalf("GET customer %s: %d %s", id, r.code, r.body)
	}
	var c customerDoc
	r.json(h.t, &c)
	return c
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// within polls cond until it holds or d passes.
func within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
