package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// mergeProgram has what a merge moves or ends: a run with a timer and a
// send to deliver (onboarding), and a run under quiet hours whose send is
// held at mergeNow (promo, 22:00 UTC), counted by a frequency cap.
const mergeProgram = `
channel "log" {
  type = "log"
}
topic "t" {
  default = "subscribed"
}
policy "p" {
  topic         = topic.t
  quiet_hours   = "21:00-08:00"
  frequency_cap = "5 per 7d"
}
journey "onboarding" {
  reentry = "always"
  entry "signup" {}
  stage "welcome" {
    send "hello" {
      channel = channel.log
      data    = { id = customer.id }
    }
    on "done" { goto = end }
    after "1h" { goto = stage.nudge }
  }
  stage "nudge" {
    send "nudge" {
      channel = channel.log
      data    = { id = customer.id }
    }
    goto = end
  }
}
journey "promo" {
  policy  = policy.p
  reentry = "always"
  entry "viewed" {}
  stage "offer" {
    send "offer" {
      channel = channel.log
      data    = { x = 1 }
    }
    on "bought" { goto = end }
  }
}
`

// mergeNow is the clock of every worker in these tests: the same inputs
// give the same states on one node and in a cluster.
var mergeNow = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)

func mergeEngine(t *testing.T) *engine.Engine {
	t.Helper()
	ws, diags := lang.Parse(".", []lang.SourceFile{{Path: "m.journey.hcl", Src: []byte(mergeProgram)}})
	res, more := compiler.Check(ws, compiler.Options{})
	diags = append(diags, more...)
	if diags.HasErrors() || res.Program == nil {
		var b strings.Builder
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				b.WriteString("\n  " + d.Error())
			}
		}
		t.Fatalf("the program does not compile:%s", b.String())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// member is one in-process node of a test cluster: its store, node,
// worker (no cache, the fixed clock), pump and ingest.
type member struct {
	st   *postgres.Store
	n    *Node
	w    *worker.Worker
	p    *Pump
	in   *Ingest
	stop []context.CancelFunc
}

func newMember(t *testing.T, dsn, id string, eng *engine.Engine) *member {
	t.Helper()
	n, st := node(t, dsn, id)
	m := &member{st: st, n: n}
	m.w = worker.New(st, eng, worker.Options{CacheSize: -1, Now: func() time.Time { return mergeNow },
		Logger: slog.New(slog.DiscardHandler)})
	m.p = NewPump(st, n, m.w, nil)
	m.in = NewIngest(st, m.w, m.p)
	m.goRun(t, m.w.Run)
	return m
}

// goRun runs f until the member is stopped or the test ends.
func (m *member) goRun(t *testing.T, f func(context.Context) error) {
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { f(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	m.stop = append(m.stop, stop)
	t.Cleanup(stop)
}

// pump starts the member's pump.
func (m *member) pump(t *testing.T) { m.goRun(t, m.p.Run) }

// twoNodes starts two members whose nodes split the shards, and keeps
// them heartbeating.
func twoNodes(t *testing.T, eng *engine.Engine) (dsn string, a, b *member) {
	t.Helper()
	dsn = pgtest.DB(t)
	a = newMember(t, dsn, "a", eng)
	b = newMember(t, dsn, "b", eng)
	rounds(t, func() bool {
		return len(a.n.Owned())+len(b.n.Owned()) == 64 && len(a.n.Owned()) > 0 && len(b.n.Owned()) > 0
	}, a.n, b.n)
	a.goRun(t, a.n.Run)
	b.goRun(t, b.n.Run)
	return dsn, a, b
}

// idOn is the first id prefix-k whose shard m owns and that is not taken.
func idOn(t *testing.T, m *member, prefix string, taken map[string]bool) string {
	t.Helper()
	for k := range 1000 {
		id := fmt.Sprintf("%s-%d", prefix, k)
		if !taken[id] && m.n.Owns(m.st.ShardOf(id)) {
			taken[id] = true
			return id
		}
	}
	t.Fatalf("no id %s-k on a shard of %s", prefix, m.n.ID())
	return ""
}

// mop is one operation of a merge scenario, taken by node via.
type mop struct {
	via        int
	kind       string // "event", "identify", "merge", "erase", "settle" (the inbox empty first)
	who, into  string // customers by symbol (into: merges)
	event      string
	traits     map[string]any
	messageID  string // set by run when empty, except for merges
	mergeTwice bool   // the merge call again with the same message id
}

// mergeScenario places customers (by symbol) on nodes, and says which
// nodes' pumps run while the operations are taken (the others start after
// the last one is acknowledged, so their customers' inputs wait).
type mergeScenario struct {
	name   string
	places map[string]int
	early  []int
	ops    []mop
}

func ev(via int, who, event string) mop { return mop{via: via, kind: "event", who: who, event: event} }
func ident(via int, who string, traits map[string]any) mop {
	return mop{via: via, kind: "identify", who: who, traits: traits}
}
func mergeOp(via int, from, into string) mop {
	return mop{via: via, kind: "merge", who: from, into: into}
}
func eraseOp(via int, who string) mop { return mop{via: via, kind: "erase", who: who} }

// TestMergeMatchesOneNode runs each scenario on one node (SQLite, the
// worker's own Merge and Erase) and on two nodes of a cluster (the inbox),
// with the same clock, and compares every customer's state and history.
// The pumps of the nodes listed late start only after every operation was
// acknowledged, so the order of a merge with the inputs acknowledged after
// it, through either node, rests on the inbox alone.
func TestMergeMatchesOneNode(t *testing.T) {
	plan := map[string]any{"plan": "pro"}
	scenarios := []mergeScenario{{
		name:   "anonymous on another node, inputs before and after through both",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{1},
		ops: []mop{
			ev(0, "A", "viewed"), // promo: its offer held (quiet hours)
			ev(1, "A", "signup"), // onboarding: hello sent, a timer
			ident(1, "U", plan),
			ev(0, "U", "viewed"), // U's own promo: A's ends, its held offer dropped
			ident(0, "A", map[string]any{"utm": "ad", "plan": "free"}),
			mergeOp(1, "A", "U"),
			ev(0, "U", "done"),   // ends the onboarding run that came from A
			ev(1, "A", "signup"), // A starts afresh
			ident(0, "U", map[string]any{"seen": "yes"}),
		},
	}, {
		name:   "known customer's owner late",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{0},
		ops: []mop{
			ev(1, "A", "viewed"),
			ev(0, "U", "signup"),
			mergeOp(0, "A", "U"),
			ev(1, "U", "bought"), // ends the promo run that came from A
			ev(0, "A", "viewed"),
		},
	}, {
		name:   "same shard",
		places: map[string]int{"A": 0, "U": 0},
		ops: []mop{
			ev(1, "A", "signup"),
			mergeOp(1, "A", "U"),
			ev(0, "U", "done"),
		},
	}, {
		name:   "chain: a merge into a customer merged later",
		places: map[string]int{"A": 0, "U": 1, "V": 0},
		early:  []int{0},
		ops: []mop{
			ev(0, "A", "signup"),
			ev(1, "U", "viewed"),
			mergeOp(1, "A", "U"),
			mergeOp(0, "U", "V"),
			ev(1, "V", "done"),
			ev(0, "U", "viewed"),
		},
	}, {
		name:   "cycle: a into b, then b into a",
		places: map[string]int{"A": 0, "U": 1},
		ops: []mop{
			ev(0, "A", "signup"),
			ev(1, "U", "viewed"),
			mergeOp(1, "A", "U"),
			ev(0, "A", "viewed"),
			mergeOp(0, "U", "A"),
			ev(1, "A", "done"),
		},
	}, {
		name:   "nothing to merge: unknown, then itself",
		places: map[string]int{"A": 0, "U": 1},
		ops: []mop{
			ev(0, "U", "signup"),
			mergeOp(1, "A", "U"),
			mergeOp(0, "U", "U"),
			ev(1, "U", "done"),
		},
	}, {
		name:   "duplicate alias messageId",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{1},
		ops: []mop{
			ev(0, "A", "signup"),
			{via: 1, kind: "merge", who: "A", into: "U", messageID: "alias-1", mergeTwice: true},
			ev(0, "A", "viewed"),
			{via: 0, kind: "merge", who: "A", into: "U", messageID: "alias-1"}, // retried late: the same merge
		},
	}, {
		name:   "duplicate alias messageId after the merge was applied",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{0, 1},
		ops: []mop{
			ev(0, "A", "signup"),
			{via: 1, kind: "merge", who: "A", into: "U", messageID: "alias-1"},
			ev(0, "A", "viewed"),
			{kind: "settle"},
			{via: 0, kind: "merge", who: "A", into: "U", messageID: "alias-1"}, // its rows are gone: the message ids say it was applied
			ev(1, "U", "done"),
		},
	}, {
		name:   "erase of the customer merged, its state on the way",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{0},
		ops: []mop{
			ev(0, "A", "signup"),
			ev(0, "A", "viewed"),
			ev(1, "U", "viewed"),
			mergeOp(1, "A", "U"),
			eraseOp(0, "A"),
		},
	}, {
		name:   "erase of the known customer after the merge",
		places: map[string]int{"A": 0, "U": 1},
		early:  []int{0},
		ops: []mop{
			ev(0, "A", "signup"),
			ev(1, "U", "viewed"),
			mergeOp(1, "A", "U"),
			eraseOp(0, "U"), // A's history goes too, through A's owner
			ev(1, "U", "signup"),
		},
	}, {
		name:   "erase before the merge",
		places: map[string]int{"A": 0, "U": 1},
		ops: []mop{
			ev(0, "A", "signup"),
			eraseOp(1, "A"),
			mergeOp(1, "A", "U"),
			ev(0, "U", "viewed"),
		},
	}}
	eng := mergeEngine(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			_, a, b := twoNodes(t, eng)
			nodes := []*member{a, b}
			ids := map[string]string{}
			taken := map[string]bool{}
			var syms []string
			for sym := range sc.places {
				syms = append(syms, sym)
			}
			slices.Sort(syms)
			for _, sym := range syms {
				ids[sym] = idOn(t, nodes[sc.places[sym]], strings.ToLower(sym), taken)
			}
			ops := slices.Clone(sc.ops)
			for i := range ops {
				if (ops[i].kind == "event" || ops[i].kind == "identify") && ops[i].messageID == "" {
					ops[i].messageID = fmt.Sprintf("m%d", i)
				}
			}
			want := oneNode(t, eng, ops, ids)
			got := inCluster(t, nodes, sc.early, ops, ids)
			for _, sym := range syms {
				w, g := want[ids[sym]], got[ids[sym]]
				if w != g {
					t.Errorf("%s (%s) on one node:\n%s\nin the cluster:\n%s", sym, ids[sym], w, g)
				}
			}
			if w, g := want["tallies"], got["tallies"]; w != g {
				t.Errorf("analytics tallies on one node:\n%s\nin the cluster:\n%s", w, g)
			}
		})
	}
}

// oneNode applies ops in order on one node and describes each customer.
func oneNode(t *testing.T, eng *engine.Engine, ops []mop, ids map[string]string) map[string]string {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "one.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := worker.New(st, eng, worker.Options{Now: func() time.Time { return mergeNow }, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	seen := map[string]bool{} // merges by message id: the cluster applies one once
	for _, o := range ops {
		var err error
		switch o.kind {
		case "merge":
			if o.messageID != "" && seen[o.messageID] {
				continue
			}
			seen[o.messageID] = true
			_, err = w.Merge(bg, ids[o.who], ids[o.into])
		case "erase":
			_, err = w.Erase(bg, ids[o.who])
		case "settle":
		default:
			err = w.Submit(bg, []worker.Item{item(o, ids)})
		}
		if err != nil {
			t.Fatalf("one node: %+v: %v", o, err)
		}
	}
	return describeAll(t, st, ops, ids)
}

func item(o mop, ids map[string]string) worker.Item {
	in := engine.Input{Kind: engine.KindEvent, Event: o.event, MessageID: o.messageID}
	if o.kind == "identify" {
		in = engine.Input{Kind: engine.KindIdentify, Traits: o.traits, MessageID: o.messageID}
	}
	return worker.Item{CustomerID: ids[o.who], Input: in}
}

// inCluster takes ops through the nodes' ingests, each acknowledged before
// the next is taken, and waits until the inbox is empty.
func inCluster(t *testing.T, nodes []*member, early []int, ops []mop, ids map[string]string) map[string]string {
	t.Helper()
	for _, k := range early {
		nodes[k].pump(t)
	}
	erased := make(chan error, len(ops))
	erases := 0
	for _, o := range ops {
		in := nodes[o.via].in
		var err error
		switch o.kind {
		case "merge":
			for range map[bool]int{false: 1, true: 2}[o.mergeTwice] {
				_, err = in.MergeMessage(bg, ids[o.who], ids[o.into], o.messageID)
			}
		case "erase":
			// Acknowledged once in the inbox; the answer comes when
			// applied, maybe after the late pumps start.
			erases++
			done := make(chan struct{})
			go func() { _, err := in.Erase(bg, ids[o.who]); erased <- err; close(done) }()
			waitFor(t, func() bool {
				select {
				case <-done:
					return true
				default:
					return eraseWaiting(t, nodes[0].st, ids[o.who])
				}
			})
		case "settle":
			waitFor(t, func() bool { return inboxLen(t, nodes[0].st) == 0 })
		default:
			err = in.Submit(bg, []worker.Item{item(o, ids)})
		}
		if err != nil {
			t.Fatalf("cluster: %+v: %v", o, err)
		}
	}
	// The early pumps apply all they can before the late ones start:
	// what is left for them waits for a merge's state.
	for _, k := range early {
		waitFor(t, func() bool { return onlyWaiting(t, nodes[k]) })
	}
	for k := range nodes {
		if !slices.Contains(early, k) {
			nodes[k].pump(t)
		}
	}
	waitFor(t, func() bool { return inboxLen(t, nodes[0].st) == 0 })
	for range erases {
		if err := <-erased; err != nil {
			t.Fatalf("cluster: erase: %v", err)
		}
	}
	return describeAll(t, nodes[0].st, ops, ids)
}

// onlyWaiting: every row left in m's shards waits for a merge's state (a
// merge's in row not ready, or a later row of its customer).
func onlyWaiting(t *testing.T, m *member) bool {
	t.Helper()
	rows, err := m.st.Inbox(bg, m.n.Owned(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, r := range rows {
		if r.Merge == postgres.MergeIn && !r.Ready() {
			held[r.Customer] = true
		}
		if !held[r.Customer] {
			return false
		}
	}
	return true
}

func inboxLen(t *testing.T, st *postgres.Store) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(bg, "SELECT count(*) FROM inbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// eraseWaiting: an erase of id is in the inbox.
func eraseWaiting(t *testing.T, st *postgres.Store, id string) bool {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(bg, "SELECT count(*) FROM inbox WHERE erase AND customer = $1", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("not done within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func describeAll(t *testing.T, st store.Store, ops []mop, ids map[string]string) map[string]string {
	merged := map[string]bool{}
	for _, o := range ops {
		if o.kind == "merge" {
			merged[ids[o.who]] = true
		}
	}
	out := map[string]string{}
	for _, id := range ids {
		out[id] = describe(t, st, id, ids, merged[id])
	}
	// The analytics the scenario's records add, summed as a report does.
	var tallies []string
	for _, j := range []string{"onboarding", "promo"} {
		ts, err := st.(store.Tallies).SumTallies(bg, []string{j}, math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			tallies = append(tallies, fmt.Sprintf("%s %s %s %s n=%d sum=%g", j, x.Kind, x.A, x.B, x.N, x.Sum))
		}
	}
	slices.Sort(tallies)
	out["tallies"] = strings.Join(tallies, "\n")
	return out
}

// describe renders what a store keeps of a customer, with the ids of the
// scenario's customers replaced by their symbols. The history of a
// customer merged is compared as a set: its runs' ends, written by the
// merge's second half, may come after the records of its new life.
func describe(t *testing.T, st store.Store, id string, ids map[string]string, merged bool) string {
	t.Helper()
	var b strings.Builder
	c, err := st.Customer(bg, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		b.WriteString("state: none\n")
	case err != nil:
		t.Fatal(err)
	default:
		data, _ := json.Marshal(c)
		fmt.Fprintf(&b, "state: %s\n", data)
	}
	trs, err := st.Transitions(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	for _, tr := range trs {
		hist = append(hist, fmt.Sprintf("transition %s %s>%s %s %s", tr.Instance, tr.From, tr.To, tr.Cause, tr.Status))
	}
	sends, err := st.Sends(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sends {
		hist = append(hist, fmt.Sprintf("send %s %s %s", s.Key, s.Fate, s.Reason))
	}
	if merged {
		slices.Sort(hist) // see above
	}
	rs, err := st.(store.ReceivedHistory).Received(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		hist = append(hist, fmt.Sprintf("received %s %s %s", r.Kind, r.Name, r.MessageID))
	}
	b.WriteString(strings.Join(hist, "\n"))
	s := b.String()
	for sym, real := range ids {
		s = strings.ReplaceAll(s, real, "<"+sym+">")
	}
	return s
}

// mergeRows returns the out and in rows of the one merge waiting.
func mergeRows(t *testing.T, st *postgres.Store) (out, in postgres.InboxItem) {
	t.Helper()
	rows, err := st.Inbox(bg, allShards(st), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.Merge {
		case postgres.MergeOut:
			out = r
		case postgres.MergeIn:
			in = r
		}
	}
	if out.Seq == 0 || in.Seq == 0 {
		t.Fatalf("the merge's rows are not both in the inbox: %+v", rows)
	}
	return out, in
}

func allShards(st *postgres.Store) []int {
	var all []int
	for sh := range st.Shards() {
		all = append(all, sh)
	}
	return all
}

// mergesOf counts the merges recorded on id's received inputs.
func mergesOf(t *testing.T, st *postgres.Store, id string) int {
	t.Helper()
	rs, err := st.Received(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rs {
		if r.Kind == worker.KindMerge {
			n++
		}
	}
	return n
}

// A node that lost its shards (paused past its lease) cannot apply either
// half of a merge: each is refused whole by the fence, the customer's
// state, the state on its way and the inbox row stay as they were, and the
// new owner applies the half. A half applied again (a replay) writes
// nothing.
func TestMergeHalvesFenced(t *testing.T) {
	eng := mergeEngine(t)
	dsn := pgtest.DB(t)
	a := newMember(t, dsn, "a", eng)
	rounds(t, func() bool { return len(a.n.Owned()) == 64 }, a.n)
	taken := map[string]bool{}
	from := idOn(t, a, "anon", taken)
	into := idOn(t, a, "user", taken)
	for a.st.ShardOf(into) == a.st.ShardOf(from) {
		into = idOn(t, a, "user", taken)
	}
	if err := a.in.Submit(bg, []worker.Item{{CustomerID: from, Input: engine.Input{Kind: engine.KindEvent, Event: "signup", MessageID: "m1"}}}); err != nil {
		t.Fatal(err)
	}
	a.pump(t)
	waitFor(t, func() bool { return inboxLen(t, a.st) == 0 })
	a.stop[len(a.stop)-1]() // the pump: the halves are applied by hand below
	if _, err := a.in.MergeMessage(bg, from, into, "alias-1"); err != nil {
		t.Fatal(err)
	}
	out, in := mergeRows(t, a.st)

	// a stops renewing its leases (it never runs its rounds again) and b
	// takes every shard; a still counts them its own.
	b := newMember(t, dsn, "b", eng)
	rounds(t, func() bool { return len(b.n.Owned()) == 64 }, b.n)
	if !a.n.Owns(out.Shard) || !a.n.Owns(in.Shard) {
		t.Fatal("a should still believe it owns both shards")
	}

	if err := a.p.mergeOut(bg, out); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("the stale owner's out half: %v, want fenced", err)
	}
	c, err := a.st.Customer(bg, from)
	if err != nil || len(c.Instances) != 1 {
		t.Fatalf("%s after the refused out half: %+v, %v; want its run still there", from, c, err)
	}
	if _, in2 := mergeRows(t, a.st); in2.Ready() {
		t.Fatal("the refused out half put the state in the in row")
	}

	if err := b.p.mergeOut(bg, out); err != nil {
		t.Fatalf("the owner's out half: %v", err)
	}
	rows, err := b.st.Inbox(bg, allShards(b.st), 10)
	if err != nil || len(rows) != 1 || !rows[0].Ready() {
		t.Fatalf("after the out half the inbox holds %+v (%v), want the in row, ready", rows, err)
	}
	in = rows[0]
	if err := a.p.mergeIn(bg, in); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("the stale owner's in half: %v, want fenced", err)
	}
	if _, err := a.st.Customer(bg, into); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s after the refused in half: %v, want still unknown", into, err)
	}
	if n := inboxLen(t, a.st); n != 1 {
		t.Fatalf("%d inbox rows after the refused in half, want the in row", n)
	}

	if err := b.p.mergeIn(bg, in); err != nil {
		t.Fatalf("the owner's in half: %v", err)
	}
	// Replays of either half write nothing.
	if err := b.p.mergeIn(bg, in); err != nil {
		t.Fatalf("the in half again: %v", err)
	}
	if err := b.p.mergeOut(bg, out); err != nil {
		t.Fatalf("the out half again: %v", err)
	}
	u, err := b.st.Customer(bg, into)
	if err != nil || !slices.Equal(u.Merged, []string{from}) || len(u.Instances) != 1 || u.Instances[0].ID != into+"/onboarding/1" {
		t.Fatalf("%s after the merge: %+v, %v; want %s's run under its name, merged once", into, u, err, from)
	}
	if n := mergesOf(t, b.st, into); n != 1 {
		t.Errorf("%d merges recorded on %s, want 1", n, into)
	}
	if n := inboxLen(t, b.st); n != 0 {
		t.Errorf("%d inbox rows left", n)
	}
}

// The owner of the customer merged into dies (stops without leaving)
// after the out half: the merge waits in the inbox, durable, and the node
// that takes the shard over applies it, once.
func TestMergeCompletesAfterOwnerDies(t *testing.T) {
	eng := mergeEngine(t)
	_, a, b := twoNodes(t, eng)
	taken := map[string]bool{}
	from, into := idOn(t, a, "anon", taken), idOn(t, b, "user", taken)
	a.pump(t)
	if err := a.in.Submit(bg, []worker.Item{{CustomerID: from, Input: engine.Input{Kind: engine.KindEvent, Event: "signup", MessageID: "m1"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.in.MergeMessage(bg, from, into, "alias-1"); err != nil {
		t.Fatal(err)
	}
	// The out half is applied by a; b's pump never runs, and b dies.
	waitFor(t, func() bool {
		rows, err := a.st.Inbox(bg, allShards(a.st), 10)
		return err == nil && len(rows) == 1 && rows[0].Ready()
	})
	for _, stop := range b.stop {
		stop()
	}
	waitFor(t, func() bool { return inboxLen(t, a.st) == 0 })
	if !a.n.Owns(a.st.ShardOf(into)) {
		t.Fatal("the in half was applied by a node that does not own its shard")
	}
	u, err := a.st.Customer(bg, into)
	if err != nil || !slices.Equal(u.Merged, []string{from}) || len(u.Instances) != 1 {
		t.Fatalf("%s after the takeover: %+v, %v; want %s merged once", into, u, err, from)
	}
	if n := mergesOf(t, a.st, into); n != 1 {
		t.Errorf("%d merges recorded on %s, want 1", n, into)
	}
}

// An in row whose out row is gone without having been applied (deleted by
// hand, or dropped by a node of a version that cannot read merges, during
// a rolling upgrade) is given up: its customer's later inputs are applied
// instead of waiting for ever.
func TestLostMergeDoesNotHold(t *testing.T) {
	eng := mergeEngine(t)
	dsn := pgtest.DB(t)
	a := newMember(t, dsn, "a", eng)
	rounds(t, func() bool { return len(a.n.Owned()) == 64 }, a.n)
	a.goRun(t, a.n.Run)
	taken := map[string]bool{}
	from, into := idOn(t, a, "anon", taken), idOn(t, a, "user", taken)
	if _, err := a.in.MergeMessage(bg, from, into, "alias-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.Pool().Exec(bg, "DELETE FROM inbox WHERE merge = 'out'"); err != nil {
		t.Fatal(err)
	}
	if err := a.in.Submit(bg, []worker.Item{{CustomerID: into, Input: engine.Input{Kind: engine.KindEvent, Event: "signup", MessageID: "m1"}}}); err != nil {
		t.Fatal(err)
	}
	a.pump(t)
	waitFor(t, func() bool { return inboxLen(t, a.st) == 0 })
	u, err := a.st.Customer(bg, into)
	if err != nil || len(u.Instances) != 1 || len(u.Merged) != 0 {
		t.Fatalf("%s: %+v, %v; want its own run and no merge", into, u, err)
	}
}
