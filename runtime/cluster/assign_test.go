package cluster

import (
	"fmt"
	"testing"
)

// Rendezvous hashing spreads shards evenly and moves only what it must:
// a node joining takes shards only for itself, a node leaving gives only
// its own.
func TestAssign(t *testing.T) {
	const shards = 64
	for _, n := range []int{1, 2, 3, 4, 8} {
		var nodes []string
		for i := range n {
			nodes = append(nodes, fmt.Sprintf("host-%d-%08x", 1000+i, i*2654435761))
		}
		count := map[string]int{}
		before := map[int]string{}
		for sh := range shards {
			o := Assign(sh, nodes)
			count[o]++
			before[sh] = o
		}
		for _, id := range nodes {
			// An even share is 64/n; allow a wide margin for hashing.
			if c := count[id]; c < shards/n/3 || c > shards/n*3+2 {
				t.Errorf("%d nodes: %s owns %d shards", n, id, c)
			}
		}
		joined := append(append([]string{}, nodes...), "newcomer-1")
		moved := 0
		for sh := range shards {
			if o := Assign(sh, joined); o != before[sh] {
				moved++
				if o != "newcomer-1" {
					t.Errorf("%d nodes + 1: shard %d moved from %s to %s, not to the newcomer", n, sh, before[sh], o)
				}
			}
		}
		if moved == 0 {
			t.Errorf("%d nodes + 1: the newcomer got no shard", n)
		}
		if n > 1 {
			left := nodes[1:]
			for sh := range shards {
				if o := Assign(sh, left); o != before[sh] && before[sh] != nodes[0] {
					t.Errorf("%s left: shard %d moved from %s, which stayed", nodes[0], sh, before[sh])
				}
			}
		}
	}
	if got := Assign(3, nil); got != "" {
		t.Errorf("Assign over no node = %q", got)
	}
}
