package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load is a set of customers, each with a signed_up event then pings, cut
// into batches; each sender owns some customers and posts its batches in
// order, so a customer's events arrive in order.
type load struct {
	senders [][][]call // per sender, its batches
	pings   int        // pings per customer
	ids     []string
}

func newLoad(customers, pingsEach, senders, batchSize int, prefix string) *load {
	l := &load{pings: pingsEach, senders: make([][][]call, senders)}
	for s := range senders {
		var mine []string
		for c := s; c < customers; c += senders {
			mine = append(mine, fmt.Sprintf("%s%04d", prefix, c))
		}
		l.ids = append(l.ids, mine...)
		var calls []call
		for _, id := range mine {
			calls = append(calls, call{Type: "track", UserID: id, Event: "signed_up", MessageID: id + "/signed_up"})
		}
		for p := 1; p <= pingsEach; p++ {
			for _, id := range mine {
				calls = append(calls, call{Type: "track", UserID: id, Event: "ping", Properties: map[string]any{"n": p}, MessageID: fmt.Sprintf("%s/ping/%d", id, p)})
			}
		}
		for len(calls) > 0 {
			n := min(batchSize, len(calls))
			l.senders[s] = append(l.senders[s], calls[:n])
			calls = calls[n:]
		}
	}
	sort.Strings(l.ids)
	return l
}

func (l *load) batches() int {
	n := 0
	for _, s := range l.senders {
		n += len(s)
	}
	return n
}

// outcome is what the senders saw: per customer, the pings acknowledged
// and the pings posted (acknowledged or not).
type outcome struct {
	mu     sync.Mutex
	acked  map[string]int
	posted map[string]int
	signed map[string]bool // signed_up acknowledged
}

// run posts the load through c, every sender in its own goroutine. After
// a failed post a sender stops. onAck is called after every acknowledged
// batch with the number acknowledged so far.
func (l *load) run(c *client, onAck func(n int64)) *outcome {
	o := &outcome{acked: map[string]int{}, posted: map[string]int{}, signed: map[string]bool{}}
	var acked atomic.Int64
	var wg sync.WaitGroup
	for _, batches := range l.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range batches {
				o.record(b, o.posted, nil)
				if err := c.batch(context.Background(), b); err != nil {
					return
				}
				o.record(b, o.acked, o.signed)
				if onAck != nil {
					onAck(acked.Add(1))
				}
			}
		}()
	}
	wg.Wait()
	return o
}

func (o *outcome) record(b []call, pings map[string]int, signed map[string]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range b {
		if c.Event == "ping" {
			pings[c.UserID]++
		} else if signed != nil {
			signed[c.UserID] = true
		}
	}
}

// TestCrashAndRestart: SIGKILL the server in the middle of a load, restart
// it on the same store (SQLite file, then Pebble directory), and check that
// every acknowledged event's effects survived, that re-sending everything
// applies each event exactly once, and that every send is delivered,
// redeliveries under the same Idempotency-Key.
func TestCrashAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	for _, kind := range []string{"sqlite", "pebble"} {
		t.Run(kind, func(t *testing.T) { crashAndRestart(t, kind) })
	}
}

func crashAndRestart(t *testing.T, kind string) {
	const (
		customers = 300
		pingsEach = 30
		senders   = 4
		batchSize = 50
	)
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 10, 2*time.Millisecond) // every 10th request fails: retries happen
	env := []string{"E2E_HOOK_URL=" + hook.srv.URL, "E2E_HOOK_SECRET=" + secret}
	ws := copyDir(t, filepath.Join("testdata", "ws"))
	db := kind + ":" + filepath.Join(t.TempDir(), "waymark.store")
	l := newLoad(customers, pingsEach, senders, batchSize, "c")

	// 1. Load, and SIGKILL once a third of the batches are acknowledged:
	// requests are in flight, commits under way, deliveries leased. The
	// receiver holds the deliveries that reach it from then on, so that at
	// least one has been taken and not answered when the kill comes: it must
	// go out again after the restart, under the same key.
	// The kill runs on its own goroutine: the senders go on posting while
	// it waits for a held delivery, so requests are in flight when it hits.
	p1 := startWaymark(t, env, nil, "--store", db, "--deliver", "live", ws)
	killAt := int64(l.batches() / 3)
	var killing atomic.Bool
	killed := make(chan struct{})
	kill := func() {
		if !killing.CompareAndSwap(false, true) {
			return
		}
		held := hook.holdRequests()
		go func() {
			defer close(killed)
			select {
			case <-held:
			case <-time.After(30 * time.Second):
				t.Error("no delivery reached the receiver in 30s before the kill")
			}
			p1.kill()
		}()
	}
	first := l.run(newClient(p1.base), func(n int64) {
		if n >= killAt {
			kill()
		}
	})
	kill() // in case the load finished first
	<-killed
	held := hook.releaseHeld()
	ackedPings := 0
	for _, n := range first.acked {
		ackedPings += n
	}
	t.Logf("killed after %d acknowledged pings of %d", ackedPings, customers*pingsEach)

	// 2. Restart on the same store: every acknowledged event is there.
	p2 := startWaymark(t, env, nil, "--store", db, "--deliver", "live", ws)
	c2 := newClient(p2.base)
	for _, id := range l.ids {
		if first.posted[id] == 0 && !first.signed[id] {
			continue
		}
		var doc customerDoc
		res, err := c2.http.Get(c2.base + "/v1/customers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 404 {
			if first.signed[id] {
				t.Errorf("%s: its acknowledged signed_up is lost", id)
			}
			continue
		}
		doc = c2.customer(t, id)
		if got := pings(doc); got < first.acked[id] || got > first.posted[id] {
			t.Errorf("%s after the crash: %d pings, want between %d acknowledged and %d posted", id, got, first.acked[id], first.posted[id])
		}
	}

	// 3. Re-send everything, as a pipeline would after an outage: each
	// event is applied exactly once.
	second := l.run(c2, nil)
	for _, id := range l.ids {
		if second.acked[id] != pingsEach || !second.signed[id] {
			t.Fatalf("%s: the re-send was not acknowledged in full", id)
		}
	}
	keys := map[string]bool{}
	for _, id := range l.ids {
		doc := c2.customer(t, id)
		if got := pings(doc); got != pingsEach {
			t.Errorf("%s: %d pings, want exactly %d", id, got, pingsEach)
		}
		if len(doc.Instances) != 1 || doc.Instances[0].Stage != "count" || doc.Instances[0].Status != "active" {
			t.Errorf("%s: instances %+v", id, doc.Instances)
		}
		n := 0
		for _, s := range doc.Sends {
			if s.Fate == "deliver" {
				n++
				if keys[s.Key] {
					t.Errorf("send key %s twice in the history", s.Key)
				}
				keys[s.Key] = true
			}
		}
		if n != pingsEach+1 {
			t.Errorf("%s: %d sends, want %d (welcome and one per ping)", id, n, pingsEach+1)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// 4. Every send is delivered: items the killed process had leased (the
	// held ones among them) come back when their lease (30s) runs out, and
	// go out again under the same key. The receiver has seen exactly the store's keys, a key seen twice
	// carried the same data both times, and the store says delivered.
	eventually(t, 3*time.Minute, func() error {
		got, _, _ := hook.snapshot()
		missing := 0
		for k := range keys {
			if len(got[k]) == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d sends not delivered yet", missing, len(keys))
		}
		for _, k := range held {
			if len(got[k]) < 2 {
				return fmt.Errorf("%s, in flight at the kill, not delivered again yet", k)
			}
		}
		return nil
	})
	got, failed, problems := hook.snapshot()
	for _, p := range problems {
		t.Error(p)
	}
	// A send whose attempt failed was retried under the same key.
	for k := range failed {
		if len(got[k]) == 0 {
			t.Errorf("%s failed once and never came again under its key", k)
		}
	}
	redelivered := 0
	for k, datas := range got {
		if !keys[k] {
			t.Errorf("the receiver got a send the store does not know: %s", k)
		}
		if len(datas) > 1 {
			redelivered++
			for _, d := range datas[1:] {
				if !bytes.Equal(d, datas[0]) {
					t.Errorf("%s redelivered with other data: %s, then %s", k, datas[0], d)
				}
			}
		}
	}
	// The deliveries held at the kill were taken by the receiver, never
	// answered, and so went out again from the restarted process.
	if len(held) == 0 {
		t.Error("no delivery was in flight at the kill")
	}
	for _, k := range held {
		if len(got[k]) < 2 {
			t.Errorf("%s was in flight at the kill and was not delivered again", k)
		}
	}
	t.Logf("%d sends delivered; %d retried after a 503, %d taken twice (%d in flight at the kill), each under its key", len(got), len(failed), redelivered, len(held))
	eventually(t, time.Minute, func() error {
		for _, id := range l.ids {
			doc := c2.customer(t, id)
			for _, s := range doc.Sends {
				if s.Fate == "deliver" && s.Delivery != "delivered" {
					return fmt.Errorf("%s: send %s is %s (attempts %d, last error %q)", id, s.Key, s.Delivery, s.Attempts, s.LastError)
				}
			}
		}
		return nil
	})

	// 5. A graceful stop exits 0.
	if code := p2.terminate(time.Minute); code != 0 || !p2.logged("stopped") {
		t.Errorf("SIGTERM: exit %d\n%s", code, p2.stderr())
	}
}

// TestGracefulStop: SIGTERM in the middle of a load. The server stops
// accepting, answers every request it took, commits, and exits 0; after a
// restart exactly the acknowledged events are there (a request it answered
// was committed, and one it never read was not acknowledged).
func TestGracefulStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	ws := copyDir(t, filepath.Join("testdata", "ws"))
	db := "sqlite:" + filepath.Join(t.TempDir(), "waymark.db")
	l := newLoad(200, 20, 4, 50, "g")

	p1 := startWaymark(t, nil, nil, "--store", db, "--deliver", "log", ws)
	stopAt := int64(l.batches() / 3)
	var once sync.Once
	exit := make(chan int, 1)
	first := l.run(newClient(p1.base), func(n int64) {
		if n >= stopAt {
			once.Do(func() { go func() { exit <- p1.terminate(time.Minute) }() })
		}
	})
	once.Do(func() { go func() { exit <- p1.terminate(time.Minute) }() })
	if code := <-exit; code != 0 || !p1.logged("stopped") {
		t.Fatalf("SIGTERM: exit %d\n%s", code, p1.stderr())
	}

	total := 0
	for _, n := range first.acked {
		total += n
	}
	t.Logf("stopped after %d acknowledged pings of %d", total, 200*20)

	p2 := startWaymark(t, nil, nil, "--store", db, "--deliver", "log", ws)
	c := newClient(p2.base)
	for _, id := range l.ids {
		if !first.signed[id] {
			res, err := c.http.Get(c.base + "/v1/customers/" + id)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 404 {
				t.Errorf("%s: its sign-up was not acknowledged, but the customer exists", id)
			}
			continue
		}
		doc := c.customer(t, id)
		if got := pings(doc); got != first.acked[id] {
			t.Errorf("%s: %d pings after a graceful stop, %d acknowledged (%d posted)", id, got, first.acked[id], first.posted[id])
		}
	}
}
