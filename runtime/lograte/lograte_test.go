package lograte

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(10*time.Second, func() time.Time { return now })
	type want struct {
		ok         bool
		suppressed int
	}
	steps := []struct {
		after time.Duration
		key   string
		want  want
	}{
		{0, "commit", want{true, 0}},
		{time.Second, "commit", want{false, 0}},
		{time.Second, "commit", want{false, 0}},
		{0, "ingest", want{true, 0}}, // another kind has its own interval
		{time.Second, "ingest", want{false, 0}},
		{8 * time.Second, "commit", want{true, 2}}, // 10s after the first: the count of those held back
		{time.Second, "commit", want{false, 0}},
		{10 * time.Second, "commit", want{true, 1}},
		{10 * time.Second, "ingest", want{true, 1}},
	}
	for i, s := range steps {
		now = now.Add(s.after)
		ok, n := l.Allow(s.key)
		if (want{ok, n}) != s.want {
			t.Errorf("step %d (%s): Allow = %v, %d; want %v, %d", i, s.key, ok, n, s.want.ok, s.want.suppressed)
		}
	}
}
