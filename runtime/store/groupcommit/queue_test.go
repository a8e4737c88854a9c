package groupcommit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A writer that runs each request on an int and answers it with its own
// outcome, recording the size of every group.
type recorder struct {
	mu     sync.Mutex
	groups []int
	hold   chan struct{} // when set, the first group waits on it
}

func (rc *recorder) run(group []*Request[int]) {
	rc.mu.Lock()
	rc.groups = append(rc.groups, len(group))
	hold := rc.hold
	rc.hold = nil
	rc.mu.Unlock()
	if hold != nil {
		<-hold
	}
	for i, r := range group {
		r.Answer(r.Call("test", i))
	}
}

// count is how many groups the writer has begun.
func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.groups)
}

func TestRequestsQueuedWhileBusyFormOneGroup(t *testing.T) {
	hold := make(chan struct{})
	rc := &recorder{hold: hold}
	q := Start(rc.run)
	defer q.Close()
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- q.Write(ctx, func(int) error { return nil }) }()
	for rc.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The writer is busy with the first group: these ten queue up.
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			errs <- q.Write(ctx, func(int) error {
				if i == 3 {
					return errors.New("mine failed")
				}
				return nil
			})
		}()
	}
	for q.Queued() < 10 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 10 {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d writes failed, want the one whose fn failed", failed)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.groups) != 2 || rc.groups[1] != 10 {
		t.Errorf("groups %v, want [1 10]", rc.groups)
	}
}

func TestPanicBecomesTheRequestsError(t *testing.T) {
	q := Start((&recorder{}).run)
	defer q.Close()
	err := q.Write(context.Background(), func(int) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "test: internal error in a write: boom") {
		t.Fatalf("a panicking write: %v", err)
	}
	if err := q.Write(context.Background(), func(int) error { return nil }); err != nil {
		t.Fatalf("a write after the panic: %v", err)
	}
}

func TestCloseDrainsThenRefuses(t *testing.T) {
	hold := make(chan struct{})
	rc := &recorder{hold: hold}
	q := Start(rc.run)
	done := make(chan error, 1)
	go func() { done <- q.Write(context.Background(), func(int) error { return nil }) }()
	for rc.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan bool, 1)
	go func() { closed <- q.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a write was being run")
	case <-time.After(20 * time.Millisecond):
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !<-closed {
		t.Error("the first Close reported the queue closed already")
	}
	if q.Close() {
		t.Error("a second Close reported it closed the queue")
	}
	if err := q.Write(context.Background(), func(int) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := q.Read(func() error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
}

// Close waits for a read in progress.
func TestCloseWaitsForReads(t *testing.T) {
	q := Start((&recorder{}).run)
	inRead, release := make(chan struct{}), make(chan struct{})
	go q.Read(func() error { close(inRead); <-release; return nil })
	<-inRead
	closed := make(chan bool, 1)
	go func() { closed <- q.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned during a read")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
}
