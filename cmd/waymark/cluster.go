package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/runtime/cluster"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
)

// clusterFlags are run's --cluster-* settings; zero: cluster's defaults.
type clusterFlags struct {
	shards                 int
	lease, tick, skewGrace time.Duration
}

// check refuses settings that cannot work: outside their bounds, a lease
// a dead node's shards could not be told from a slow round by (under three
// ticks), or any of them without a PostgreSQL store.
func (f clusterFlags) check(storeKind string) error {
	if f == (clusterFlags{}) {
		return nil
	}
	if storeKind != "postgres" {
		return fmt.Errorf("--cluster-shards, --cluster-lease, --cluster-tick and --cluster-skew-grace go with a PostgreSQL store (a cluster): this one is %s", storeKind)
	}
	tick, lease := cmp.Or(f.tick, time.Second), cmp.Or(f.lease, 5*time.Second)
	switch {
	case f.shards < 0 || f.shards > postgres.MaxShards:
		return fmt.Errorf("--cluster-shards %d: want 1 to %d (0: the default, 64)", f.shards, postgres.MaxShards)
	case f.tick < 0 || f.tick != 0 && f.tick < 100*time.Millisecond:
		return fmt.Errorf("--cluster-tick %v: want 100ms or more", f.tick)
	case f.lease < 0 || lease < time.Second || lease < 3*tick:
		return fmt.Errorf("--cluster-lease %v: want 1s or more, and at least three ticks (--cluster-tick %v): a lease renewed every tick must survive a slow round", lease, tick)
	case f.skewGrace < 0 || f.skewGrace != 0 && f.skewGrace < tick:
		return fmt.Errorf("--cluster-skew-grace %v: want at least a tick (%v)", f.skewGrace, tick)
	}
	return nil
}

// clusterParts are what a node of a cluster (a PostgreSQL store) runs
// besides the parts every server has:
//
//	HTTP ingest ──Submit──► Ingest ──Enqueue──► inbox (any node's input, durable: the 200)
//	inbox of owned shards ──Pump──► worker ──fenced Commit (takes the inputs out of the inbox)
//	Node: heartbeat, leases, rebalancing; the store's fence; GET /v1/cluster
//	shards taken ──adopt──► reload.Adopt: earlier pinned versions loaded, customers on other versions woken
type clusterParts struct {
	node   *cluster.Node
	pump   *cluster.Pump
	ingest *cluster.Ingest
	rt     *runner
	st     *postgres.Store

	mu      sync.Mutex
	taken   map[int]bool  // shards taken whose customers are still to be adopted
	adoptCh chan struct{} // a pass is owed
}

// adopt records shards the node took, for runAdopt's next pass: it is
// called from the node's round, which must not wait for the pass.
func (c *clusterParts) adopt(shards []int) {
	c.mu.Lock()
	for _, sh := range shards {
		c.taken[sh] = true
	}
	c.mu.Unlock()
	select {
	case c.adoptCh <- struct{}{}:
	default:
	}
}

// runAdopt migrates the customers of the shards the node takes to its
// program (reload.Adopt) until ctx ends: after a restart with a new
// workspace, or a takeover from a node that ran another program, they
// would otherwise keep their old version's timers until their next input.
// A pass that fails is tried again a second later.
func (c *clusterParts) runAdopt(ctx context.Context) error {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.adoptCh:
		case <-retry.C:
		}
		c.mu.Lock()
		var shards []int
		for sh := range c.taken {
			if c.node.Owns(sh) {
				shards = append(shards, sh)
			}
		}
		clear(c.taken)
		c.mu.Unlock()
		if len(shards) == 0 {
			continue
		}
		slices.Sort(shards)
		_, err := c.rt.rl.Adopt(ctx, func(ctx context.Context, versions []string, after string, limit int) ([]string, error) {
			return c.st.StaleCustomers(ctx, slices.DeleteFunc(slices.Clone(shards), func(sh int) bool { return !c.node.Owns(sh) }), versions, after, limit)
		})
		if err != nil && ctx.Err() == nil {
			c.rt.log.Warn("migrating the customers of the shards taken failed; trying again", "shards", shards, "err", err)
			c.mu.Lock()
			for _, sh := range shards {
				c.taken[sh] = true
			}
			c.mu.Unlock()
			retry.Reset(time.Second)
		}
	}
}

// joinCluster makes the node of a server on st, before the server exists:
// the runner, once made, is stored in rtp, which the node's callbacks read.
func joinCluster(st *postgres.Store, addr net.Addr, log *slog.Logger, rtp *atomic.Pointer[runner], f clusterFlags) (*cluster.Node, error) {
	return cluster.New(context.Background(), st, cluster.Options{
		Addr:      addr.String(),
		Logger:    log,
		Lease:     f.lease,
		Tick:      f.tick,
		SkewGrace: f.skewGrace,
		Program: func() string {
			if rt := rtp.Load(); rt != nil {
				return rt.rl.Status().Version
			}
			return ""
		},
		OnChange: func(gained, lost []int) {
			if rt := rtp.Load(); rt != nil && rt.cl != nil && len(gained) > 0 {
				rt.cl.pump.Kick() // the new shards' waiting inputs
				rt.cl.adopt(gained)
			}
		},
	})
}

func newClusterParts(st *postgres.Store, node *cluster.Node, rt *runner, log *slog.Logger) *clusterParts {
	c := &clusterParts{node: node, rt: rt, st: st, taken: map[int]bool{}, adoptCh: make(chan struct{}, 1)}
	c.pump = cluster.NewPump(st, node, rt.w, log)
	c.ingest = cluster.NewIngest(st, rt.w, c.pump)
	return c
}

// clusterStatus is GET /v1/status on a node: the reloader's status, and
// the node's place in the cluster with any program skew that outlasted a
// reload.
type clusterStatus struct {
	reload.Status
	Cluster struct {
		Node        string        `json:"node"`
		Shards      []int         `json:"shards_owned"`
		ProgramSkew *cluster.Skew `json:"program_skew,omitempty"`
	} `json:"cluster"`
}

func (c *clusterParts) status() any {
	s := clusterStatus{Status: c.rt.rl.Status()}
	s.Cluster.Node = c.node.ID()
	s.Cluster.Shards = c.node.Owned()
	s.Cluster.ProgramSkew = c.node.ProgramSkew()
	return s
}

// collectors are the node's metrics: shards owned, lease renewal
// failures, takeovers, handovers and writes the fence refused.
func (c *clusterParts) collectors() []prometheus.Collector {
	stat := func(f func(cluster.Stats) float64) func() float64 {
		return func() float64 { return f(c.node.Stats()) }
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waymark_cluster_shards_owned", Help: "Shards this node owns."},
			stat(func(s cluster.Stats) float64 { return float64(s.Owned) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waymark_cluster_lease_renew_failures_total", Help: "Heartbeats or lease renewals that failed."},
			stat(func(s cluster.Stats) float64 { return float64(s.RenewFailures) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waymark_cluster_takeovers_total", Help: "Shards this node took (after a handover or an expired lease)."},
			stat(func(s cluster.Stats) float64 { return float64(s.Takeovers) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waymark_cluster_released_total", Help: "Shards this node handed over."},
			stat(func(s cluster.Stats) float64 { return float64(s.Released) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waymark_cluster_fenced_commits_total", Help: "Writes the fence refused: the shard had moved to another node."},
			stat(func(s cluster.Stats) float64 { return float64(s.Fenced) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waymark_cluster_sends_reclaimed_total", Help: "Sends a previous owner had claimed, made due again when this node took their shard."},
			stat(func(s cluster.Stats) float64 { return float64(s.Reclaimed) })),
	}
}
