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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/cluster"
	"github.com/waymark-dev/waymark/runtime/heap"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// durablePG is a PostgreSQL server with fsync on, started once for the
// cluster benchmarks of the process (a figure of durable throughput
// needs the WAL on disk, which the tests' server skips).
var durablePG struct {
	sync.Mutex
	srv *pgtest.Server
}

func durableDB(b *testing.B) (*pgtest.Server, string) {
	b.Helper()
	durablePG.Lock()
	defer durablePG.Unlock()
	if durablePG.srv == nil {
		srv, err := pgtest.Start(pgtest.Options{Durable: true, Settings: pgtest.StatementSettings()})
		if err != nil {
			pgtest.Missing(b, err)
		}
		durablePG.srv = srv
	}
	dsn, err := durablePG.srv.CreateDB(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return durablePG.srv, dsn
}

func stopDurablePG() {
	durablePG.Lock()
	defer durablePG.Unlock()
	if durablePG.srv != nil {
		durablePG.srv.Stop()
		durablePG.srv = nil
	}
}

// benchNode is one node of a cluster in this process: its store, node,
// worker, inbox pump and HTTP server, wired as `waymark run` wires them
// (without the scheduler and the dispatcher, as BenchmarkIngestBatch).
type benchNode struct {
	st   *postgres.Store
	node *cluster.Node
	w    *worker.Worker
	srv  *httptest.Server
	stop func()
}

func startBenchNode(b *testing.B, dsn string, id string) *benchNode {
	b.Helper()
	st, err := postgres.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	n := &benchNode{st: st}
	if n.node, err = cluster.New(context.Background(), st, cluster.Options{ID: id, Tick: 200 * time.Millisecond}); err != nil {
		b.Fatal(err)
	}
	n.w = worker.New(st, benchEngine(b), worker.Options{Logger: log, Ownership: n.node.Ownership, Pipeline: true})
	pump := cluster.NewPump(st, n.node, n.w, log)
	ingest := cluster.NewIngest(st, n.w, pump)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.w.Run(ctx) })
	wg.Go(func() { n.node.Run(ctx) })
	wg.Go(func() { pump.Run(ctx) })
	n.srv = httptest.NewServer(server.New(st, ingest, server.Options{Logger: log}))
	n.stop = func() {
		n.srv.Close()
		cancel()
		wg.Wait()
		n.node.Leave(context.Background())
		st.Close()
	}
	return n
}

// BenchmarkClusterIngest measures durable journey events per second through
// POST /v1/batch on a cluster of 1 and of 2 nodes (in this process, each
// with its own store connections, worker and inbox pump) on one local
// PostgreSQL with fsync on: acked-events/s is the rate of 200s (each event
// durable in the inbox), events/s the rate at which the events were
// applied (their effects committed by their shards' owners). In the same
// run the baseline: the same number of event rows (a customer's encoded
// state and its send, as the store writes them) inserted directly with
// CopyFrom, in transactions of benchBatch rows from benchClients
// connections at once; x-copyfrom is events/s over it.
//
//	go test ./runtime/e2e -run '^$' -bench BenchmarkClusterIngest -benchtime 3x
func BenchmarkClusterIngest(b *testing.B) {
	defer stopDurablePG()
	for _, nodes := range []int{1, 2} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchClusterIngest(b, nodes) })
	}
}

func benchClusterIngest(b *testing.B, nodes int) {
	// The collector paced as `waymark run` paces it.
	_, restore := heap.PaceWhile()
	defer restore()
	const load = "journey"
	total := b.N * benchUnit * benchBatch
	bodies := benchBodies(b, load, total)
	pg, dsn := durableDB(b)
	var ns []*benchNode
	for i := range nodes {
		ns = append(ns, startBenchNode(b, dsn, fmt.Sprintf("bench-%d", i)))
	}
	defer func() {
		for _, n := range ns {
			n.stop()
		}
	}()
	// Every shard owned before the clock runs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		owned, each := 0, true
		for _, n := range ns {
			owned += len(n.node.Owned())
			each = each && len(n.node.Owned()) > 0
		}
		if owned == ns[0].st.Shards() && each {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the shards were not spread over %d nodes in 30s", nodes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())

	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	post := func(k int, body []byte) {
		url := ns[k%len(ns)].srv.URL
		res, err := hc.Post(url+"/v1/batch", "application/json", bytes.NewReader(body))
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
	statements := pgtest.Statements(b, conn, "event")
	signups := min(benchCustomers/benchBatch, len(bodies))
	b.ResetTimer()
	start := time.Now()
	pgCPU, pgErr := pg.CPU()
	goCPU := pgtest.SelfCPU()
	for k, body := range bodies[:signups] {
		post(k, body)
	}
	next := make(chan []byte)
	var wg sync.WaitGroup
	for c := range benchClients {
		wg.Go(func() {
			for body := range next {
				post(c, body) // client c always posts to the same node
			}
		})
	}
	for _, body := range bodies[signups:] {
		next <- body
	}
	close(next)
	wg.Wait()
	acked := time.Since(start)
	// Applied: the workers have committed every input. Their counters are
	// read in this process, so the wait costs the database nothing (a
	// count(*) of the inbox every 5ms took a tenth of PostgreSQL's time);
	// a worker bumps its counter just after its commit returns, so the
	// figure errs on the slow side. The database confirms it below.
	workers := func() (inputs uint64) {
		for _, n := range ns {
			inputs += n.w.Stats().Inputs
		}
		return inputs
	}
	for wait := time.Now().Add(5 * time.Minute); workers() < uint64(total); time.Sleep(time.Millisecond) {
		if b.Failed() {
			return
		}
		if time.Now().After(wait) {
			b.Fatalf("the workers committed %d inputs in 5 minutes, want %d", workers(), total)
		}
	}
	applied := time.Since(start)
	b.StopTimer()
	pgCPU1, _ := pg.CPU()
	goCPU1 := pgtest.SelfCPU()
	statements(total)
	if inputs := workers(); inputs != uint64(total) {
		b.Fatalf("the workers committed %d inputs, want %d", inputs, total)
	}
	// The database says what was applied: the inbox is empty, and every
	// event's messageId is in messages once its effects are committed.
	var waiting, committed int
	if err := conn.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM messages)").Scan(&waiting, &committed); err != nil {
		b.Fatal(err)
	}
	if waiting != 0 || committed != total {
		b.Fatalf("%d events applied (message ids committed) and %d still in the inbox, want %d and 0", committed, waiting, total)
	}

	// The baseline: the same number of event rows, CopyFrom.
	rows := make([][]any, 0, total)
	for _, sb := range directBatches(b, benchEngine(b), load, total) {
		for _, cw := range sb.Customers {
			state, err := json.Marshal(cw.State)
			if err != nil {
				b.Fatal(err)
			}
			var send []byte
			for _, r := range cw.Results {
				for _, s := range r.Sends {
					if send, err = json.Marshal(s); err != nil {
						b.Fatal(err)
					}
				}
			}
			for range cw.MessageIDs {
				rows = append(rows, []any{cw.State.ID, state, send})
			}
		}
	}
	if _, err := conn.Exec(context.Background(), "CREATE TABLE copy_floor (customer text NOT NULL, state bytea NOT NULL, send bytea)"); err != nil {
		b.Fatal(err)
	}
	chunks := make(chan [][]any, len(rows)/benchBatch+1)
	for len(rows) > 0 {
		n := min(benchBatch, len(rows))
		chunks <- rows[:n]
		rows = rows[n:]
	}
	close(chunks)
	cstart := time.Now()
	var cwg sync.WaitGroup
	for range benchClients {
		cwg.Go(func() {
			c, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close(context.Background())
			for chunk := range chunks {
				err := pgx.BeginFunc(context.Background(), c, func(tx pgx.Tx) error {
					_, err := tx.CopyFrom(context.Background(), pgx.Identifier{"copy_floor"}, []string{"customer", "state", "send"}, pgx.CopyFromRows(chunk))
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	cwg.Wait()
	copyRate := float64(total) / time.Since(cstart).Seconds()
	rate := float64(total) / applied.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(total)/acked.Seconds(), "acked-events/s")
	b.ReportMetric(copyRate, "copyfrom-events/s")
	b.ReportMetric(rate/copyRate, "x-copyfrom")
	// Where the CPU went while the events were applied (the Go side is
	// this process: the nodes and the clients).
	if pgErr == nil {
		b.ReportMetric((pgCPU1-pgCPU)*1e6/float64(total), "pg-cpu-µs/event")
	}
	b.ReportMetric((goCPU1-goCPU)*1e6/float64(total), "go-cpu-µs/event")
}

// BenchmarkClusterTakeover measures the time from the SIGKILL of a node
// (a `waymark run` process; two on one PostgreSQL) to the first event
// handled on its shards: an event for a customer of one of the dead
// node's shards, posted to the survivor right after the kill, is
// acknowledged at once (the inbox) and applied once the survivor has taken
// the shard, when the dead node's lease (5s) has run out. The target is
// 10s. Each op starts a fresh pair on a fresh database.
//
//	go test ./runtime/e2e -run '^$' -bench BenchmarkClusterTakeover -benchtime 3x
func BenchmarkClusterTakeover(b *testing.B) {
	defer stopDurablePG()
	env := []string{"E2E_HOOK_URL=http://127.0.0.1:9/", "E2E_HOOK_SECRET=x"}
	ws := copyDir(b, filepath.Join("testdata", "ws"))
	var took []time.Duration
	for range b.N {
		b.StopTimer()
		_, dsn := durableDB(b)
		e := append(env, "WAYMARK_STORE="+dsn)
		survivor := startWaymark(b, e, nil, "--deliver", "log", ws)
		victim := startWaymark(b, e, nil, "--deliver", "log", ws)
		c := newClient(survivor.base)
		// Both own shards; pick a customer of one of the victim's.
		var id string
		eventually(b, time.Minute, func() error {
			var d clusterDoc
			if err := c.tryJSON("/v1/cluster", &d); err != nil {
				return err
			}
			owner := map[int]string{}
			for _, s := range d.Shards {
				owner[s.Shard] = s.Owner
			}
			live := 0
			for _, n := range d.Nodes {
				if n.Live && len(n.Shards) > 0 {
					live++
				}
			}
			if live < 2 {
				return fmt.Errorf("%d nodes own shards", live)
			}
			for i := 0; ; i++ {
				cand := fmt.Sprintf("t%04d", i)
				if o := owner[postgres.ShardOf(cand, len(d.Shards))]; o != "" && o != d.Node {
					id = cand
					return nil
				}
			}
		})
		if err := c.batch(context.Background(), []call{{Type: "track", UserID: id, Event: "signed_up", MessageID: id + "/s"}}); err != nil {
			b.Fatal(err)
		}
		eventually(b, time.Minute, func() error {
			var doc customerDoc
			return c.tryJSON("/v1/customers/"+id, &doc)
		})
		b.StartTimer()
		start := time.Now()
		victim.kill()
		if err := c.batch(context.Background(), []call{{Type: "track", UserID: id, Event: "ping", MessageID: id + "/p"}}); err != nil {
			b.Fatal(err)
		}
		for {
			var doc customerDoc
			if c.tryJSON("/v1/customers/"+id, &doc) == nil && pings(doc) == 1 {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("the ping of %s was not applied a minute after the kill", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		survivor.terminate(time.Minute)
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "takeover-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "takeover-max-s")
	b.ReportMetric(0, "ns/op")
}
