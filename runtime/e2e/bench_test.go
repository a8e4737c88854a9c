package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/pebble"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// The benchmark's loads, over benchCustomers customers each signed up
// once first:
//
//   - journey: then pinged; every ping moves the customer through two
//     stages, updates a trait and writes a send to the outbox: about seven
//     rows per event, what an event a journey acts on costs the store;
//   - untracked: then sent events no journey listens for (most of a
//     tracking pipeline's firehose: page views, clicks): the customer's
//     state and the message id, two rows per event.
const (
	benchCustomers = 2000
	benchBatch     = 100 // calls per POST /v1/batch, and events per direct Commit
	benchClients   = 8   // concurrent HTTP clients
	benchUnit      = 100 // batches per benchmark iteration: an iteration is 10,000 events
)

func benchEngine(b *testing.B) *engine.Engine {
	b.Helper()
	res, diags := compiler.CompileDir(filepath.Join("testdata", "ws"))
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// benchEvent returns the i-th event of a load: the first benchCustomers
// are the sign-ups, the rest the load's event, customers in turn.
func benchEvent(load string, i int) (customer string, in engine.Input) {
	c := fmt.Sprintf("b%05d", i%benchCustomers)
	msg := fmt.Sprintf("m%09d", i)
	if i < benchCustomers {
		return c, engine.Input{Kind: engine.KindEvent, Event: "signed_up", MessageID: msg}
	}
	event := "ping"
	if load == "untracked" {
		event = "page_viewed"
	}
	return c, engine.Input{Kind: engine.KindEvent, Event: event, Properties: map[string]any{"n": i, "path": "/pricing"}, MessageID: msg}
}

// BenchmarkIngestBatch measures durable events per second through POST
// /v1/batch: real HTTP on 127.0.0.1, the server, the worker (group commit)
// and SQLite in a temporary directory, each batch answered only once it is
// committed. In the same run it measures the baseline: the same store
// writes (the states and effects of the same events, stepped beforehand
// outside the timing) done directly with store.Commit, one Commit per
// benchBatch events, on a fresh SQLite file. x-direct is the ratio.
//
//	go test ./runtime/e2e -run '^$' -bench BenchmarkIngestBatch -benchtime 3x
func BenchmarkIngestBatch(b *testing.B) {
	for _, kind := range []string{"sqlite", "pebble"} {
		for _, load := range []string{"journey", "untracked"} {
			b.Run(kind+"/"+load, func(b *testing.B) { benchIngest(b, kind, load) })
		}
	}
}

// openBenchStore opens a fresh store of the kind in a temporary directory.
func openBenchStore(b *testing.B, kind, name string) store.Store {
	b.Helper()
	var st store.Store
	var err error
	if kind == "pebble" {
		st, err = pebble.Open(filepath.Join(b.TempDir(), name))
	} else {
		st, err = sqlite.Open(filepath.Join(b.TempDir(), name+".db"))
	}
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// benchBodies are the POST /v1/batch bodies of total events of a load,
// benchBatch calls each, built before the clock runs.
func benchBodies(b *testing.B, load string, total int) [][]byte {
	b.Helper()
	bodies := make([][]byte, 0, total/benchBatch+1)
	for start := 0; start < total; start += benchBatch {
		calls := make([]call, 0, benchBatch)
		for i := start; i < start+benchBatch; i++ {
			id, in := benchEvent(load, i)
			calls = append(calls, call{Type: "track", UserID: id, Event: in.Event, Properties: in.Properties, MessageID: in.MessageID})
		}
		body, err := json.Marshal(map[string]any{"batch": calls})
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func benchIngest(b *testing.B, kind, load string) {
	eng := benchEngine(b)
	total := b.N * benchUnit * benchBatch

	bodies := benchBodies(b, load, total)

	st := openBenchStore(b, kind, "http")
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	w := worker.New(st, eng, worker.Options{Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv := httptest.NewServer(server.New(st, w, server.Options{Logger: log}))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	// Sign-ups first, so that every ping finds its customer in the journey
	// whichever client sends it; they count in the figure like any event.
	post := func(body []byte) {
		res, err := hc.Post(srv.URL+"/v1/batch", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Errorf("status %d: %s", res.StatusCode, answer)
		}
	}
	signups := benchCustomers / benchBatch
	b.ResetTimer()
	start := time.Now()
	for _, body := range bodies[:min(signups, len(bodies))] {
		post(body)
	}
	next := make(chan []byte)
	var wg sync.WaitGroup
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range next {
				post(body)
			}
		}()
	}
	for _, body := range bodies[min(signups, len(bodies)):] {
		next <- body
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if b.Failed() {
		return
	}
	httpRate := float64(total) / elapsed.Seconds()
	if s := w.Stats(); s.Inputs != uint64(total) {
		b.Fatalf("the worker committed %d inputs, want %d", s.Inputs, total)
	}
	batches := w.Stats().Batches

	// The baseline: the same events stepped on the same engine, grouped in
	// Commits of benchBatch events, committed one after another.
	direct := directBatches(b, eng, load, total)
	dst := openBenchStore(b, kind, "direct")
	defer dst.Close()
	dstart := time.Now()
	for _, sb := range direct {
		if err := dst.Commit(context.Background(), sb); err != nil {
			b.Fatal(err)
		}
	}
	directRate := float64(total) / time.Since(dstart).Seconds()

	b.ReportMetric(httpRate, "events/s")
	b.ReportMetric(directRate, "direct-events/s")
	b.ReportMetric(httpRate/directRate, "x-direct")
	b.ReportMetric(float64(total)/float64(batches), "events/commit")
}

// directBatches steps the load's events customer by customer on eng, as the
// worker would, and returns the store batches of benchBatch events each.
// States are copied into each batch, since Commit encodes them when called.
func directBatches(b *testing.B, eng *engine.Engine, load string, total int) []*store.Batch {
	b.Helper()
	customers := map[string]*engine.Customer{}
	now := time.Now().UTC()
	var out []*store.Batch
	for start := 0; start < total; start += benchBatch {
		sb := &store.Batch{}
		byID := map[string]int{}
		var ids []string
		for i := start; i < min(start+benchBatch, total); i++ {
			id, in := benchEvent(load, i)
			c := customers[id]
			if c == nil {
				c = &engine.Customer{ID: id}
				customers[id] = c
			}
			res := eng.Step(c, in, now)
			k, ok := byID[id]
			if !ok {
				k = len(sb.Customers)
				byID[id] = k
				ids = append(ids, id)
				sb.Customers = append(sb.Customers, store.CustomerWrite{})
			}
			cw := &sb.Customers[k]
			cw.MessageIDs = append(cw.MessageIDs, in.MessageID)
			cw.Results = append(cw.Results, res)
		}
		for k := range sb.Customers {
			cw := &sb.Customers[k]
			cw.State = copyCustomer(b, customers[ids[k]])
			cw.NextWake = cw.State.NextWake()
		}
		out = append(out, sb)
	}
	return out
}

func copyCustomer(b *testing.B, c *engine.Customer) *engine.Customer {
	data, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	var out engine.Customer
	if err := json.Unmarshal(data, &out); err != nil {
		b.Fatal(err)
	}
	return &out
}
