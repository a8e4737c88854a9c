// Package analytics computes a journey's analytics — counts per stage and
// edge, time in stage, goals, leakage, sends by fate and delivery, split
// experiments, metric scores (NPS, CSAT, CES, mean) by stage, and the
// Sankey of paths — from the transition, send and metric response records
// the stores keep (store.JourneyRecords), never from counters
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
// with their records up to until (so a metric counts the responses of those
// instances, in the stage each was in when it answered). An instance whose entry is older than the
// history kept (a pruned history) is not counted.
package analytics
