package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// fakeFence owns the shards in epochs, at those epochs.
type fakeFence struct {
	mu     sync.Mutex
	epochs map[int]int64
	lost   []int
}

func (f *fakeFence) Epoch(shard int) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.epochs[shard]
	return e, ok
}

func (f *fakeFence) Owned() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for sh := range f.epochs {
		out = append(out, sh)
	}
	slices.Sort(out)
	return out
}

func (f *fakeFence) Lost(shards []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = append(f.lost, shards...)
}

// A commit and a delivered-mark to a shard whose epoch moved on (another
// node took it over) are refused, write nothing, and tell the fence.
func TestFencedWrites(t *testing.T) {
	ctx := context.Background()
	s, dsn := openStore(t)
	w := storetest.Write("c", 1, storetest.T0)
	sh := s.ShardOf("c")
	f := &fakeFence{epochs: map[int]int64{sh: 0}}
	s.SetFence(f)
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatalf("commit at the owned epoch: %v", err)
	}
	items, err := s.ClaimOutbox(ctx, storetest.T0.Add(time.Hour), time.Minute, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v, %v", items, err)
	}

	// Another node takes the shard over.
	if _, err := sqlConn(t, dsn).Exec(ctx, "UPDATE shards SET epoch = epoch + 1, owner = 'other' WHERE shard = $1", sh); err != nil {
		t.Fatal(err)
	}
	w2 := storetest.Write("c", 2, storetest.T0.Add(time.Second))
	err = s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w2}})
	var fe *FencedError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFenced) || !slices.Contains(fe.Shards, sh) {
		t.Fatalf("commit after the takeover: %v, want a FencedError for shard %d", err, sh)
	}
	if c, err := s.Customer(ctx, "c"); err != nil || c.Instances[0].Visit != w.State.Instances[0].Visit || len(c.Seen) != len(w.State.Seen) {
		t.Errorf("the fenced commit changed the state: %+v, %v", c, err)
	}
	if m, _ := s.SeenMessages(ctx, []string{"c-m2"}); m["c-m2"] {
		t.Error("the fenced commit's message id is seen")
	}
	if err := s.Delivered(ctx, items[0].Send.Key, storetest.T0.Add(time.Hour)); !errors.Is(err, ErrFenced) {
		t.Errorf("delivered-mark after the takeover: %v, want fenced", err)
	}
	if rs, _ := s.Sends(ctx, "c"); len(rs) != 1 || rs[0].Delivery != store.DeliveryPending {
		t.Errorf("sends after the fenced mark: %+v", rs)
	}
	if !slices.Contains(f.lost, sh) {
		t.Errorf("the fence was told of lost shards %v, want %d among them", f.lost, sh)
	}

	// A shard the node never owned is refused before the database.
	other := "d"
	for s.ShardOf(other) == sh {
		other += "d"
	}
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{storetest.Write(other, 1, storetest.T0)}}); !errors.Is(err, ErrFenced) {
		t.Errorf("commit to a shard not owned: %v", err)
	}
	// Due and claims see only owned shards: none now that its epoch moved.
	f.mu.Lock()
	f.epochs = map[int]int64{sh: 1}
	f.mu.Unlock()
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w2}}); err != nil {
		t.Fatalf("commit at the new epoch: %v", err)
	}
	f.mu.Lock()
	f.epochs = map[int]int64{(sh + 1) % s.Shards(): 0}
	f.mu.Unlock()
	if ws, err := s.Due(ctx, storetest.T0.Add(1000*time.Hour), 10); err != nil || len(ws) != 0 {
		t.Errorf("Due of other shards: %v, %v", ws, err)
	}
	if its, err := s.ClaimOutbox(ctx, storetest.T0.Add(1000*time.Hour), time.Minute, 10); err != nil || len(its) != 0 {
		t.Errorf("claim of other shards: %v, %v", its, err)
	}
	// Unfenced (a store of one node), everything is seen.
	s.SetFence(nil)
	if ws, err := s.Due(ctx, storetest.T0.Add(1000*time.Hour), 10); err != nil || len(ws) != 1 {
		t.Errorf("Due unfenced: %v, %v", ws, err)
	}
}

// A prune whose cut lies after a whole month drops that month's partition,
// keeping the send of a pending item, which is still listed and claimable.
func TestPrunePartition(t *testing.T) {
	ctx := context.Background()
	s, dsn := openStore(t)
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	at := month.Add(24 * time.Hour)
	c := &engine.Customer{ID: "c"}
	mk := func(name string) engine.Send {
		return engine.Send{Key: "c/j/1/1/" + name, Journey: "j", Instance: "c/j/1", Stage: "s", Name: name,
			Channel: "email", ChannelType: "smtp", Fate: engine.FateDeliver, At: at}
	}
	pending, delivered := mk("pending"), mk("delivered")
	tr := engine.Transition{Instance: "c/j/1", Journey: "j", Version: "v1", To: "s", Cause: "entry:e", Status: engine.StatusActive, At: at}
	w := store.CustomerWrite{State: c, Results: []engine.Result{{Transitions: []engine.Transition{tr, tr}, Sends: []engine.Send{pending, delivered}}}}
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, delivered.Key, at); err != nil {
		t.Fatal(err)
	}
	conn := sqlConn(t, dsn)
	var inPart int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+partitionName(month)).Scan(&inPart); err != nil || inPart != 4 {
		t.Fatalf("%d rows in the month's partition (%v), want 4", inPart, err)
	}
	records, items, err := s.PruneHistory(ctx, month.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if records != 3 || items != 1 {
		t.Errorf("PruneHistory = %d records, %d items; want 3 (2 transitions, the delivered send), 1", records, items)
	}
	var gone bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NULL", partitionName(month)).Scan(&gone); err != nil || !gone {
		t.Errorf("the month's partition is still there (%v)", err)
	}
	rs, err := s.Sends(ctx, "c")
	if err != nil || len(rs) != 1 || rs[0].Key != pending.Key || rs[0].Delivery != store.DeliveryPending {
		t.Errorf("sends after the prune: %+v, %v; want the pending one", rs, err)
	}
	its, err := s.ClaimOutbox(ctx, at, time.Minute, 10)
	if err != nil || len(its) != 1 || its[0].Send.Key != pending.Key {
		t.Errorf("claim after the prune: %+v, %v", its, err)
	}
}

// A commit whose states were read under an epoch of their shard before
// the node lost it is refused once the node has taken the shard back (at
// a later epoch): another owner may have written the customer meanwhile.
// Nothing is written, and the node keeps the shard.
func TestStaleTokensRefused(t *testing.T) {
	ctx := context.Background()
	s, dsn := openStore(t)
	sh := s.ShardOf("c")
	// The node owns the shard at epoch 3 (the database says so too).
	if _, err := sqlConn(t, dsn).Exec(ctx, "UPDATE shards SET epoch = 3, owner = 'me' WHERE shard = $1", sh); err != nil {
		t.Fatal(err)
	}
	f := &fakeFence{epochs: map[int]int64{sh: 3}}
	s.SetFence(f)
	w := storetest.Write("c", 1, storetest.T0)
	tests := []struct {
		name   string
		tokens map[string]int64
		stale  bool
	}{
		{"read under an earlier epoch", map[string]int64{"c": 2}, true},
		{"read under the epoch owned now", map[string]int64{"c": 3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w}, Tokens: tt.tokens})
			var fe *FencedError
			switch {
			case tt.stale && (!errors.As(err, &fe) || !fe.Stale || !slices.Equal(fe.Shards, []int{sh})):
				t.Fatalf("commit: %v, want a stale FencedError for shard %d", err, sh)
			case !tt.stale && err != nil:
				t.Fatalf("commit: %v", err)
			}
			_, err = s.Customer(ctx, "c")
			if written := err == nil; written == tt.stale {
				t.Errorf("customer written: %v (%v), want %v", written, err, !tt.stale)
			}
			if len(f.lost) != 0 {
				t.Errorf("the fence was told it lost %v: the node owns the shard", f.lost)
			}
		})
	}
}
