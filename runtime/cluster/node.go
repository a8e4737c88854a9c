package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waymark-dev/waymark/runtime/store/postgres"
)

// Options tune a Node. The zero value is usable.
type Options struct {
	// ID names the node (default host-pid-random): unique in the cluster.
	ID string
	// Addr is the node's HTTP address, shown by GET /v1/cluster.
	Addr string
	// Lease is how long a shard's lease runs from its last renewal, by the
	// database's clock (default 5s): a dead node's shards are taken over
	// within Lease plus a Tick.
	Lease time.Duration
	// Tick is the time between heartbeats, lease renewals and rebalancing
	// (default 1s).
	Tick time.Duration
	// Program returns the version of the program the node runs, written
	// with every heartbeat.
	Program func() string
	// OnChange is told the shards the node gained and lost, after its own
	// view changed.
	OnChange func(gained, lost []int)
	// SkewGrace is how long the node may run another program than the
	// other live nodes before it says so in the log and in ProgramSkew
	// (default 30s: longer than a reload takes).
	SkewGrace time.Duration
	Logger    *slog.Logger
}

// Node is one member of the cluster: it heartbeats, keeps the leases of
// the shards it owns, takes the shards rendezvous hashing gives it, hands
// over those it gives others, and is the store's Fence.
type Node struct {
	st   *postgres.Store
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	owned      map[int]int64 // shard -> epoch
	deadline   time.Time     // local clock: past it, the leases may have run out
	leaving    bool
	behind     bool // another live node runs a newer program: this one owns nothing
	skew       *Skew
	skewLogged time.Time

	renewFailures, takeovers, fenced, released, reclaimed atomic.Uint64
}

// New makes the node of st, sets it as st's fence and writes its first
// heartbeat; it owns no shard until Run's first rounds.
func New(ctx context.Context, st *postgres.Store, opts Options) (*Node, error) {
	if opts.ID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.SkewGrace <= 0 {
		opts.SkewGrace = 30 * time.Second
	}
	if opts.Program == nil {
		opts.Program = func() string { return "" }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{st: st, pool: st.Pool(), opts: opts, owned: map[int]int64{},
		log: opts.Logger.With("component", "cluster", "node", opts.ID)}
	if err := n.heartbeat(ctx); err != nil {
		return nil, err
	}
	st.SetFence(n)
	return n, nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.opts.ID }

// Epoch implements postgres.Fence.
func (n *Node) Epoch(shard int) (int64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.owned[shard]
	return e, ok
}

// Ownership is the worker's Options.Ownership on this node: whether it
// owns the customer's shard now, and at which epoch. The worker caches a
// state only under the epoch it read it at, so a shard lost and taken back
// is read afresh: what its other owner wrote meanwhile is in the store.
func (n *Node) Ownership(customerID string) (int64, bool) {
	return n.Epoch(n.st.ShardOf(customerID))
}

// Owned implements postgres.Fence: the shards owned, in order.
func (n *Node) Owned() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]int, 0, len(n.owned))
	for sh := range n.owned {
		out = append(out, sh)
	}
	slices.Sort(out)
	return out
}

// Owns reports whether the node owns shard.
func (n *Node) Owns(shard int) bool {
	_, ok := n.Epoch(shard)
	return ok
}

// Lost implements postgres.Fence: a fenced write was refused, so another
// node took these shards; the node drops them at once.
func (n *Node) Lost(shards []int) {
	n.fenced.Add(1)
	n.drop(shards, "a write was fenced")
}

// drop forgets shards and tells OnChange.
func (n *Node) drop(shards []int, why string) {
	n.mu.Lock()
	var lost []int
	for _, sh := range shards {
		if _, ok := n.owned[sh]; ok {
			delete(n.owned, sh)
			lost = append(lost, sh)
		}
	}
	n.mu.Unlock()
	if len(lost) > 0 {
		n.log.Warn("dropped shards", "shards", lost, "why", why)
		if n.opts.OnChange != nil {
			n.opts.OnChange(nil, lost)
		}
	}
}

// Run heartbeats and rebalances every Tick until ctx ends. It does not
// release the shards: Leave does.
func (n *Node) Run(ctx context.Context) error {
	t := time.NewTicker(n.opts.Tick)
	defer t.Stop()
	for {
		n.Round(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Round is one heartbeat, renewal and rebalancing: what Run does every
// Tick.
func (n *Node) Round(ctx context.Context) {
	start := time.Now()
	if err := n.heartbeat(ctx); err != nil {
		n.renewFailures.Add(1)
		n.log.Warn("heartbeat failed", "err", err)
		n.expire(start)
		return
	}
	if err := n.renew(ctx, start); err != nil {
		n.renewFailures.Add(1)
		n.log.Warn("lease renewal failed", "err", err)
		n.expire(start)
		return
	}
	n.checkSkew(ctx, start)
	live, err := n.liveNodes(ctx)
	if err != nil {
		n.log.Warn("reading the live nodes failed", "err", err)
		return
	}
	n.mu.Lock()
	leaving := n.leaving
	n.mu.Unlock()
	if leaving {
		return
	}
	want := map[int]bool{}
	for sh, owner := range Assign(n.st.Shards(), live) {
		if owner == n.opts.ID {
			want[sh] = true
		}
	}
	var give []int
	for _, sh := range n.Owned() {
		if !want[sh] {
			give = append(give, sh)
		}
	}
	if len(give) > 0 {
		n.release(ctx, give)
	}
	var take []int
	for sh := range want {
		if !n.Owns(sh) {
			take = append(take, sh)
		}
	}
	if len(take) > 0 {
		n.acquire(ctx, take, start)
	}
}

// expire drops every shard once the local clock says the leases may have
// run out since the last renewal that succeeded: another node may own them
// by now (the fence would refuse the writes anyway; this stops the work).
func (n *Node) expire(now time.Time) {
	n.mu.Lock()
	past := !n.deadline.IsZero() && now.After(n.deadline)
	n.mu.Unlock()
	if past {
		n.drop(n.Owned(), "the leases ran out without a renewal")
	}
}

func (n *Node) heartbeat(ctx context.Context) error {
	_, err := n.pool.Exec(ctx, `INSERT INTO nodes(id, addr, program, heartbeat) VALUES ($1, $2, $3, now())
		ON CONFLICT (id) DO UPDATE SET addr = excluded.addr, program = excluded.program, heartbeat = now()`,
		n.opts.ID, n.opts.Addr, n.opts.Program())
	if err != nil {
		return fmt.Errorf("cluster: heartbeat: %w", err)
	}
	return nil
}

func secs(d time.Duration) float64 { return d.Seconds() }

// renew extends the leases of the owned shards still at the node's epochs;
// a shard the database no longer gives the node at its epoch is dropped.
func (n *Node) renew(ctx context.Context, start time.Time) error {
	owned := n.Owned()
	if len(owned) == 0 {
		n.mu.Lock()
		n.deadline = start.Add(n.opts.Lease)
		n.mu.Unlock()
		return nil
	}
	ids := make([]int32, len(owned))
	epochs := make([]int64, len(owned))
	for i, sh := range owned {
		ids[i] = int32(sh)
		epochs[i], _ = n.Epoch(sh)
	}
	rows, err := n.pool.Query(ctx, `UPDATE shards AS s SET lease_until = now() + make_interval(secs => $2)
		FROM unnest($3::integer[], $4::bigint[]) AS m(shard, epoch)
		WHERE s.shard = m.shard AND s.epoch = m.epoch AND s.owner = $1
		RETURNING s.shard`, n.opts.ID, secs(n.opts.Lease), ids, epochs)
	if err != nil {
		return fmt.Errorf("cluster: renewing leases: %w", err)
	}
	kept, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("cluster: renewing leases: %w", err)
	}
	n.mu.Lock()
	n.deadline = start.Add(n.opts.Lease)
	n.mu.Unlock()
	var lost []int
	for _, sh := range owned {
		if !slices.Contains(kept, int32(sh)) {
			lost = append(lost, sh)
		}
	}
	n.drop(lost, "its lease moved to another node")
	return nil
}

// qOwners lists the nodes that may own shards: live (a heartbeat within a
// lease, $1, of the database's now), not leaving, and running the newest
// program among the live nodes, the one installed last (programs ordered
// as store.Programs orders them). A node whose program the store does not
// have yet (a start before its first heartbeat with a program) counts as
// older than any; when no live node's program is known, all may own.
const qOwners = `WITH live AS (
		SELECT nd.id, p.created_at, p.n FROM nodes AS nd LEFT JOIN programs AS p ON p.hash = nd.program
		WHERE nd.heartbeat > now() - make_interval(secs => $1) AND NOT nd.leaving),
	newest AS (SELECT created_at, n FROM live WHERE n IS NOT NULL ORDER BY created_at DESC, n DESC LIMIT 1)
	SELECT id FROM live
	WHERE NOT EXISTS (SELECT 1 FROM newest) OR live.n = (SELECT n FROM newest)
	ORDER BY id`

// liveNodes lists the nodes shards are assigned to (qOwners): during a
// rollout, only those that run the new program, so that a customer one of
// them migrated is never stepped again by an older program.
func (n *Node) liveNodes(ctx context.Context) ([]string, error) {
	rows, err := n.pool.Query(ctx, qOwners, secs(n.opts.Lease))
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	behind := !slices.Contains(ids, n.opts.ID)
	n.mu.Lock()
	was := n.behind
	n.behind = behind
	n.mu.Unlock()
	if behind && !was {
		n.log.Warn("another live node runs a newer program: this node hands its shards over and takes none until it runs that program too (a rollout under way: docs/operations.md)",
			"mine", n.opts.Program(), "owners", ids)
	} else if was && !behind {
		n.log.Info("this node runs the newest program again: it takes its share of the shards", "program", n.opts.Program())
	}
	return ids, nil
}

// release hands shards over: the node stops using them first, then clears
// their owner so that the node they go to takes them on its next round.
func (n *Node) release(ctx context.Context, shards []int) {
	epochs := make([]int64, len(shards))
	for i, sh := range shards {
		epochs[i], _ = n.Epoch(sh)
	}
	n.drop(shards, "handed over")
	_, err := n.pool.Exec(ctx, `UPDATE shards AS s SET owner = NULL, lease_until = NULL
		FROM unnest($2::integer[], $3::bigint[]) AS m(shard, epoch)
		WHERE s.shard = m.shard AND s.epoch = m.epoch AND s.owner = $1`, n.opts.ID, int32sOf(shards), epochs)
	if err != nil {
		n.log.Warn("releasing shards failed: they move when their leases run out", "shards", shards, "err", err)
		return
	}
	n.released.Add(uint64(len(shards)))
}

// acquire takes the shards among want that are free (no owner, or a lease
// run out): their rows are locked FOR UPDATE, which waits for the commits
// of the previous owner under way (they hold key-share locks through the
// fence), and their epoch moves on, which fences every later one.
func (n *Node) acquire(ctx context.Context, want []int, start time.Time) {
	type got struct {
		Shard int32
		Epoch int64
	}
	var taken []got
	var reclaimed int64
	err := pgx.BeginFunc(ctx, n.pool, func(tx pgx.Tx) error {
		// A previous owner's transaction still under way holds its rows
		// (until it ends, or the server ends an idle one): do not wait
		// past a Tick, try again next round, and keep heartbeating.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", n.opts.Tick.Milliseconds())); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `WITH free AS (
				SELECT shard FROM shards
				WHERE shard = ANY($2) AND (owner IS NULL OR owner = $1 OR lease_until IS NULL OR lease_until < now())
				FOR UPDATE)
			UPDATE shards AS s SET owner = $1, epoch = s.epoch + 1, lease_until = now() + make_interval(secs => $3)
			FROM free WHERE s.shard = free.shard
			RETURNING s.shard, s.epoch`, n.opts.ID, int32sOf(want), secs(n.opts.Lease))
		if err != nil {
			return err
		}
		if taken, err = pgx.CollectRows(rows, pgx.RowToStructByPos[got]); err != nil || len(taken) == 0 {
			return err
		}
		// The sends of these shards that a previous owner claimed are
		// due again at once, not when its outbox lease runs out: it cannot
		// settle them any more (the epoch moved: its Delivered is fenced),
		// and this node's dispatcher sends them under their own keys. One
		// the old owner did deliver goes out twice, under one key, as
		// at-least-once delivery allows.
		ids := make([]int32, len(taken))
		for i, g := range taken {
			ids[i] = g.Shard
		}
		ct, err := tx.Exec(ctx, `UPDATE outbox SET next_attempt = least(next_attempt, now()), lease_until = NULL
			WHERE shard = ANY($1) AND state = 'pending' AND lease_until IS NOT NULL`, ids)
		reclaimed = ct.RowsAffected()
		return err
	})
	if err != nil {
		n.log.Warn("taking shards failed; trying again next round", "err", err)
		return
	}
	if len(taken) == 0 {
		return
	}
	var gained []int
	n.mu.Lock()
	for _, g := range taken {
		n.owned[int(g.Shard)] = g.Epoch
		gained = append(gained, int(g.Shard))
	}
	n.deadline = start.Add(n.opts.Lease)
	n.mu.Unlock()
	slices.Sort(gained)
	n.takeovers.Add(uint64(len(gained)))
	n.reclaimed.Add(uint64(reclaimed))
	n.log.Info("took shards", "shards", gained, "sends_reclaimed", reclaimed)
	if n.opts.OnChange != nil {
		n.opts.OnChange(gained, nil)
	}
}

func int32sOf(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// Leave hands every shard over at once and removes the node from the
// cluster: the others take its shards on their next round instead of
// waiting for the leases to run out. Call it after the node's writers
// stopped.
func (n *Node) Leave(ctx context.Context) error {
	n.mu.Lock()
	n.leaving = true
	n.mu.Unlock()
	owned := n.Owned()
	n.drop(owned, "the node is leaving")
	_, err1 := n.pool.Exec(ctx, "UPDATE shards SET owner = NULL, lease_until = NULL WHERE owner = $1", n.opts.ID)
	_, err2 := n.pool.Exec(ctx, "DELETE FROM nodes WHERE id = $1", n.opts.ID)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("cluster: leaving: %w", err)
	}
	n.released.Add(uint64(len(owned)))
	return nil
}

// MarkLeaving tells the other nodes at once that this one is going, so
// their rebalancing leaves it out while it finishes its work.
func (n *Node) MarkLeaving(ctx context.Context) error {
	n.mu.Lock()
	n.leaving = true
	n.mu.Unlock()
	_, err := n.pool.Exec(ctx, "UPDATE nodes SET leaving = true WHERE id = $1", n.opts.ID)
	return err
}

// Assign returns the owner of each of shards shards among nodes (nil
// without nodes): rendezvous hashing with bounded loads. Every (shard,
// node) pair has a score, a hash of both; pairs are taken best first, and
// a shard goes to the node of its best pair that still has room, room
// being an even share (rounded down, or up for as many nodes as the
// division leaves shards over). So every node computes the same owners
// from the same live list; each owns an even share, give or take one (plain rendezvous hashing left 38 of 64 shards to one of two nodes,
// and that node's share of a burst of timers to finish alone); and when a
// node joins or leaves, most shards stay where they are (TestAssign
// bounds the moves).
func Assign(shards int, nodes []string) []string {
	if len(nodes) == 0 || shards <= 0 {
		return nil
	}
	type pair struct {
		score uint64
		shard int
		node  int
	}
	pairs := make([]pair, 0, shards*len(nodes))
	for k, id := range nodes {
		for sh := range shards {
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%d", id, sh)
			pairs = append(pairs, pair{mix(h.Sum64()), sh, k})
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := strings.Compare(nodes[x.node], nodes[y.node]); c != 0 {
			return c
		}
		return cmp.Compare(x.shard, y.shard)
	})
	// Every node has room for an even share rounded down, and the first
	// shards%len(nodes) nodes to fill it for one more.
	even, extra := shards/len(nodes), shards%len(nodes)
	owned := make([]int, len(nodes))
	owners := make([]string, shards)
	left := shards
	for _, p := range pairs {
		if owners[p.shard] != "" {
			continue
		}
		switch {
		case owned[p.node] < even:
		case owned[p.node] == even && extra > 0:
			extra--
		default:
			continue
		}
		owners[p.shard] = nodes[p.node]
		owned[p.node]++
		if left--; left == 0 {
			break
		}
	}
	return owners
}

// mix is splitmix64's finalizer: FNV alone spreads ids that differ in
// their last bytes poorly.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Stats are the node's counters, for metrics.
type Stats struct {
	Owned         int
	RenewFailures uint64 // heartbeats or renewals that failed
	Takeovers     uint64 // shards acquired
	Released      uint64 // shards handed over
	Fenced        uint64 // writes refused by the fence
	Reclaimed     uint64 // sends a previous owner had claimed, due again at a takeover
}

// Stats returns the node's counters now.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	owned := len(n.owned)
	n.mu.Unlock()
	return Stats{Owned: owned, RenewFailures: n.renewFailures.Load(), Takeovers: n.takeovers.Load(),
		Released: n.released.Load(), Fenced: n.fenced.Load(),
		Reclaimed: n.reclaimed.Load()}
}
