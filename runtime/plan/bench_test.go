package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
)

// The benchmark's fixtures: one SQLite file per size, built once per run
// and removed when the run ends.
var (
	fixtureMu  sync.Mutex
	fixtures   = map[int]string{}
	fixtureDir string
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fixture returns the path of a SQLite store holding n customers with an
// active instance of testdata's journey: two thirds in welcome, a third in
// engaged, committed straight to the store in batches of 10,000 (states
// only: history plays no part in a plan).
func fixture(b *testing.B, base *ir.Program, n int) string {
	b.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if path, ok := fixtures[n]; ok {
		return path
	}
	if fixtureDir == "" {
		dir, err := os.MkdirTemp("", "waymark-plan-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtureDir = dir
	}
	path := filepath.Join(fixtureDir, fmt.Sprintf("plan-%d.db", n))
	eng, err := engine.New(base, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	at := time.Now().UTC().Add(-2 * time.Hour)
	const batch = 10000
	for lo := 0; lo < n; lo += batch {
		var bt store.Batch
		for i := lo; i < min(lo+batch, n); i++ {
			c := &engine.Customer{ID: fmt.Sprintf("c%08d", i)}
			eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signed_up"}, at)
			if i%3 == 2 {
				eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "project_created"}, at)
			}
			bt.Customers = append(bt.Customers, store.CustomerWrite{State: c, NextWake: c.NextWake()})
		}
		if err := st.Commit(context.Background(), &bt); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("fixture: %d active customers committed in %v", n, time.Since(start).Round(time.Millisecond))
	fixtures[n] = path
	return path
}

// BenchmarkPlan is POST /v1/plan's work on a SQLite store of 100,000 and
// 1,000,000 active customers: the issue's edit (welcome removed to intro,
// engaged moved to active_user), planned with plan.Run. In the same run it
// reads the same customers plainly (plan.Read: the same pages and
// decoding, no migration): read_seconds, and plan/read, what the dry
// migration adds to reading. The *_cpu_seconds are the process's CPU time
// for each: on a shared machine, wall time counts the waits for a core too;
// *_cpu_us/customer are the same per customer.
// The fixture is built once per run, outside the timings.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) { benchPlan(b, n) })
	}
}

func benchPlan(b *testing.B, n int) {
	base, err := compileTestdata()
	if err != nil {
		b.Fatal(err)
	}
	cand := editIssueExample(base)
	path := fixture(b, base, n)
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(cand, engine.Options{Versions: []*ir.Program{base}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var planT, readT, planCPU, readCPU time.Duration
	b.ResetTimer()
	for range b.N {
		start, cpu := time.Now(), cpuTime()
		got, err := Read(ctx, st, Options{})
		if err != nil || got != n {
			b.Fatalf("read %d of %d: %v", got, n, err)
		}
		readT, readCPU = readT+time.Since(start), readCPU+cpuTime()-cpu
		start, cpu = time.Now(), cpuTime()
		p, err := Run(ctx, st, Input{Base: base, BaseVersion: "old", Candidate: cand, Version: "new", Engine: eng}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		planT, planCPU = planT+time.Since(start), planCPU+cpuTime()-cpu
		if p.Summary.InFlight != n || p.Summary.Redirected+p.Summary.Moved != n {
			b.Fatalf("plan summary %+v for %d customers", p.Summary, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(planT.Seconds()/float64(b.N), "plan_seconds")
	b.ReportMetric(readT.Seconds()/float64(b.N), "read_seconds")
	b.ReportMetric(planT.Seconds()/readT.Seconds(), "plan/read")
	b.ReportMetric(planCPU.Seconds()/float64(b.N), "plan_cpu_seconds")
	b.ReportMetric(readCPU.Seconds()/float64(b.N), "read_cpu_seconds")
	// What does not depend on the machine's load: CPU time a customer.
	// Under 10 us is 1,000,000 customers in under 10 s on a single idle
	// core.
	perCustomer := float64(time.Second/time.Microsecond) / float64(b.N*n)
	b.ReportMetric(planCPU.Seconds()*perCustomer, "plan_cpu_us/customer")
	b.ReportMetric(readCPU.Seconds()*perCustomer, "read_cpu_us/customer")
}
