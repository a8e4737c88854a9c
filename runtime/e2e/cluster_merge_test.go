package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestClusterMergeCrash: anonymous visitors sign up and ping through three
// nodes, are aliased to known users, and the users ping on; one node is
// killed with SIGKILL while the aliases are being taken. Every merge is
// applied exactly once, in order with both customers' calls whichever node
// took them: each user counts the four pings in order (two made as the
// visitor, two after the alias, which find the moved run only if the merge
// came first), the visitor is left empty, and every send (the visitor's
// welcome and pings under their keys, the user's pings, one reminder) is in
// the user's document once and delivered.
func TestClusterMergeCrash(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	for range 3 {
		c.start()
	}
	c.settled(c.nodes[0], c.nodes, time.Minute)
	victim := c.nodes[2]

	const pairs, senders = 48, 6
	l := &load{pings: 4, senders: make([][][]call, senders)}
	for s := range senders {
		var mine []int
		for p := s; p < pairs; p += senders {
			mine = append(mine, p)
		}
		step := func(f func(anon, user string) call) []call {
			var b []call
			for _, p := range mine {
				b = append(b, f(fmt.Sprintf("anon%03d", p), fmt.Sprintf("user%03d", p)))
			}
			return b
		}
		ping := func(who func(anon, user string) string, n int) func(anon, user string) call {
			return func(anon, user string) call {
				id := who(anon, user)
				return call{Type: "track", UserID: id, Event: "ping", Properties: map[string]any{"n": n},
					Traits: map[string]any{"last_n": n}, MessageID: fmt.Sprintf("%s/ping/%d", user, n)}
			}
		}
		anonOf := func(anon, _ string) string { return anon }
		userOf := func(_, user string) string { return user }
		bs := [][]call{
			step(func(anon, user string) call {
				return call{Type: "track", UserID: anon, Event: "signed_up", MessageID: user + "/signed_up"}
			}),
			step(ping(anonOf, 1)), step(ping(anonOf, 2)),
		}
		// One alias a batch, so that merges are taken all through the kill.
		for _, b := range step(func(anon, user string) call {
			return call{Type: "alias", UserID: user, PreviousID: anon, MessageID: user + "/alias"}
		}) {
			bs = append(bs, []call{b})
		}
		bs = append(bs, step(ping(userOf, 3)), step(ping(userOf, 4)))
		l.senders[s] = bs
	}
	var alive atomic.Pointer[[]*proc]
	all := c.nodes
	alive.Store(&all)
	var aliases atomic.Int64
	var once sync.Once
	var lost atomic.Bool
	clusterLoadEach(l, func() []*proc { return *alive.Load() }, func(b []call) {
		if b[0].Type == "alias" && aliases.Add(1) == senders {
			once.Do(func() {
				rest := c.nodes[:2]
				alive.Store(&rest)
				victim.kill()
			})
		}
	}, func() { lost.Store(true) })
	if lost.Load() {
		t.Fatal("a batch was never acknowledged")
	}
	c.settled(c.nodes[0], c.nodes[:2], 30*time.Second)

	cl := newClient(c.nodes[0].base)
	keys := map[string]bool{}
	eventually(t, time.Minute, func() error {
		clear(keys)
		for p := range pairs {
			anon, user := fmt.Sprintf("anon%03d", p), fmt.Sprintf("user%03d", p)
			doc, err := cl.tryCustomer(user)
			if err != nil {
				return err
			}
			if got := pings(doc); got != 4 {
				return fmt.Errorf("%s: %d pings counted, want 4 (2 as %s, 2 after the alias)", user, got, anon)
			}
			names := map[string]int{}
			for _, s := range doc.Sends {
				if s.Fate != "deliver" {
					continue
				}
				if keys[s.Key] {
					return fmt.Errorf("%s: send key %s twice", user, s.Key)
				}
				keys[s.Key] = true
				names[s.Name]++
			}
			if names["welcome"] != 1 || names["pinged"] != 4 || names["reminder"] != 1 {
				return fmt.Errorf("%s: sends %v, want a welcome, 4 pinged and a reminder", user, names)
			}
			moved := false
			for _, in := range doc.Instances {
				moved = moved || in.ID == user+"/counter/1" && in.Status == "active"
			}
			if !moved {
				return fmt.Errorf("%s: the counter run of %s has not moved to it: %+v", user, anon, doc.Instances)
			}
			a, err := cl.tryCustomer(anon)
			if err != nil {
				return err
			}
			for _, in := range a.Instances {
				if in.Status == "active" {
					return fmt.Errorf("%s: still an active run %s after the merge", anon, in.ID)
				}
			}
			if len(a.Traits) != 0 {
				return fmt.Errorf("%s: traits %v after the merge", anon, a.Traits)
			}
		}
		return nil
	})
	if want := pairs * 6; len(keys) != want {
		t.Errorf("%d sends, want %d", len(keys), want)
	}
	eventually(t, 2*time.Minute, func() error {
		got, _, _ := hook.snapshot()
		for k := range keys {
			if len(got[k]) == 0 {
				return fmt.Errorf("send %s not delivered yet", k)
			}
		}
		return nil
	})
	got, _, problems := hook.snapshot()
	for _, pr := range problems {
		t.Error(pr)
	}
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
		if d.Pings != d.N {
			t.Errorf("%s: the %vth ping counted was ping %v", k, d.Pings, d.N)
		}
	}
}

// clusterLoadEach posts l's batches as clusterLoad does (each sender in
// order, waiting for each answer, moving to another node when one stops
// answering), calling onAck with each batch acknowledged and failed when
// one never is.
func clusterLoadEach(l *load, nodes func() []*proc, onAck func(b []call), failed func()) {
	var wg sync.WaitGroup
	for i, batches := range l.senders {
		wg.Go(func() {
			k := i
			for _, b := range batches {
				for try := 0; ; try++ {
					ns := nodes()
					if err := newClient(ns[k%len(ns)].base).batch(context.Background(), b); err == nil {
						break
					}
					if try > 100 {
						failed()
						return
					}
					k++
					time.Sleep(50 * time.Millisecond)
				}
				onAck(b)
			}
		})
	}
	wg.Wait()
}
