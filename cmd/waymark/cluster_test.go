package main

import (
	"strings"
	"testing"
	"time"
)

// The --cluster-* settings: accepted within their bounds with a PostgreSQL
// store, refused otherwise with a message naming the setting.
func TestClusterFlagsCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     clusterFlags
		store string
		want  string // "" accepted; else part of the error
	}{
		{"none, sqlite", clusterFlags{}, "sqlite", ""},
		{"none, postgres", clusterFlags{}, "postgres", ""},
		{"all set", clusterFlags{shards: 128, lease: 3 * time.Second, tick: 500 * time.Millisecond, skewGrace: 10 * time.Second}, "postgres", ""},
		{"a shorter tick alone", clusterFlags{tick: 200 * time.Millisecond}, "postgres", ""},
		{"without postgres", clusterFlags{lease: 10 * time.Second}, "sqlite", "go with a PostgreSQL store"},
		{"too many shards", clusterFlags{shards: 5000}, "postgres", "--cluster-shards 5000"},
		{"negative shards", clusterFlags{shards: -1}, "postgres", "--cluster-shards -1"},
		{"a tick too short", clusterFlags{tick: 10 * time.Millisecond}, "postgres", "--cluster-tick 10ms"},
		{"a lease under 3 ticks", clusterFlags{lease: 2 * time.Second}, "postgres", "--cluster-lease 2s"},
		{"a long tick against the default lease", clusterFlags{tick: 2 * time.Second}, "postgres", "--cluster-lease 5s"},
		{"a lease under 1s", clusterFlags{lease: 900 * time.Millisecond, tick: 100 * time.Millisecond}, "postgres", "--cluster-lease 900ms"},
		{"a skew grace under a tick", clusterFlags{skewGrace: 500 * time.Millisecond}, "postgres", "--cluster-skew-grace 500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.check(tc.store)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
