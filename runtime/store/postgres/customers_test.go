package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// The customer list is in byte order, a prefix one range of ids, in a
// database whose collation is not byte order too (an ICU one, where "B1"
// sorts after "ab"), and through the index migration 5 made for it.
func TestListCustomersCollation(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Need(t)
	admin := sqlConn(t, srv.DSN("postgres"))
	name := fmt.Sprintf("waymark_icu_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"); err != nil {
		t.Skipf("this PostgreSQL cannot make an ICU database (%v): the list's collation is untested", err)
	}
	dsn := srv.DSN(name)
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := []string{"B1", "a/1", "a0", "ab", "b", "Ab", "é"}
	var ws []store.CustomerWrite
	for i, id := range ids {
		ws = append(ws, storetest.Write(id, i+1, storetest.T0))
	}
	if err := s.Commit(ctx, &store.Batch{Customers: ws}); err != nil {
		t.Fatal(err)
	}
	list := func(q store.CustomerQuery) []string {
		t.Helper()
		p, err := s.ListCustomers(ctx, q)
		if err != nil {
			t.Fatalf("ListCustomers(%+v): %v", q, err)
		}
		var got []string
		for _, c := range p.Customers {
			got = append(got, c.ID)
		}
		return got
	}
	for _, tc := range []struct {
		q    store.CustomerQuery
		want []string
	}{
		{store.CustomerQuery{Limit: 100}, []string{"Ab", "B1", "a/1", "a0", "ab", "b", "é"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "a"}, []string{"a/1", "a0", "ab"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "B"}, []string{"B1"}},
		{store.CustomerQuery{Limit: 100, After: "B1"}, []string{"a/1", "a0", "ab", "b", "é"}},
		{store.CustomerQuery{Limit: 100, Scan: 2, After: "a/1"}, []string{"a0", "ab"}},
	} {
		if got := list(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("ListCustomers(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}
	var plan strings.Builder
	rs, err := sqlConn(t, dsn).Query(ctx, `EXPLAIN SELECT id FROM customers WHERE id COLLATE "C" > 'a' AND id COLLATE "C" >= 'a' AND id COLLATE "C" < 'b' ORDER BY id COLLATE "C" LIMIT 256`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var line string
		if err := rs.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if rs.Err() != nil || !strings.Contains(plan.String(), "customers_id_bytes") {
		t.Errorf("the list does not walk customers_id_bytes (%v):\n%s", rs.Err(), plan.String())
	}
}

// Prefixes and cursors PostgreSQL cannot hold as text: a prefix no id has
// is an empty page, a cursor no list gave is an error naming it.
func TestListCustomersBadText(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("a", 1, storetest.T0)}}); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"\xff", "a\x00", "\U0010FFFF"} {
		if p, err := s.ListCustomers(ctx, store.CustomerQuery{Limit: 10, IDPrefix: prefix}); err != nil || len(p.Customers) != 0 {
			t.Errorf("ListCustomers(prefix %q) = %+v, %v; want an empty page", prefix, p, err)
		}
	}
	if _, err := s.ListCustomers(ctx, store.CustomerQuery{Limit: 10, After: "\xff"}); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Errorf("ListCustomers(after \\xff): %v, want an error about the cursor", err)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"", ""},
		{"a", "b"},
		{"a/", "a0"},
		{"ÿ", "Ā"},
		{"a\U0010FFFF", "b"},
		{"\U0010FFFF", ""},
		{"\uD7FF", "\uE000"},
	} {
		if got := prefixEnd(tc.prefix); got != tc.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

// An erase is fenced like a commit: a node that lost the customer's shard
// erases nothing and is told; one that does not own it by its own account
// does not even try.
func TestFencedErase(t *testing.T) {
	ctx := context.Background()
	s, dsn := openStore(t)
	w := storetest.Write("c", 1, storetest.T0)
	sh := s.ShardOf("c")
	f := &fakeFence{epochs: map[int]int64{sh: 0}}
	s.SetFence(f)
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlConn(t, dsn).Exec(ctx, "UPDATE shards SET epoch = epoch + 1, owner = 'other' WHERE shard = $1", sh); err != nil {
		t.Fatal(err)
	}
	_, err := s.Erase(ctx, "c")
	var fe *FencedError
	if !errors.As(err, &fe) || !slices.Contains(fe.Shards, sh) {
		t.Fatalf("erase after the takeover: %v, want a FencedError for shard %d", err, sh)
	}
	if !slices.Contains(f.lost, sh) {
		t.Errorf("the fence was not told: lost %v", f.lost)
	}
	still := func(when string) {
		t.Helper()
		if _, err := s.Customer(ctx, "c"); err != nil {
			t.Errorf("%s: the customer is gone: %v", when, err)
		}
		if ss, err := s.Sends(ctx, "c"); err != nil || len(ss) == 0 {
			t.Errorf("%s: the sends are gone: %v, %v", when, ss, err)
		}
		if ok, err := s.Deliverable(ctx, ss0(t, s)); err != nil || !ok {
			t.Errorf("%s: the pending send is no longer deliverable: %v, %v", when, ok, err)
		}
	}
	still("after a fenced erase")

	s.SetFence(&fakeFence{epochs: map[int]int64{}})
	if _, err := s.Erase(ctx, "c"); !errors.As(err, &fe) {
		t.Fatalf("erase of a shard the node does not own: %v, want a FencedError", err)
	}
	still("after an erase of a shard not owned")

	// At the new epoch it erases.
	s.SetFence(&fakeFence{epochs: map[int]int64{sh: 1}})
	if e, err := s.Erase(ctx, "c"); err != nil || !e.Customer {
		t.Fatalf("erase at the owned epoch: %+v, %v", e, err)
	}
}

// ss0 is the key of c's first send.
func ss0(t *testing.T, s *Store) string {
	t.Helper()
	ss, err := s.Sends(context.Background(), "c")
	if err != nil || len(ss) == 0 || ss[0].Fate != engine.FateDeliver {
		t.Fatalf("c's sends: %+v, %v", ss, err)
	}
	return ss[0].Key
}

// A state a pre-fix database holds that cannot be decoded, written here
// with SQL, leaves the list answering the others and naming it
// (storetest.RunUnreadable). Before the fix, the list failed for everyone.
func TestListCustomersUnreadable(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	storetest.RunUnreadable(t, s, func(t *testing.T, id string, state []byte) {
		if _, err := s.Pool().Exec(ctx, "UPDATE customers SET state = $2 WHERE id = $1", id, state); err != nil {
			t.Fatal(err)
		}
	})
	// The bulk read fails on it with store.ErrUnreadable, so the worker
	// can read one by one and fail only that customer.
	if _, err := s.Customers(ctx, []string{"a", "b", "d"}); !errors.Is(err, store.ErrUnreadable) {
		t.Errorf("Customers(a, b, d) = %v, want an error wrapping store.ErrUnreadable", err)
	}
}
