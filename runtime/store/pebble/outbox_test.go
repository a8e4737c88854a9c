package pebble

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// A claim costs what it claims, not what earlier claims deleted: the
// tombstones of delivered items stay in the memtable until a flush, and a
// claim that walked od/ from its start stepped over all of them (the drain
// slowed from ~1k to ~200 items/s). Late in a drain, and after items due
// earlier arrive and go, a claim of 8 steps over a handful of keys.
func TestClaimSkipsDrainedKeys(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2000
	commitItems := func(from, to int, at time.Time) {
		bt := &store.Batch{}
		for i := from; i < to; i++ {
			bt.Customers = append(bt.Customers, storetest.Write(fmt.Sprintf("c%05d", i), 1, at.Add(time.Duration(i)*time.Millisecond)))
		}
		if err := s.Commit(ctx, bt); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 500 {
		commitItems(i, i+500, storetest.T0)
	}
	var steps int
	s.claimSteps = func(k int) { steps = k }
	now := storetest.T0.Add(time.Hour)
	drain := func(want int) (maxSteps int) {
		for done := 0; ; {
			items, err := s.ClaimOutbox(ctx, now, time.Minute, 8)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) == 0 {
				if done != want {
					t.Fatalf("drained %d items, want %d", done, want)
				}
				return maxSteps
			}
			if done >= want/2 {
				maxSteps = max(maxSteps, steps)
			}
			for _, it := range items {
				if err := s.Delivered(ctx, it.Send.Key, now); err != nil {
					t.Fatal(err)
				}
			}
			done += len(items)
		}
	}
	// Each claim may step over its own items, its own keys of a lease
	// (set in the same batch) and the bounds: well under a hundred.
	const bound = 64
	if got := drain(n); got > bound {
		t.Errorf("late in the drain a claim of 8 stepped over %d keys, want at most %d", got, bound)
	}
	// Items due before everything drained so far (a replay, a clock
	// behind) are found, and cost no more.
	commitItems(n, n+200, storetest.T0.Add(-time.Hour))
	if got := drain(200); got > bound {
		t.Errorf("draining items due earlier, a claim stepped over %d keys, want at most %d", got, bound)
	}
	// A lease that runs out brings its item back, though the floor moved
	// past where it was first due.
	commitItems(n+200, n+201, storetest.T0)
	if items, err := s.ClaimOutbox(ctx, now, time.Minute, 8); err != nil || len(items) != 1 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	if items, err := s.ClaimOutbox(ctx, now.Add(30*time.Second), time.Minute, 8); err != nil || len(items) != 0 {
		t.Fatalf("claim within the lease: %d items, %v", len(items), err)
	}
	if items, err := s.ClaimOutbox(ctx, now.Add(2*time.Minute), time.Minute, 8); err != nil || len(items) != 1 {
		t.Fatalf("claim after the lease ran out: %d items, %v; want the item back", len(items), err)
	}
}
