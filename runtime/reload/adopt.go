package reload

import (
	"context"
	"slices"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// StaleLister lists, in id order after after, at most limit customers of
// the shards just taken that have an active instance on a journey version
// not among versions (postgres.Store.StaleCustomers, on those shards).
type StaleLister func(ctx context.Context, versions []string, after string, limit int) ([]string, error)

// Adopt readies the running program for customers another node ran until
// now: the shards a cluster node has just taken (runtime/cluster). The
// previous owner may have run another program (a rollout by restart, or
// a reload it made and this node has not), and the start-up or reload
// wake pass of this node never saw these customers, since it reads only
// the shards the node owned then.
//
// First the earlier versions their pinned instances run are loaded (Pin,
// which counts the instances of every shard and finds the programs in the
// store: a version another node saved after this one started included);
// when that adds a version, the engine is rebuilt and swapped in. Then
// every customer stale lists (an active instance on a version the engine
// does not run) gets a Wake, a page per Submit, so that it migrates now,
// as a reload's wake pass does, rather than at its next input with a
// stale timer meanwhile. It returns how many customers it woke; on an
// error the rest migrate at their next input, and the caller may try
// again.
func (r *Reloader) Adopt(ctx context.Context, stale StaleLister) (int, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	cur := r.Current()
	next := *cur
	if err := Pin(ctx, r.st, &next, r.opts.Engine, cur.known()); err != nil {
		return 0, err
	}
	if next.Engine != cur.Engine && !slices.Equal(next.Engine.PinnedVersions(), cur.Engine.PinnedVersions()) {
		r.w.Swap(next.Engine)
		r.setCurrent(&next)
		r.log.Info("loaded the earlier versions the pinned instances of the shards taken run", "versions", next.Engine.PinnedVersions())
		cur = &next
	}
	versions := cur.Engine.PinnedVersions()
	for _, j := range cur.IR.Journeys {
		versions = append(versions, j.Version)
	}
	woken, after := 0, ""
	for {
		ids, err := stale(ctx, versions, after, r.opts.PageSize)
		if err == nil && len(ids) > 0 {
			items := make([]worker.Item, len(ids))
			for i, id := range ids {
				items[i] = worker.Item{CustomerID: id, Input: engine.Input{Kind: engine.KindWake}}
			}
			err = r.w.Submit(ctx, items)
		}
		if err != nil {
			return woken, err
		}
		woken += len(ids)
		if len(ids) < r.opts.PageSize {
			break
		}
		after = ids[len(ids)-1]
	}
	if woken > 0 {
		r.log.Info("migrated the customers of the shards taken to this node's program", "version", cur.Version, "customers", woken)
	}
	return woken, nil
}
