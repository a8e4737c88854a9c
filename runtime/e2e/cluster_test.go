package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
)

// clusterDoc is GET /v1/cluster.
type clusterDoc struct {
	Node       string `json:"node"`
	ShardCount int    `json:"shard_count"`
	Nodes      []struct {
		ID     string `json:"id"`
		Addr   string `json:"addr"`
		Live   bool   `json:"live"`
		Shards []int  `json:"shards_owned"`
	} `json:"nodes"`
	Programs []string `json:"programs"`
	Shards   []struct {
		Shard int    `json:"shard"`
		Owner string `json:"owner"`
		Epoch int64  `json:"epoch"`
	} `json:"shards"`
}

// procCluster is N `waymark run` processes on one PostgreSQL database.
type procCluster struct {
	t     *testing.T
	dsn   string
	env   []string
	ws    string
	nodes []*proc
}

func newCluster(t *testing.T, hook *receiver, secret string) *procCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the waymark binary on PostgreSQL")
	}
	c := &procCluster{t: t, dsn: pgtest.DB(t), ws: copyDir(t, filepath.Join("testdata", "cluster"))}
	// The URL comes from the environment, as in production (no password
	// in the process list).
	c.env = []string{"E2E_HOOK_URL=" + hook.srv.URL, "E2E_HOOK_SECRET=" + secret, "WAYMARK_STORE=" + c.dsn}
	return c
}

// start starts one more node.
func (c *procCluster) start() *proc {
	p := startWaymark(c.t, c.env, nil, "--deliver", "live", c.ws)
	c.nodes = append(c.nodes, p)
	c.t.Cleanup(func() {
		if c.t.Failed() {
			logs := p.stderr()
			c.t.Logf("node %s logged (the end):\n%s", p.base, logs[max(0, len(logs)-4000):])
		}
	})
	return p
}

// doc reads GET /v1/cluster from node p.
func (c *procCluster) doc(p *proc) (clusterDoc, error) {
	var d clusterDoc
	res, err := newClient(p.base).http.Get(p.base + "/v1/cluster")
	if err != nil {
		return d, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return d, fmt.Errorf("GET /v1/cluster: %d", res.StatusCode)
	}
	return d, json.NewDecoder(res.Body).Decode(&d)
}

// settled waits until every shard is owned by one of the live nodes in
// want, each of them owning some, and returns the document.
func (c *procCluster) settled(from *proc, want []*proc, within time.Duration) clusterDoc {
	c.t.Helper()
	var d clusterDoc
	eventually(c.t, within, func() error {
		var err error
		if d, err = c.doc(from); err != nil {
			return err
		}
		ids := map[string]int{}
		for _, n := range d.Nodes {
			if n.Live {
				ids[n.ID] = 0
			}
		}
		if len(ids) != len(want) {
			return fmt.Errorf("%d live nodes, want %d", len(ids), len(want))
		}
		for _, s := range d.Shards {
			if _, ok := ids[s.Owner]; !ok {
				return fmt.Errorf("shard %d owned by %q, not a live node", s.Shard, s.Owner)
			}
			ids[s.Owner]++
		}
		for id, n := range ids {
			if n == 0 {
				return fmt.Errorf("node %s owns no shard", id)
			}
		}
		return nil
	})
	return d
}

// clusterLoad posts a load through several nodes: sender i starts on node
// i, and when its node stops answering it posts the same batch to the next
// live one, as a pipeline behind a load balancer would; a customer's
// events stay in order since a sender waits for each answer.
func clusterLoad(l *load, nodes func() []*proc, onAck func(n int64)) *outcome {
	o := &outcome{acked: map[string]int{}, posted: map[string]int{}, signed: map[string]bool{}}
	var acked atomic.Int64
	var wg sync.WaitGroup
	for i, batches := range l.senders {
		wg.Go(func() {
			k := i
			for _, b := range batches {
				o.record(b, o.posted, nil)
				for try := 0; ; try++ {
					ns := nodes()
					p := ns[k%len(ns)]
					if err := newClient(p.base).batch(context.Background(), b); err == nil {
						break
					}
					if try > 100 {
						return
					}
					k++ // another node
					time.Sleep(50 * time.Millisecond)
				}
				o.record(b, o.acked, o.signed)
				if onAck != nil {
					onAck(acked.Add(1))
				}
			}
		})
	}
	wg.Wait()
	return o
}

// withTraits makes every ping carry its number as the trait last_n, which
// the pinged send echoes: the order check.
func withTraits(l *load) {
	for _, s := range l.senders {
		for _, b := range s {
			for i := range b {
				if n, ok := b[i].Properties["n"]; ok {
					b[i].Traits = map[string]any{"last_n": n}
				}
			}
		}
	}
}

// checkExactlyOnce checks, through node p, that every customer of l has
// every ping applied exactly once, in order, its reminder fired, and every
// send delivered (at least once, under one key each).
func checkExactlyOnce(t *testing.T, p *proc, l *load, hook *receiver) {
	t.Helper()
	c := newClient(p.base)
	keys := map[string]bool{}
	eventually(t, time.Minute, func() error {
		for _, id := range l.ids {
			doc, err := c.tryCustomer(id)
			if err != nil {
				return err // applied by its shard's owner a moment after the 200
			}
			if got := pings(doc); got != l.pings {
				return fmt.Errorf("%s: %d pings applied, want exactly %d", id, got, l.pings)
			}
			reminded := false
			for _, s := range doc.Sends {
				if s.Name == "reminder" && s.Fate == "deliver" {
					reminded = true
				}
			}
			if !reminded {
				return fmt.Errorf("%s: its reminder (a 3s timer) has not fired", id)
			}
		}
		return nil
	})
	for _, id := range l.ids {
		doc := c.customer(t, id)
		for _, s := range doc.Sends {
			if s.Fate == "deliver" {
				if keys[s.Key] {
					t.Errorf("send key %s twice in the history", s.Key)
				}
				keys[s.Key] = true
			}
		}
	}
	if want := len(l.ids) * (l.pings + 2); len(keys) != want {
		t.Errorf("%d sends in the history, want %d (welcome, reminder and one per ping for each customer)", len(keys), want)
	}
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
		return nil
	})
	got, _, problems := hook.snapshot()
	for _, pr := range problems {
		t.Error(pr)
	}
	inversions := 0
	for k, datas := range got {
		if !keys[k] {
			t.Errorf("the receiver got a send the store does not know: %s", k)
		}
		if !strings.HasSuffix(k, "/pinged") {
			continue
		}
		var d struct{ Pings, N float64 }
		if err := json.Unmarshal(datas[0], &d); err != nil {
			t.Fatal(err)
		}
		// The k-th ping applied must be ping number k.
		if d.Pings != d.N {
			inversions++
			if inversions < 5 {
				t.Errorf("%s: the %vth ping applied was ping %v: per-customer order broken", k, d.Pings, d.N)
			}
		}
	}
	if inversions > 0 {
		t.Errorf("%d order inversions", inversions)
	}
}

// TestClusterCrash: three nodes under load through all of them; one is
// killed with SIGKILL. Its shards are taken over after their leases run
// out; every acknowledged event's effects are there exactly once, in
// order; every timer fired; every send is delivered under one key.
func TestClusterCrash(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 10, time.Millisecond)
	c := newCluster(t, hook, secret)
	for range 3 {
		c.start()
	}
	d := c.settled(c.nodes[0], c.nodes, time.Minute)
	victim := c.nodes[2]
	var victimID string
	for _, n := range d.Nodes {
		if strings.HasSuffix(victim.base, strings.TrimPrefix(n.Addr, "127.0.0.1")) {
			victimID = n.ID
		}
	}
	t.Logf("3 nodes own the 64 shards; the victim is %s", victimID)

	l := newLoad(120, 20, 6, 40, "c")
	withTraits(l)
	var alive atomic.Pointer[[]*proc]
	all := c.nodes
	alive.Store(&all)
	killAt := int64(l.batches() / 3)
	var once sync.Once
	killedAt := make(chan time.Time, 1)
	o := clusterLoad(l, func() []*proc { return *alive.Load() }, func(n int64) {
		if n >= killAt {
			once.Do(func() {
				rest := c.nodes[:2]
				alive.Store(&rest)
				victim.kill()
				killedAt <- time.Now()
			})
		}
	})
	for _, id := range l.ids {
		if o.acked[id] != l.pings || !o.signed[id] {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], l.pings)
		}
	}
	// The victim's shards move to the others once its leases run out.
	killed := <-killedAt
	c.settled(c.nodes[0], c.nodes[:2], 30*time.Second)
	t.Logf("the victim's shards were taken over %v after the kill (measured to the tenth of a second)", time.Since(killed).Round(100*time.Millisecond))
	checkExactlyOnce(t, c.nodes[0], l, hook)
}

// metric reads one unlabelled sample from node p's /metrics.
func metric(t *testing.T, p *proc, name string) float64 {
	t.Helper()
	res, err := newClient(p.base).http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %q", name, line)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics of %s", name, p.base)
	return 0
}

// TestClusterPausedNode: a node stopped with SIGSTOP in the middle of a
// load loses its shards when its leases run out; resumed with SIGCONT, it
// commits nothing to them (what it held is refused by the fence, and it
// drops them), takes its share back by the rules, and every event is
// applied once, in order. (That the fence is what refuses the paused
// node's writes, and that without it the write would clobber the new
// owner's state, is shown in-process by runtime/cluster's
// TestPausedNodeIsFenced.)
func TestClusterPausedNode(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	a, b := c.start(), c.start()
	c.settled(b, c.nodes, time.Minute)

	l := newLoad(80, 20, 4, 20, "p")
	withTraits(l)
	stopAt := int64(l.batches() / 3)
	var once sync.Once
	stopped := make(chan struct{})
	// The load goes through b: a is paused, but its shards' inputs are in
	// the inbox, waiting for an owner.
	o := clusterLoad(l, func() []*proc { return []*proc{b} }, func(n int64) {
		if n >= stopAt {
			once.Do(func() {
				a.cmd.Process.Signal(syscall.SIGSTOP)
				close(stopped)
			})
		}
	})
	<-stopped
	for _, id := range l.ids {
		if o.acked[id] != l.pings {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], l.pings)
		}
	}
	// b takes every shard once a's leases run out, and applies everything.
	c.settled(b, []*proc{b}, 30*time.Second)
	checkExactlyOnce(t, b, l, hook)
	takenBy := metric(t, b, "waymark_cluster_takeovers_total")

	// a wakes up believing it owns its shards: what it writes is refused.
	a.cmd.Process.Signal(syscall.SIGCONT)
	c.settled(b, c.nodes, 30*time.Second)
	checkExactlyOnce(t, b, l, hook)
	t.Logf("b took %v shards in all; after SIGCONT a had %v writes fenced and %v lease renewals fail",
		takenBy, metric(t, a, "waymark_cluster_fenced_commits_total"), metric(t, a, "waymark_cluster_lease_renew_failures_total"))
}

// TestClusterJoin: a fourth node joins three under load: it takes a share
// of the shards, handed over by the others without waiting for leases,
// and nothing is lost or applied twice.
func TestClusterJoin(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	for range 3 {
		c.start()
	}
	c.settled(c.nodes[0], c.nodes, time.Minute)
	l := newLoad(120, 20, 6, 20, "j")
	withTraits(l)
	var nodes atomic.Pointer[[]*proc]
	three := c.nodes
	nodes.Store(&three)
	joinAt := int64(l.batches() / 3)
	var once sync.Once
	joined := make(chan time.Time, 1)
	o := clusterLoad(l, func() []*proc { return *nodes.Load() }, func(n int64) {
		if n >= joinAt {
			once.Do(func() {
				go func() {
					fourth := c.start()
					four := append(append([]*proc{}, three...), fourth)
					nodes.Store(&four)
					joined <- time.Now()
				}()
			})
		}
	})
	at := <-joined
	for _, id := range l.ids {
		if o.acked[id] != l.pings {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], l.pings)
		}
	}
	d := c.settled(c.nodes[0], c.nodes, 30*time.Second)
	t.Logf("the fourth node owns its share %v after it started listening", time.Since(at).Round(100*time.Millisecond))
	for _, n := range d.Nodes {
		t.Logf("node %s owns %d shards", n.ID, len(n.Shards))
	}
	checkExactlyOnce(t, c.nodes[3], l, hook)
}

// TestClusterRollingReload: three nodes, each on its own copy of the
// workspace, under load; the workspace is edited on one node after the
// other. While the nodes differ, GET /v1/cluster lists both programs; at
// the end every node runs the new version, every customer's instance has
// moved to it (each node migrates its own shards' customers), and every
// event was applied once, in order.
func TestClusterRollingReload(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	var wss []string
	for range 3 {
		ws := copyDir(t, filepath.Join("testdata", "cluster"))
		wss = append(wss, ws)
		p := startWaymark(t, c.env, nil, "--deliver", "live", ws)
		c.nodes = append(c.nodes, p)
	}
	c.settled(c.nodes[0], c.nodes, time.Minute)
	var before statusDoc
	newClient(c.nodes[0].base).getJSON(t, "/v1/status", &before)

	l := newLoad(90, 30, 3, 15, "r")
	withTraits(l)
	edited := make(chan struct{})
	var once sync.Once
	programs := map[int]bool{}
	o := clusterLoad(l, func() []*proc { return c.nodes }, func(n int64) {
		if n < int64(l.batches()/4) {
			return
		}
		once.Do(func() {
			go func() {
				defer close(edited)
				src, err := os.ReadFile(filepath.Join(wss[0], "counter.journey.hcl"))
				if err != nil {
					t.Error(err)
					return
				}
				next := strings.Replace(string(src), "Counts pings:", "Counts pings (v2):", 1)
				for i, ws := range wss {
					writeFile(t, filepath.Join(ws, "counter.journey.hcl"), next)
					// The node has reloaded: its status shows a new version.
					eventually(t, 30*time.Second, func() error {
						var st statusDoc
						if err := newClient(c.nodes[i].base).tryJSON("/v1/status", &st); err != nil {
							return err
						}
						if st.Version == before.Version {
							return errNotYet
						}
						return nil
					})
					// Its next heartbeat carries it: two programs while
					// the rollout is under way, one at its end.
					want := 2
					if i == len(wss)-1 {
						want = 1
					}
					eventually(t, 30*time.Second, func() error {
						d, err := c.doc(c.nodes[0])
						if err != nil {
							return err
						}
						if len(d.Programs) != want {
							return fmt.Errorf("GET /v1/cluster lists programs %v after node %d reloaded, want %d", d.Programs, i, want)
						}
						programs[want] = true
						return nil
					})
				}
			}()
		})
	})
	<-edited
	for _, id := range l.ids {
		if o.acked[id] != l.pings {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], l.pings)
		}
	}
	if !programs[2] || !programs[1] {
		t.Errorf("GET /v1/cluster did not list two programs during the rollout and one after it (saw %v)", programs)
	}
	var after statusDoc
	newClient(c.nodes[0].base).getJSON(t, "/v1/status", &after)
	for i, p := range c.nodes {
		var st statusDoc
		newClient(p.base).getJSON(t, "/v1/status", &st)
		if st.Version != after.Version || st.Version == before.Version {
			t.Errorf("node %d runs %s, node 0 %s (before: %s)", i, st.Version, after.Version, before.Version)
		}
	}
	checkExactlyOnce(t, c.nodes[1], l, hook)
	// Every instance of the counter moved to the new version.
	var js journeysDoc
	newClient(c.nodes[2].base).getJSON(t, "/v1/journeys", &js)
	for _, j := range js.Journeys {
		if j.Name == "counter" && (j.Active != len(l.ids) || len(j.OlderVersions) != 0) {
			t.Errorf("counter: %d active on %s, older versions %s; want all %d on the new one", j.Active, j.Version, j.OlderVersions, len(l.ids))
		}
	}
}

// TestClusterGracefulLeave: SIGTERM hands a node's shards over at once:
// the other owns them all sooner than the leases (5s) would run out, and
// the leaving node exits 0.
func TestClusterGracefulLeave(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	a, b := c.start(), c.start()
	c.settled(a, c.nodes, time.Minute)
	start := time.Now()
	if code := b.terminate(time.Minute); code != 0 || !b.logged("stopped") {
		t.Fatalf("SIGTERM: exit %d\n%s", code, b.stderr())
	}
	c.settled(a, []*proc{a}, 30*time.Second)
	took := time.Since(start)
	t.Logf("a owned every shard %v after b's SIGTERM", took.Round(100*time.Millisecond))
	if took >= 4*time.Second {
		t.Errorf("the handover took %v: as long as waiting for the leases (5s)", took)
	}
}
