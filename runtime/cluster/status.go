package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is GET /v1/cluster: every node and every shard, as the database
// has them, read by any node.
type Status struct {
	Node       string      `json:"node"` // the node that answered
	ShardCount int         `json:"shard_count"`
	Nodes      []NodeInfo  `json:"nodes"`
	Shards     []ShardInfo `json:"shards"`
	// Programs lists the program versions the live nodes run; more than
	// one means a rollout is under way (or stuck: see docs/operations.md).
	Programs []string `json:"programs"`
}

// NodeInfo is one node of the cluster.
type NodeInfo struct {
	ID        string    `json:"id"`
	Addr      string    `json:"addr"`
	Program   string    `json:"program"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"last_heartbeat"`
	Live      bool      `json:"live"`
	Leaving   bool      `json:"leaving"`
	Shards    []int     `json:"shards_owned"`
}

// ShardInfo is one shard: its owner (empty: between owners), its epoch and
// the end of the owner's lease.
type ShardInfo struct {
	Shard      int       `json:"shard"`
	Owner      string    `json:"owner"`
	Epoch      int64     `json:"epoch"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

// Status reads the cluster's state.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	st := &Status{Node: n.opts.ID, Nodes: []NodeInfo{}, Shards: []ShardInfo{}, Programs: []string{}}
	rows, err := n.pool.Query(ctx, `SELECT id, addr, program, started_at, heartbeat,
		heartbeat > now() - make_interval(secs => $1), leaving FROM nodes ORDER BY id`, secs(n.opts.Lease))
	if err != nil {
		return nil, fmt.Errorf("cluster: status: %w", err)
	}
	byID := map[string]int{}
	programs := map[string]bool{}
	for rows.Next() {
		var ni NodeInfo
		if err := rows.Scan(&ni.ID, &ni.Addr, &ni.Program, &ni.StartedAt, &ni.Heartbeat, &ni.Live, &ni.Leaving); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cluster: status: %w", err)
		}
		ni.StartedAt, ni.Heartbeat, ni.Shards = ni.StartedAt.UTC(), ni.Heartbeat.UTC(), []int{}
		byID[ni.ID] = len(st.Nodes)
		st.Nodes = append(st.Nodes, ni)
		if ni.Live && !programs[ni.Program] {
			programs[ni.Program] = true
			st.Programs = append(st.Programs, ni.Program)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster: status: %w", err)
	}
	rows, err = n.pool.Query(ctx, "SELECT shard, coalesce(owner, ''), epoch, lease_until FROM shards ORDER BY shard")
	if err != nil {
		return nil, fmt.Errorf("cluster: status: %w", err)
	}
	for rows.Next() {
		var si ShardInfo
		var lease *time.Time
		if err := rows.Scan(&si.Shard, &si.Owner, &si.Epoch, &lease); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cluster: status: %w", err)
		}
		if lease != nil {
			si.LeaseUntil = lease.UTC()
		}
		if i, ok := byID[si.Owner]; ok {
			st.Nodes[i].Shards = append(st.Nodes[i].Shards, si.Shard)
		}
		st.Shards = append(st.Shards, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cluster: status: %w", err)
	}
	st.ShardCount = len(st.Shards)
	return st, nil
}

// programsOf is the distinct programs of the live nodes other than this one.
func (n *Node) otherPrograms(ctx context.Context) ([]string, error) {
	rows, err := n.pool.Query(ctx, `SELECT DISTINCT program FROM nodes
		WHERE id <> $1 AND heartbeat > now() - make_interval(secs => $2) AND NOT leaving`, n.opts.ID, secs(n.opts.Lease))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Skew is a difference between the program this node runs and the others':
// since when it has lasted, and what the others run.
type Skew struct {
	Since  time.Time `json:"since"`
	Mine   string    `json:"mine"`
	Others []string  `json:"others"`
	// Behind is set when another live node runs a newer program: this
	// node then owns no shard (see Node.Round) until it runs it too.
	Behind bool `json:"behind,omitempty"`
}

// checkSkew compares the node's program with the live others' and keeps
// when a difference began; past grace it logs it, once a minute.
func (n *Node) checkSkew(ctx context.Context, now time.Time) {
	others, err := n.otherPrograms(ctx)
	if err != nil {
		return
	}
	mine := n.opts.Program()
	var differ []string
	for _, o := range others {
		if o != mine {
			differ = append(differ, o)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(differ) == 0 {
		n.skew = nil
		return
	}
	if n.skew == nil {
		n.skew = &Skew{Since: now.UTC()}
	}
	n.skew.Mine, n.skew.Others = mine, differ
	if now.Sub(n.skew.Since) > n.opts.SkewGrace && now.Sub(n.skewLogged) > time.Minute {
		n.skewLogged = now
		n.log.Error("this node runs another program than the others for longer than the reload interval: finish the rollout (docs/operations.md)",
			"mine", mine, "others", differ, "since", n.skew.Since)
	}
}

// ProgramSkew is the difference between this node's program and the
// others' once it has lasted longer than Options.SkewGrace; nil otherwise.
func (n *Node) ProgramSkew() *Skew {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.skew == nil || time.Since(n.skew.Since) <= n.opts.SkewGrace {
		return nil
	}
	s := *n.skew
	s.Behind = n.behind
	return &s
}
