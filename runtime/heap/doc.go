// Package heap paces the Go garbage collector of a long-running node.
//
// Go's default pacing (GOGC=100: collect each time the heap has grown by
// its live size) suits a command that runs briefly; in a node that steps
// thousands of customers a second it makes the collector a fifth of the
// process's CPU (BenchmarkClusterIngest measured 62-78 µs of the node's
// CPU per event at GOGC=100, 45-52 µs at 200-400), on a machine where the
// node shares its cores with PostgreSQL. Pace trades memory for that CPU:
// a higher percentage, bounded by a soft memory limit under which the
// collector runs as often as it must, so the higher percentage can never
// take the process out of memory that a plain GOGC=100 would have kept.
//
// The data flow is one call at start: Pace reads the environment (GOGC and
// GOMEMLIMIT win: an operator's word is kept), the memory the process may
// use (its cgroup's limit, else the machine's RAM), sets the runtime's two
// knobs and returns what it set, for the log.
package heap
