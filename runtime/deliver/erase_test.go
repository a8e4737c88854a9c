package deliver

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
)

// erasingStore erases customer "a" right after a claim that holds one of
// its items: the erase falls between the claim and the attempt.
type erasingStore struct {
	*sqlite.Store
	once sync.Once
}

func (s *erasingStore) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	items, err := s.Store.ClaimOutbox(ctx, now, lease, limit)
	for _, it := range items {
		if strings.HasPrefix(it.Send.Key, "a/") {
			s.once.Do(func() {
				if _, err := s.Erase(ctx, "a"); err != nil {
					panic(err)
				}
			})
		}
	}
	return items, err
}

// An item claimed before its customer was erased is not delivered after
// the erase, on the real SQLite store; the other customers' items are.
func TestDispatcherSkipsErasedItems(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ws []store.CustomerWrite
	for _, id := range []string{"a", "b"} {
		s := testSend(id+"/j/1/1/hi", "crm")
		s.Instance, s.At = id+"/j/1", t0
		ws = append(ws, store.CustomerWrite{State: &engine.Customer{ID: id}, Results: []engine.Result{{Sends: []engine.Send{s}}}})
	}
	if err := st.Commit(context.Background(), &store.Batch{Customers: ws}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var delivered []string
	ch := chanFunc(func(_ context.Context, s engine.Send) error {
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, s.Key)
		return nil
	})
	d := New(&erasingStore{Store: st}, map[string]Channel{"crm": ch}, Options{Now: func() time.Time { return t0.Add(time.Second) },
		PollInterval: 2 * time.Millisecond, Logger: quietLogger()})
	startDispatcher(t, d)
	deadline := time.Now().Add(10 * time.Second)
	for d.Stats().Delivered+d.Stats().Cancelled < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %+v", d.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(delivered, []string{"b/j/1/1/hi"}) || d.Stats().Cancelled != 1 || d.Stats().SettleErrors != 0 {
		t.Errorf("delivered %q, stats %+v; want b's item alone, a's cancelled", delivered, d.Stats())
	}
}
