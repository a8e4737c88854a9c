package postgres

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Fence is what a cluster node tells its store about the shards it owns.
// With a fence set, every Commit and every settlement of an outbox item
// first checks, in its own transaction, that each shard it touches is still
// at the epoch the node took it at (taking a key-share lock on the shard's
// row, which a takeover must wait for): a node that lost a shard, however
// long it was paused, can never write to it again.
type Fence interface {
	// Epoch is the epoch at which the node owns shard; false when it does
	// not own it.
	Epoch(shard int) (epoch int64, owned bool)
	// Owned lists the shards the node owns: Due, ClaimOutbox and
	// ActiveCustomers read only those.
	Owned() []int
	// Lost is told the shards a write was refused for.
	Lost(shards []int)
}

// SetFence makes every later write fenced by f (nil: unfenced, a store of
// one node).
func (s *Store) SetFence(f Fence) {
	s.fenceMu.Lock()
	s.fence = f
	s.fenceMu.Unlock()
}

func (s *Store) getFence() Fence {
	s.fenceMu.RLock()
	defer s.fenceMu.RUnlock()
	return s.fence
}

// FencedError is a write refused because the node does not own (or no
// longer owns, at its epoch) the shards named.
type FencedError struct {
	Shards []int
	// Stale: the node owns them, at an epoch later than the one the
	// commit's states were read under (see store.Batch.Tokens).
	Stale bool
}

func (e *FencedError) Error() string {
	if e.Stale {
		return fmt.Sprintf("postgres: fenced: the states of this commit were read before this node lost shard(s) %v and took them back; nothing was written, they are read again", e.Shards)
	}
	return fmt.Sprintf("postgres: fenced: this node does not own shard(s) %v (another node took them over); nothing was written", e.Shards)
}

func (e *FencedError) Unwrap() error { return ErrFenced }

// fenceArgs are the shards a write touches, sorted and unique, with the
// epochs the node owns them at; notOwned lists those it does not own.
func fenceArgs(f Fence, shards []int) (ids []int32, epochs []int64, notOwned []int) {
	shards = slices.Clone(shards)
	slices.Sort(shards)
	shards = slices.Compact(shards)
	for _, sh := range shards {
		e, ok := f.Epoch(sh)
		if !ok {
			notOwned = append(notOwned, sh)
		}
		ids = append(ids, int32(sh))
		epochs = append(epochs, e)
	}
	return ids, epochs, notOwned
}

// checkFenceLocal refuses at once a write to a shard the node does not
// own by its own account.
func (s *Store) checkFenceLocal(shards []int) error {
	f := s.getFence()
	if f == nil {
		return nil
	}
	if _, _, notOwned := fenceArgs(f, shards); len(notOwned) > 0 {
		return &FencedError{Shards: notOwned}
	}
	return nil
}

// checkTokens refuses a commit whose states were read under an epoch of
// their shard other than the one the node owns it at now: the node lost
// the shard after reading them and has taken it back since, and another
// owner may have written them in between. The node keeps the shard (it
// owns it, at the new epoch); the inputs are applied again from the inbox
// or the index, read afresh. The fence in the transaction then checks that
// the epoch is still the database's.
func (s *Store) checkTokens(r *rows) error {
	f := s.getFence()
	if f == nil || r == nil || len(r.tokens) == 0 {
		return nil
	}
	var stale []int
	for sh, tok := range r.tokens {
		if e, ok := f.Epoch(sh); ok && e != tok {
			stale = append(stale, sh)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	slices.Sort(stale)
	return &FencedError{Shards: stale, Stale: true}
}

// qFence checks, in the caller's transaction, that the node still owns
// shards $1 at epochs $2 (see the waymark_fence function in schema.go).
const qFence = "SELECT waymark_fence($1, $2)"

// queueFence queues the fence as the first statement of b and reports
// whether it did (whether a fence is set): if the fence fails, the
// transaction is aborted and every later statement of b fails with it.
func (s *Store) queueFence(b *pgx.Batch, shards []int) bool {
	f := s.getFence()
	if f == nil || len(shards) == 0 {
		return false
	}
	ids, epochs, _ := fenceArgs(f, shards)
	b.Queue(qFence, ids, epochs)
	return true
}

// fenceLost tells the fence the shards a write was refused for and returns
// the error for the caller.
func (s *Store) fenceLost(shards []int) error {
	shards = slices.Clone(shards)
	slices.Sort(shards)
	shards = slices.Compact(shards)
	if f := s.getFence(); f != nil {
		f.Lost(shards)
	}
	return &FencedError{Shards: shards}
}

// movedShards are the shards waymark_fence named in err ("fenced: shards
// {3,17} moved to another owner") among those a write touched: only those
// moved, and the node keeps the others. When the message cannot be read,
// all of touched.
func movedShards(err error, touched []int) []int {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return touched
	}
	_, rest, ok := strings.Cut(pe.Message, "{")
	list, _, ok2 := strings.Cut(rest, "}")
	if !ok || !ok2 {
		return touched
	}
	var moved []int
	for _, f := range strings.Split(list, ",") {
		sh, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return touched
		}
		if slices.Contains(touched, sh) {
			moved = append(moved, sh)
		}
	}
	if len(moved) == 0 {
		return touched
	}
	return moved
}
