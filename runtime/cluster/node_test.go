package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var bg = context.Background()

// node opens a store on dsn and makes a node of it with a short lease.
func node(t *testing.T, dsn, id string) (*Node, *postgres.Store) {
	t.Helper()
	st, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n, err := New(bg, st, Options{ID: id, Lease: time.Second, Tick: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return n, st
}

// rounds runs rounds of every node until cond holds (at most 10s).
func rounds(t *testing.T, cond func() bool, nodes ...*Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not settle in 10s")
		}
		for _, n := range nodes {
			n.Round(bg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A second node joins: the shards split between them, none twice, none
// lost; the first leaves: the second takes them all at once, without
// waiting for the leases.
func TestJoinAndLeave(t *testing.T) {
	dsn := pgtest.DB(t)
	a, _ := node(t, dsn, "a")
	rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
	b, _ := node(t, dsn, "b")
	rounds(t, func() bool { return len(a.Owned()) > 0 && len(b.Owned()) > 0 && len(a.Owned())+len(b.Owned()) == 64 }, a, b)
	for _, sh := range a.Owned() {
		if b.Owns(sh) {
			t.Errorf("shard %d owned by both", sh)
		}
	}
	t.Logf("a owns %d, b owns %d", len(a.Owned()), len(b.Owned()))
	st, err := b.Status(bg)
	if err != nil || st.ShardCount != 64 || len(st.Nodes) != 2 {
		t.Fatalf("status: %+v, %v", st, err)
	}
	if err := a.Leave(bg); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rounds(t, func() bool { return len(b.Owned()) == 64 }, b)
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("b took a's shards %v after a left: it waited for the leases (1s)", d)
	}
}

// A node paused past its lease (here: it simply stops its rounds) loses
// its shards to the other; when it wakes, its commit to a lost shard is
// refused by the fence, writes nothing, and the node drops the shard. The
// same commit without the fence would overwrite the new owner's state.
func TestPausedNodeIsFenced(t *testing.T) {
	for _, fenced := range []bool{true, false} {
		name := "fenced"
		if !fenced {
			name = "unfenced"
		}
		t.Run(name, func(t *testing.T) {
			dsn := pgtest.DB(t)
			a, sta := node(t, dsn, "a")
			rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
			// a commits the customer's first input, then pauses.
			if err := sta.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0)}}); err != nil {
				t.Fatal(err)
			}
			b, stb := node(t, dsn, "b")
			// b waits out a's lease (a's heartbeat goes stale) and takes all.
			rounds(t, func() bool { return len(b.Owned()) == 64 }, b)
			if err := stb.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 2, storetest.T0.Add(time.Second))}}); err != nil {
				t.Fatal(err)
			}
			if !fenced {
				sta.SetFence(nil)
			}
			// a wakes up before its next round and commits what it held.
			err := sta.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0.Add(2*time.Second))}})
			c, gerr := stb.Customer(bg, "c")
			if gerr != nil {
				t.Fatal(gerr)
			}
			clobbered := c.Instances[0].Visit != storetest.Customer("c", 2, storetest.T0).Instances[0].Visit
			if fenced {
				if !errors.Is(err, postgres.ErrFenced) {
					t.Errorf("the paused node's commit: %v, want it fenced", err)
				}
				if clobbered {
					t.Error("the paused node's commit overwrote the new owner's state")
				}
				if a.Owns(sta.ShardOf("c")) || a.Stats().Fenced == 0 {
					t.Errorf("after the refusal a still owns shard %d (fenced %d)", sta.ShardOf("c"), a.Stats().Fenced)
				}
				// Its next round finds every other lease gone too.
				a.Round(bg)
				if len(a.Owned()) != 0 {
					t.Errorf("after its next round a owns %v, want none", a.Owned())
				}
				return
			}
			// Without the fence: the stale write goes through. This is
			// what the fence is for.
			if err != nil || !clobbered {
				t.Fatalf("unfenced: err %v, clobbered %v; the test would not show the fence's effect", err, clobbered)
			}
		})
	}
}

// Renewals keep the shards of a node that keeps its rounds; a node whose
// database stops answering drops its shards once its local lease deadline
// has passed.
func TestRenewKeepsShards(t *testing.T) {
	dsn := pgtest.DB(t)
	a, _ := node(t, dsn, "a")
	rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
	before := a.Owned()
	for range 15 { // 1.5s: longer than the lease
		a.Round(bg)
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(a.Owned(), before) {
		t.Errorf("shards changed while renewing: %v", a.Owned())
	}
	if a.Stats().Takeovers != 64 {
		t.Errorf("takeovers = %d, want 64 (the first round)", a.Stats().Takeovers)
	}
}

// A node that runs another program than the other live nodes for longer
// than SkewGrace says so (ProgramSkew, for /v1/status, and the log); one
// that catches up stops saying it.
func TestProgramSkew(t *testing.T) {
	dsn := pgtest.DB(t)
	var progA atomic.Value
	progA.Store("v1")
	sta, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sta.Close()
	a, err := New(bg, sta, Options{ID: "a", Lease: time.Second, Tick: 100 * time.Millisecond, SkewGrace: 300 * time.Millisecond,
		Program: func() string { return progA.Load().(string) }})
	if err != nil {
		t.Fatal(err)
	}
	stb, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer stb.Close()
	b, err := New(bg, stb, Options{ID: "b", Lease: time.Second, Tick: 100 * time.Millisecond, SkewGrace: 300 * time.Millisecond,
		Program: func() string { return "v2" }})
	if err != nil {
		t.Fatal(err)
	}
	a.Round(bg)
	b.Round(bg)
	if s := a.ProgramSkew(); s != nil {
		t.Errorf("skew reported before the grace: %+v", s)
	}
	time.Sleep(400 * time.Millisecond)
	a.Round(bg)
	b.Round(bg)
	s := a.ProgramSkew()
	if s == nil || s.Mine != "v1" || !slices.Equal(s.Others, []string{"v2"}) {
		t.Fatalf("a's skew after the grace: %+v", s)
	}
	if st, err := a.Status(bg); err != nil || len(st.Programs) != 2 {
		t.Errorf("status programs: %+v, %v", st, err)
	}
	progA.Store("v2")
	a.Round(bg)
	if s := a.ProgramSkew(); s != nil {
		t.Errorf("skew after catching up: %+v", s)
	}
}

// A node paused in the middle of a transaction holds key-share locks on
// its shards' rows: the server ends its idle session after
// postgres.IdleInTxTimeout, and the other node takes the shards; the
// paused transaction's commit then fails. Without that timeout (set to 0
// in the URL) the takeover waits as long as the pause.
func TestPausedMidTransaction(t *testing.T) {
	for _, timeout := range []bool{true, false} {
		t.Run(fmt.Sprintf("timeout=%v", timeout), func(t *testing.T) {
			dsn := pgtest.DB(t)
			adsn := dsn
			if !timeout {
				adsn += "&idle_in_transaction_session_timeout=0"
			}
			a, sta := node(t, adsn, "a")
			rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
			owned := a.Owned()
			ids := make([]int32, len(owned))
			epochs := make([]int64, len(owned))
			for i, sh := range owned {
				ids[i] = int32(sh)
				epochs[i], _ = a.Epoch(sh)
			}
			tx, err := sta.Pool().Begin(bg)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(bg)
			if _, err := tx.Exec(bg, "SELECT waymark_fence($1, $2)", ids, epochs); err != nil {
				t.Fatal(err)
			}
			// a is paused here, its transaction open.
			b, _ := node(t, dsn, "b")
			deadline := time.Now().Add(postgres.IdleInTxTimeout + 3*time.Second)
			for len(b.Owned()) < 64 && time.Now().Before(deadline) {
				b.Round(bg)
				time.Sleep(100 * time.Millisecond)
			}
			if !timeout {
				if len(b.Owned()) == 64 {
					t.Fatal("b took the shards while a's transaction held them: the test shows nothing")
				}
				return
			}
			if len(b.Owned()) != 64 {
				t.Fatalf("b owns %d shards %v after a's transaction idled, want 64", len(b.Owned()), postgres.IdleInTxTimeout+3*time.Second)
			}
			if err := tx.Commit(bg); err == nil {
				t.Error("the paused transaction committed after its session was ended")
			}
		})
	}
}

// A node that dies holding claimed sends (an outbox lease of 30s) does not
// make them wait for that lease: the node that takes their shards makes
// them due at once, under their own keys, and the dead node's settlement,
// should it come back, is fenced. Without the re-claim at takeover, b's
// claim finds nothing until the 30s lease runs out.
func TestTakeoverReclaimsSends(t *testing.T) {
	dsn := pgtest.DB(t)
	a, sta := node(t, dsn, "a")
	rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
	var writes []store.CustomerWrite
	for i := range 12 {
		writes = append(writes, storetest.Write(fmt.Sprintf("r%d", i), 1, storetest.T0))
	}
	if err := sta.Commit(bg, &store.Batch{Customers: writes}); err != nil {
		t.Fatal(err)
	}
	claimed, err := sta.ClaimOutbox(bg, time.Now(), 30*time.Second, 100)
	if err != nil || len(claimed) != len(writes) {
		t.Fatalf("a claimed %d sends (%v), want %d", len(claimed), err, len(writes))
	}
	// a dies here, its sends claimed. b takes every shard once a's leases
	// (1s) run out.
	b, stb := node(t, dsn, "b")
	rounds(t, func() bool { return len(b.Owned()) == 64 }, b)
	if got := b.Stats().Reclaimed; got != uint64(len(writes)) {
		t.Errorf("b re-claimed %d sends at the takeover, want %d", got, len(writes))
	}
	again, err := stb.ClaimOutbox(bg, time.Now(), 30*time.Second, 100)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(items []store.OutboxItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Send.Key)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(keys(again), keys(claimed)) {
		t.Fatalf("b claimed %v right after the takeover, want a's sends %v under the same keys", keys(again), keys(claimed))
	}
	// a comes back and settles what it held: refused, the sends are b's.
	if err := sta.Delivered(bg, claimed[0].Send.Key, time.Now()); !errors.Is(err, postgres.ErrFenced) {
		t.Errorf("a's Delivered after the takeover: %v, want it fenced", err)
	}
	if err := stb.Delivered(bg, again[0].Send.Key, time.Now()); err != nil {
		t.Errorf("b's Delivered: %v", err)
	}
}

// During a rollout the shards go only to the nodes that run the newest
// program (the one installed last): a customer a new node migrated is
// never stepped again by the old program. Once every node runs it, they
// share the shards again. Without the rule, b would take only its share.
func TestNewestProgramOwns(t *testing.T) {
	dsn := pgtest.DB(t)
	var progA atomic.Value
	progA.Store("v1")
	open := func(id string, prog func() string) (*Node, *postgres.Store) {
		st, err := postgres.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		n, err := New(bg, st, Options{ID: id, Lease: time.Second, Tick: 100 * time.Millisecond, Program: prog})
		if err != nil {
			t.Fatal(err)
		}
		return n, st
	}
	a, sta := open("a", func() string { return progA.Load().(string) })
	if err := sta.SaveProgram(bg, store.Program{Hash: "v1", IR: []byte("{}"), CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
	// b starts on v2, installed after v1.
	if err := sta.SaveProgram(bg, store.Program{Hash: "v2", IR: []byte("{}"), CreatedAt: storetest.T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	b, _ := open("b", func() string { return "v2" })
	rounds(t, func() bool { return len(b.Owned()) == 64 && len(a.Owned()) == 0 }, a, b)
	// It stays so: the older node takes nothing back.
	for range 5 {
		a.Round(bg)
		b.Round(bg)
	}
	if len(a.Owned()) != 0 {
		t.Fatalf("a, on the older program, took shards %v", a.Owned())
	}
	// a catches up: the shards split again.
	progA.Store("v2")
	rounds(t, func() bool { return len(a.Owned()) > 0 && len(b.Owned()) > 0 && len(a.Owned())+len(b.Owned()) == 64 }, a, b)
}

// A claim from the outbox fences every shard the node owns: when one of
// them has moved (a handover under way), the node drops that one only,
// not all 64 (which it would take back a round later, with new epochs
// that fence its own commits under way).
func TestFencedClaimDropsOnlyTheMovedShard(t *testing.T) {
	dsn := pgtest.DB(t)
	a, sta := node(t, dsn, "a")
	rounds(t, func() bool { return len(a.Owned()) == 64 }, a)
	if _, err := sta.Pool().Exec(bg, "UPDATE shards SET owner = 'b', epoch = epoch + 1 WHERE shard = 5"); err != nil {
		t.Fatal(err)
	}
	if _, err := sta.ClaimOutbox(bg, time.Now(), 30*time.Second, 10); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("a claim with shard 5 moved: %v, want it fenced", err)
	}
	if got := a.Owned(); len(got) != 63 || slices.Contains(got, 5) {
		t.Errorf("after the fenced claim a owns %d shards (5 among them: %v), want the 63 others", len(got), slices.Contains(got, 5))
	}
}
