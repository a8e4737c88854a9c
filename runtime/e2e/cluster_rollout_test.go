package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store/postgres"
)

// startOn starts one more node of c on its own workspace ws, and logs the
// end of what it wrote should the test fail.
func (c *procCluster) startOn(ws string) *proc {
	p := startWaymark(c.t, c.env, nil, "--deliver", "live", ws)
	c.t.Cleanup(func() {
		if c.t.Failed() {
			logs := p.stderr()
			c.t.Logf("node %s logged (the end):\n%s", p.base, logs[max(0, len(logs)-4000):])
		}
	})
	return p
}

// editFile replaces old by new in the file, which must hold it.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s holds no %q", path, old)
	}
	writeFile(t, path, strings.Replace(string(src), old, new, 1))
}

// versionsOf reads the journeys' versions of node p's running program.
func versionsOf(t *testing.T, p *proc) (program string, journeys map[string]string) {
	t.Helper()
	var st statusDoc
	newClient(p.base).getJSON(t, "/v1/status", &st)
	journeys = map[string]string{}
	for _, j := range st.Journeys {
		journeys[j.Name] = j.Version
	}
	return st.Version, journeys
}

// checkNoDowngrade fails for an instance of l's customers that has a
// transition on version old after one on version new of its journey: a
// customer the new program had touched that the old one stepped again.
func checkNoDowngrade(t *testing.T, p *proc, ids []string, old, new map[string]string) {
	t.Helper()
	c := newClient(p.base)
	bad := 0
	for _, id := range ids {
		doc := c.customer(t, id)
		for _, in := range doc.Instances {
			touched := false
			for _, h := range in.History {
				switch h.Version {
				case new[in.Journey]:
					touched = true
				case old[in.Journey]:
					if touched {
						bad++
						if bad < 5 {
							t.Errorf("%s: instance %s (%s) went %s -> %s on the old version after the new one had run it", id, in.ID, in.Journey, h.From, h.To)
						}
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d transitions of the old program after the new one", bad)
	}
}

// takenOver is nil once every shard is owned by a live node other than
// the one that listened on dead (a base URL), as node p sees the cluster.
func takenOver(c *procCluster, p *proc, dead string) error {
	d, err := c.doc(p)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, n := range d.Nodes {
		live[n.ID] = n.Live && "http://"+n.Addr != dead
	}
	for _, s := range d.Shards {
		if !live[s.Owner] {
			return fmt.Errorf("shard %d owned by %q, not a live node", s.Shard, s.Owner)
		}
	}
	return nil
}

// ownsAll is nil once the node listening on owner (a base URL) owns every
// shard, as node p sees the cluster.
func ownsAll(c *procCluster, p *proc, owner string) error {
	d, err := c.doc(p)
	if err != nil {
		return err
	}
	addr := map[string]string{}
	for _, n := range d.Nodes {
		addr[n.ID] = "http://" + n.Addr
	}
	for _, s := range d.Shards {
		if addr[s.Owner] != owner {
			return fmt.Errorf("shard %d owned by %q (%s), want %s", s.Shard, s.Owner, addr[s.Owner], owner)
		}
	}
	return nil
}

// TestClusterRollingRestart: a change shipped by restarting the nodes one
// after the other on the new workspace (not by hot reload), under load,
// with a crash in the middle. Version 1 reminds a customer an hour after
// signing up, version 2 three seconds after: the customers who signed up
// on version 1 and get no other input are reminded only if they are
// migrated. The first node restarted on version 2 takes every shard (the
// newest program owns them during the rollout) and migrates the customers
// of each shard it takes (reload.Adopt). Then a second node runs version
// 2, and the first is killed: its shards go to the second, never to the
// node still on version 1, so no customer version 2 ran is stepped by
// version 1 again. At the end every node runs version 2, every instance is
// on it, every reminder fired and every event was applied once, in order.
func TestClusterRollingRestart(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	var wss []string
	for range 3 {
		ws := copyDir(t, filepath.Join("testdata", "cluster"))
		editFile(t, filepath.Join(ws, "reminder.journey.hcl"), `after "3s"`, `after "1h"`)
		wss = append(wss, ws)
		c.nodes = append(c.nodes, c.startOn(ws))
	}
	c.settled(c.nodes[0], c.nodes, time.Minute)
	_, v1 := versionsOf(t, c.nodes[0])

	// Version 1 everywhere: these customers wait an hour for their
	// reminder, and get no input after this.
	const pingsEach = 16
	before := newLoad(60, pingsEach, 3, 40, "o")
	withTraits(before)
	o := clusterLoad(before, func() []*proc { return c.nodes }, nil)
	for _, id := range before.ids {
		if o.acked[id] != before.pings || !o.signed[id] {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], before.pings)
		}
	}
	cl := newClient(c.nodes[0].base)
	eventually(t, time.Minute, func() error {
		for _, id := range before.ids {
			doc, err := cl.tryCustomer(id)
			if err != nil {
				return err
			}
			if pings(doc) != before.pings {
				return fmt.Errorf("%s: %d pings applied", id, pings(doc))
			}
		}
		return nil
	})

	// The rollout, under a load paced to last through it: nodes 0 and 1
	// stopped (SIGTERM), their workspace changed, started again; node 0
	// killed and started again; node 2 last.
	var live atomic.Pointer[[]*proc]
	all := append([]*proc{}, c.nodes...)
	live.Store(&all)
	without := func(i int) {
		rest := append(append([]*proc{}, c.nodes[:i]...), c.nodes[i+1:]...)
		live.Store(&rest)
	}
	restart := func(i int) {
		c.nodes[i] = c.startOn(wss[i])
		now := append([]*proc{}, c.nodes...)
		live.Store(&now)
		time.Sleep(2 * time.Second) // some load on each mix of versions
	}
	var rolled atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer rolled.Store(true)
		steps := []struct {
			node  int
			crash bool // killed and started again, on the workspace it runs
		}{{0, false}, {1, false}, {0, true}, {2, false}}
		for _, step := range steps {
			i := step.node
			without(i)
			if step.crash {
				dead := c.nodes[i].base
				c.nodes[i].kill()
				// The dead node's shards are taken over (their leases run
				// out) before it starts again.
				eventually(t, 30*time.Second, func() error { return takenOver(c, c.nodes[1], dead) })
				restart(i)
				continue
			}
			if code := c.nodes[i].terminate(time.Minute); code != 0 {
				t.Errorf("node %d: exit %d after SIGTERM", i, code)
				return
			}
			editFile(t, filepath.Join(wss[i], "reminder.journey.hcl"), `after "1h"`, `after "3s"`)
			editFile(t, filepath.Join(wss[i], "counter.journey.hcl"), "Counts pings:", "Counts pings (v2):")
			restart(i)
		}
	}()
	during := newLoad(60, pingsEach, 3, 5, "n")
	withTraits(during)
	o = clusterLoad(during, func() []*proc { return *live.Load() }, func(int64) {
		if !rolled.Load() {
			time.Sleep(200 * time.Millisecond)
		}
	})
	<-done
	if t.Failed() {
		t.FailNow()
	}
	for _, id := range during.ids {
		if o.acked[id] != during.pings || !o.signed[id] {
			t.Fatalf("%s: %d of %d pings acknowledged", id, o.acked[id], during.pings)
		}
	}
	c.settled(c.nodes[0], c.nodes, time.Minute)
	program, v2 := versionsOf(t, c.nodes[0])
	for i, p := range c.nodes {
		if got, _ := versionsOf(t, p); got != program {
			t.Errorf("node %d runs %s, node 0 %s", i, got, program)
		}
	}
	if v2["counter"] == v1["counter"] || v2["reminder"] == v1["reminder"] {
		t.Fatalf("the journeys' versions did not change: %v then %v", v1, v2)
	}
	both := &load{pings: pingsEach, ids: append(append([]string{}, before.ids...), during.ids...)}
	checkExactlyOnce(t, c.nodes[1], both, hook)
	checkNoDowngrade(t, c.nodes[2], both.ids, v1, v2)
	var js journeysDoc
	newClient(c.nodes[2].base).getJSON(t, "/v1/journeys", &js)
	for _, j := range js.Journeys {
		if j.Name == "counter" && (j.Active != len(both.ids) || j.Version != v2["counter"] || len(j.OlderVersions) != 0) {
			t.Errorf("counter: %d active on %s, older versions %s; want all %d on %s", j.Active, j.Version, j.OlderVersions, len(both.ids), v2["counter"])
		}
	}
}

// TestClusterTakeoverReclaimsSends: a node killed while its deliveries are
// in flight (the receiver has taken them and not answered: they are
// claimed in the outbox under a 30s lease) does not make them wait for
// that lease: the node that takes its shards sends them again at once,
// under their keys, and every send is delivered well before the lease
// would have run out. Without the re-claim at takeover they go out ~30s
// after their claim.
func TestClusterTakeoverReclaimsSends(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	a, b := c.start(), c.start()
	d := c.settled(b, c.nodes, time.Minute)
	aShards := map[int]bool{}
	for _, n := range d.Nodes {
		if "http://"+n.Addr == a.base {
			for _, sh := range n.Shards {
				aShards[sh] = true
			}
		}
	}
	if len(aShards) == 0 {
		t.Fatalf("a owns no shard: %+v", d.Nodes)
	}
	ofA := func(key string) bool {
		id, _, _ := strings.Cut(key, "/")
		return aShards[postgres.ShardOf(id, d.ShardCount)]
	}

	heldOne := hook.holdRequests()
	var calls []call
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("k%03d", i)
		ids = append(ids, id)
		calls = append(calls, call{Type: "track", UserID: id, Event: "signed_up", MessageID: id + "/signed_up"})
	}
	if err := newClient(b.base).batch(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	<-heldOne
	// a's dispatcher has sends in flight, held by the receiver.
	var inFlight []string
	eventually(t, 30*time.Second, func() error {
		inFlight = inFlight[:0]
		got, _, _ := hook.snapshot()
		for k := range got {
			if ofA(k) {
				inFlight = append(inFlight, k)
			}
		}
		if len(inFlight) < 4 {
			return fmt.Errorf("%d of a's sends in flight, want 4 or more", len(inFlight))
		}
		return nil
	})
	a.kill()
	killed := time.Now()
	hook.releaseHeld()
	t.Logf("a killed with %d sends in flight (claimed, taken by the receiver, unanswered)", len(inFlight))

	cl := newClient(b.base)
	eventually(t, time.Minute, func() error {
		for _, id := range ids {
			doc, err := cl.tryCustomer(id)
			if err != nil {
				return err
			}
			for _, s := range doc.Sends {
				if s.Fate == "deliver" && s.Delivery != "delivered" {
					return fmt.Errorf("%s: %s is %s", id, s.Key, s.Delivery)
				}
			}
		}
		return nil
	})
	took := time.Since(killed)
	t.Logf("every send delivered %v after a was killed (takeover: lease 5s plus a tick)", took.Round(100*time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("the sends a had claimed were delivered %v after it died: they waited for their outbox lease (30s)", took.Round(100*time.Millisecond))
	}
	got, _, problems := hook.snapshot()
	for _, p := range problems {
		t.Error(p)
	}
	for _, k := range inFlight {
		// Taken by the receiver from a, then again from b: one key.
		if len(got[k]) < 2 {
			t.Errorf("%s, in flight when a died, reached the receiver %d times, want again after the takeover", k, len(got[k]))
		}
	}
	for _, id := range ids {
		if len(got[id+"/counter/1/1/welcome"]) == 0 {
			t.Errorf("%s: its welcome never reached the receiver", id)
		}
	}
}

// TestClusterPinAcrossTakeover: journeys with in_flight = "pin" in a
// cluster. b starts on version 2 while no customer has entered yet, and
// is then paused (SIGSTOP): a, on version 1, takes every shard and the
// customers enter on version 1, which b's engine was not built with. b
// resumes, takes every shard back (the newest program) and finds version
// 1 in the store (reload.Adopt), so those customers stay on it. Then c
// starts on version 2 and b is killed: c takes its shards, and every
// customer still runs the version it entered on. Version 1 bumps pings by
// 1, version 2 by 10. Without the Pin in Adopt, b moves them to version 2
// (with an error) as it takes them, and their next ping bumps by 10.
func TestClusterPinAcrossTakeover(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	workspace := func(bump string) string {
		ws := copyDir(t, filepath.Join("testdata", "cluster"))
		editFile(t, filepath.Join(ws, "counter.journey.hcl"), `reentry     = "never"`, `reentry     = "never"
  in_flight   = "pin"`)
		editFile(t, filepath.Join(ws, "counter.journey.hcl"), "coalesce(customer.pings, 0) + 1", "coalesce(customer.pings, 0) + "+bump)
		return ws
	}
	a := c.startOn(workspace("1"))
	c.nodes = append(c.nodes, a)
	c.settled(a, c.nodes, time.Minute)
	b := c.startOn(workspace("10"))
	c.nodes = append(c.nodes, b)
	// The newest program owns every shard.
	eventually(t, time.Minute, func() error { return ownsAll(c, a, b.base) })
	_, v1 := versionsOf(t, a)
	_, v2 := versionsOf(t, b)

	b.cmd.Process.Signal(syscall.SIGSTOP)
	eventually(t, 30*time.Second, func() error { return ownsAll(c, a, a.base) })
	var ids []string
	var calls []call
	for i := range 30 {
		id := fmt.Sprintf("p%02d", i)
		ids = append(ids, id)
		calls = append(calls, call{Type: "track", UserID: id, Event: "signed_up", MessageID: id + "/signed_up"},
			call{Type: "track", UserID: id, Event: "ping", Properties: map[string]any{"n": 1}, MessageID: id + "/ping/1"})
	}
	if err := newClient(a.base).batch(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	ca := newClient(a.base)
	eventually(t, 30*time.Second, func() error {
		for _, id := range ids {
			doc, err := ca.tryCustomer(id)
			if err != nil {
				return err
			}
			if pings(doc) != 1 {
				return fmt.Errorf("%s: pings %d, want 1 (version 1)", id, pings(doc))
			}
		}
		return nil
	})

	b.cmd.Process.Signal(syscall.SIGCONT)
	eventually(t, 30*time.Second, func() error { return ownsAll(c, a, b.base) })
	third := c.startOn(workspace("10"))
	c.nodes = append(c.nodes, third)
	eventually(t, time.Minute, func() error {
		d, err := c.doc(third)
		if err != nil {
			return err
		}
		for _, n := range d.Nodes {
			if "http://"+n.Addr == third.base && len(n.Shards) > 0 {
				return nil
			}
		}
		return fmt.Errorf("the third node owns no shard yet")
	})
	dead := b.base
	b.kill()
	eventually(t, 30*time.Second, func() error { return takenOver(c, third, dead) })

	calls = calls[:0]
	for _, id := range ids {
		calls = append(calls, call{Type: "track", UserID: id, Event: "ping", Properties: map[string]any{"n": 2}, MessageID: id + "/ping/2"})
	}
	if err := newClient(third.base).batch(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	cc := newClient(third.base)
	eventually(t, 30*time.Second, func() error {
		for _, id := range ids {
			doc, err := cc.tryCustomer(id)
			if err != nil {
				return err
			}
			if pings(doc) == 1 {
				return fmt.Errorf("%s: its second ping is not applied yet", id)
			}
		}
		return nil
	})
	wrong := 0
	for _, id := range ids {
		doc := cc.customer(t, id)
		for _, in := range doc.Instances {
			if in.Journey == "counter" && (in.Version != v1["counter"] || pings(doc) != 2) {
				wrong++
				if wrong < 5 {
					t.Errorf("%s: counter on %s with %d pings; want it pinned to version 1 (%s): 2 pings", id, in.Version, pings(doc), v1["counter"])
				}
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d customers left version 1 (version 2 is %s)", wrong, len(ids), v2["counter"])
	}
}
