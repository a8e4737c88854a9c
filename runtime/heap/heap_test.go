package heap

import (
	"io/fs"
	"testing"
)

func TestPlan(t *testing.T) {
	const gib = 1 << 30
	meminfo := "MemTotal:        8388608 kB\nMemFree:         1000 kB\n" // 8 GiB
	tests := []struct {
		name      string
		env       map[string]string
		files     map[string]string
		percent   int
		limit     int64
		whyPrefix string
	}{
		{"the machine's memory", nil, map[string]string{"/proc/meminfo": meminfo}, GCPercent, 6 * gib, "a share of the machine's memory"},
		{"a cgroup v2 limit", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, GCPercent, 3 * gib / 2, "a share of the cgroup's"},
		{"cgroup v2 without a limit", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, GCPercent, 6 * gib, "a share of the machine's memory"},
		{"a cgroup v1 limit", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"}, GCPercent, 3 * gib / 4, "a share of the cgroup's"},
		{"cgroup v1 without a limit", nil, map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, GCPercent, 6 * gib, "a share of the machine's memory"},
		{"a cgroup v2 limit on a systemd unit, no namespace", nil, map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup":                                      "0::/system.slice/waymark.service\n",
			"/sys/fs/cgroup/memory.max":                              "max\n",
			"/sys/fs/cgroup/system.slice/waymark.service/memory.max": "1073741824\n",
			"/sys/fs/cgroup/system.slice/memory.max":                 "max\n"}, GCPercent, 3 * gib / 4, "a share of the cgroup's"},
		{"the lowest of a cgroup's and its parent's", nil, map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup":             "0::/a/b\n",
			"/sys/fs/cgroup/a/b/memory.max": "4294967296\n",
			"/sys/fs/cgroup/a/memory.max":   "2147483648\n"}, GCPercent, 3 * gib / 2, "a share of the cgroup's"},
		{"a cgroup v1 memory hierarchy", nil, map[string]string{"/proc/meminfo": meminfo,
			"/proc/self/cgroup": "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n",
			"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "536870912\n"}, GCPercent, 3 * gib / 8, "a share of the cgroup's"},
		{"GOGC set", map[string]string{"GOGC": "150"}, map[string]string{"/proc/meminfo": meminfo}, -1, 0, "GOGC or GOMEMLIMIT"},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, map[string]string{"/proc/meminfo": meminfo}, -1, 0, "GOGC or GOMEMLIMIT"},
		{"nothing known", nil, nil, -1, 0, "the memory available is not known"},
		{"meminfo unreadable as such", nil, map[string]string{"/proc/meminfo": "MemTotal: lots\n"}, -1, 0, "the memory available is not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			readFile := func(name string) ([]byte, error) {
				if s, ok := tt.files[name]; ok {
					return []byte(s), nil
				}
				return nil, fs.ErrNotExist
			}
			s := plan(getenv, readFile)
			if s.GCPercent != tt.percent || s.Limit != tt.limit {
				t.Errorf("plan = %d%%, limit %d; want %d%%, limit %d", s.GCPercent, s.Limit, tt.percent, tt.limit)
			}
			if len(s.Why) < len(tt.whyPrefix) || s.Why[:len(tt.whyPrefix)] != tt.whyPrefix {
				t.Errorf("why %q, want it to start with %q", s.Why, tt.whyPrefix)
			}
		})
	}
}
