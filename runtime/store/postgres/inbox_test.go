package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Enqueue keeps each message id once, the first input under it, whether
// the repeat comes in the same request, in a later one (the group's COPY
// fails on it and the group's inputs are written by an INSERT that skips
// it), or in a request of the same group; a request's rows keep its order
// in the inbox; and no request fails for another's repeat.
func TestEnqueueKeepsEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	item := func(id, input string) InboxItem {
		return InboxItem{Shard: len(id) % 7, Customer: "c-" + id, MessageID: id, Input: []byte(input)}
	}
	tests := []struct {
		name     string
		requests [][]InboxItem // in turn
		want     []string      // the inbox, in seq order: message id=input
	}{
		{
			name:     "one request",
			requests: [][]InboxItem{{item("a", "1"), item("b", "2"), item("c", "3")}},
			want:     []string{"a=1", "b=2", "c=3"},
		},
		{
			name:     "twice in one request",
			requests: [][]InboxItem{{item("a", "1"), item("b", "2"), item("a", "again")}},
			want:     []string{"a=1", "b=2"},
		},
		{
			name:     "again in a later request",
			requests: [][]InboxItem{{item("a", "1")}, {item("b", "2"), item("a", "again"), item("c", "3")}},
			want:     []string{"a=1", "b=2", "c=3"},
		},
		{
			name:     "an erase (empty input)",
			requests: [][]InboxItem{{item("a", "1"), {Shard: 3, Customer: "c-a", MessageID: "e", Erase: true}}},
			want:     []string{"a=1", "e=(erase)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openStore(t)
			for _, r := range tt.requests {
				if err := s.Enqueue(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if got := inboxContent(t, s); !slices.Equal(got, tt.want) {
				t.Errorf("inbox %q, want %q", got, tt.want)
			}
		})
	}

	// Requests at once share groups: each id in two requests, in either
	// order, every request's ids in increasing order.
	t.Run("requests at once", func(t *testing.T) {
		s, _ := openStore(t)
		const requests, each = 40, 30
		var wg sync.WaitGroup
		for r := range requests {
			wg.Go(func() {
				var items []InboxItem
				for k := range each {
					// Request r holds ids r*each/2 ... : half its ids are the
					// next request's too.
					id := fmt.Sprintf("m%05d", r*each/2+k)
					items = append(items, item(id, fmt.Sprintf("r%d", r)))
				}
				if err := s.Enqueue(ctx, items); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		rows, err := s.Inbox(ctx, allShards(s), 10*requests*each)
		if err != nil {
			t.Fatal(err)
		}
		if want := (requests + 1) * each / 2; len(rows) != want {
			t.Errorf("%d rows in the inbox, want %d (each id once)", len(rows), want)
		}
		seen := map[string]bool{}
		last := map[string]string{} // request -> its last id, in seq order
		for _, r := range rows {
			if seen[r.MessageID] {
				t.Errorf("%s twice in the inbox", r.MessageID)
			}
			seen[r.MessageID] = true
			req := string(r.Input)
			var n, k int
			fmt.Sscanf(req, "r%d", &n)
			fmt.Sscanf(r.MessageID, "m%d", &k)
			if k < n*each/2 || k >= n*each/2+each {
				t.Errorf("%s holds the input of request %d, which did not send it", r.MessageID, n)
			}
			if r.MessageID < last[req] {
				t.Errorf("request %s: %s after %s in the inbox", req, r.MessageID, last[req])
			}
			last[req] = r.MessageID
		}
	})
}

func allShards(s *Store) []int {
	var all []int
	for sh := range s.Shards() {
		all = append(all, sh)
	}
	return all
}

// inboxContent is the inbox in seq order, each row as id=input.
func inboxContent(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.Inbox(context.Background(), allShards(s), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		in := string(r.Input)
		if r.Erase {
			in = "(erase)"
		}
		got = append(got, r.MessageID+"="+in)
	}
	return got
}
