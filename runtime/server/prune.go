package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// DefaultDedupWindow is how long ingest message ids are remembered: a
// pipeline that redelivers an event within it has the copy dropped.
// Segment's own deduplication window is a day; a week covers a pipeline
// replaying after a long outage.
const DefaultDedupWindow = 7 * 24 * time.Hour

// PruneMessages forgets, every interval until ctx ends, the message ids
// committed more than window ago, when st keeps them in a table of its own
// (store.MessagePruner); otherwise it returns at once. Without it the ids
// table grows with every event ever received.
func PruneMessages(ctx context.Context, st store.Store, window, interval time.Duration, log *slog.Logger) {
	p, ok := st.(store.MessagePruner)
	if !ok {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := p.PruneMessages(ctx, time.Now().Add(-window))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("pruning ingest message ids", "err", err)
		case n > 0:
			log.Info("pruned ingest message ids", "count", n, "older_than", window.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
