package cluster

import (
	"fmt"
	"slices"
	"testing"
)

// Assign spreads shards evenly (every node an even share, give or take
// one), the same whatever the order of the live list, and moves few
// shards when a node joins or leaves: all of the leaver's and all the
// newcomer's, and at most as many again plus a few (bounded loads can
// push a shard off its first choice).
func TestAssign(t *testing.T) {
	for _, shards := range []int{1, 16, 64, 256} {
		for _, n := range []int{1, 2, 3, 4, 7, 8} {
			for trial := range 40 {
				var nodes []string
				for i := range n {
					nodes = append(nodes, fmt.Sprintf("host-%d-%08x", trial, (i+1)*2654435761))
				}
				name := fmt.Sprintf("%d shards, %d nodes, trial %d", shards, n, trial)
				owners := Assign(shards, nodes)
				count := checkSpread(t, name, shards, nodes, owners)

				reversed := slices.Clone(nodes)
				slices.Reverse(reversed)
				if again := Assign(shards, reversed); !slices.Equal(again, owners) {
					t.Errorf("%s: the owners depend on the order of the node list", name)
				}

				newcomer := fmt.Sprintf("newcomer-%d", trial)
				joined := append(slices.Clone(nodes), newcomer)
				after := Assign(shards, joined)
				checkSpread(t, name+" + 1", shards, joined, after)
				moved, taken := 0, 0
				for sh := range shards {
					if after[sh] != owners[sh] {
						moved++
					}
					if after[sh] == newcomer {
						taken++
					}
				}
				if moved > 2*taken+4 {
					t.Errorf("%s + 1: %d shards moved for the newcomer's %d", name, moved, taken)
				}

				if n > 1 {
					left := nodes[1:]
					after := Assign(shards, left)
					checkSpread(t, name+" - 1", shards, left, after)
					moved := 0
					for sh := range shards {
						if after[sh] != owners[sh] {
							moved++
						} else if owners[sh] == nodes[0] {
							t.Errorf("%s - 1: shard %d stays with the node that left", name, sh)
						}
					}
					if gave := count[nodes[0]]; moved > 2*gave+4 {
						t.Errorf("%s - 1: %d shards moved for the leaver's %d", name, moved, gave)
					}
				}
			}
		}
	}
	if got := Assign(64, nil); got != nil {
		t.Errorf("Assign over no node = %q", got)
	}
}

// checkSpread checks that every shard has an owner among nodes and that
// the nodes' shares differ by one at most, and returns them.
func checkSpread(t *testing.T, name string, shards int, nodes, owners []string) map[string]int {
	t.Helper()
	if len(owners) != shards {
		t.Fatalf("%s: %d owners for %d shards", name, len(owners), shards)
	}
	count := map[string]int{}
	for sh, o := range owners {
		if !slices.Contains(nodes, o) {
			t.Fatalf("%s: shard %d goes to %q, not a live node", name, sh, o)
		}
		count[o]++
	}
	for _, id := range nodes {
		if c := count[id]; c < shards/len(nodes) || c > (shards+len(nodes)-1)/len(nodes) {
			t.Errorf("%s: %s owns %d shards, not an even share", name, id, c)
		}
	}
	return count
}
