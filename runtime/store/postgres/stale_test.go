package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// StaleCustomers lists the customers of the shards given that have an
// active instance on a version not among those given, in id order, a page
// at a time. Write's customers have two instances, on v-3f9a1c and
// v-77b2e0.
func TestStaleCustomers(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	var ws []store.CustomerWrite
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("s%02d", i)
		ids = append(ids, id)
		ws = append(ws, storetest.Write(id, 1, storetest.T0))
	}
	if err := s.Commit(ctx, &store.Batch{Customers: ws}); err != nil {
		t.Fatal(err)
	}
	all := make([]int, s.Shards())
	for i := range all {
		all[i] = i
	}
	some := []int{s.ShardOf("s03"), s.ShardOf("s11")}
	var inSome []string
	for _, id := range ids {
		if slices.Contains(some, s.ShardOf(id)) {
			inSome = append(inSome, id)
		}
	}
	both := []string{"v-3f9a1c", "v-77b2e0"}
	for _, tc := range []struct {
		name     string
		shards   []int
		versions []string
		want     []string
	}{
		{"every shard, one version runs", all, both[:1], ids},
		{"every shard, no version runs", all, nil, ids},
		{"every shard, both versions run", all, both, nil},
		{"two shards", some, both[1:], inSome},
		{"no shard", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			after := ""
			for {
				page, err := s.StaleCustomers(ctx, tc.shards, tc.versions, after, 3)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if len(page) < 3 {
					break
				}
				after = page[len(page)-1]
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
