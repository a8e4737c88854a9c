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
	log = orDiscard(log)
	every(ctx, interval, func() {
		n, err := p.PruneMessages(ctx, time.Now().Add(-window))
		switch {
		case ctx.Err() != nil:
		case err != nil:
			log.Warn("pruning ingest message ids", "err", err)
		case n > 0:
			log.Info("pruned ingest message ids", "count", n, "older_than", window.String())
		}
	})
}

// PruneHistory forgets, every interval until ctx ends, the history older
// than retention and the outbox items delivered before then, when st can
// (store.HistoryPruner); otherwise, or with retention 0 (keep everything),
// it returns at once.
func PruneHistory(ctx context.Context, st store.Store, retention, interval time.Duration, log *slog.Logger) {
	p, ok := st.(store.HistoryPruner)
	if !ok || retention <= 0 {
		return
	}
	log = orDiscard(log)
	every(ctx, interval, func() {
		records, items, err := p.PruneHistory(ctx, time.Now().Add(-retention))
		switch {
		case ctx.Err() != nil:
		case err != nil:
			log.Warn("pruning the history", "err", err)
		case records > 0 || items > 0:
			log.Info("pruned the history", "records", records, "delivered_items", items, "older_than", retention.String())
		}
	})
}

// every calls f at once, then every interval, until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
