// Package analytics computes a journey's analytics — counts per stage and
// edge, time in stage, goals, leakage, sends by fate and delivery, split
// experiments, and the Sankey of paths — from the transition and send
// records every store keeps (store.JourneyRecords), never from counters
// kept on the side that could drift from them.
//
// Data flows one way: the server asks the store for one journey's records
// in commit order and feeds them to an Accumulator, which keeps one small
// state per instance; Report and Paths then turn that into the JSON
// documents of the admin API (GET /v1/journeys/{name}/analytics and
// /paths). The types of those documents are exported here so that other
// readers (the web console) use the same ones. The statistics themselves
// are pure functions in the stats subpackage.
//
// The time range selects instances: those that entered in [since, until),
// with their records up to until. An instance whose entry is older than the
// history kept (a pruned history) is not counted.
package analytics
