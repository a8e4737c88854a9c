package lograte

import (
	"sync"
	"time"
)

// Interval is the default interval of a Limiter.
const Interval = 10 * time.Second

// Limiter lets one line of each kind through per interval. The zero value
// is not usable; use New. Safe for concurrent use.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	last       time.Time
	suppressed int
}

// New returns a Limiter with the given interval (Interval when 0), on
// the clock now (time.Now when nil).
func New(every time.Duration, now func() time.Time) *Limiter {
	if every <= 0 {
		every = Interval
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, now: now, kinds: map[string]*kind{}}
}

// Allow reports whether a line of kind key may be logged now, and how many
// lines of that kind were held back since the last one let through (log
// it with the line, so nothing is lost silently).
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.kinds[key]
	if k == nil {
		k = &kind{}
		l.kinds[key] = k
	}
	now := l.now()
	if !k.last.IsZero() && now.Sub(k.last) < l.every {
		k.suppressed++
		return false, 0
	}
	k.last = now
	n := k.suppressed
	k.suppressed = 0
	return true, n
}
