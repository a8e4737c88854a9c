// Package analytics computes a journey's analytics — counts per stage and
// edge, time in stage, goals, leakage, sends by fate and delivery, split
// experiments, metric scores (NPS, CSAT, CES, mean) by stage, and the
// Sankey of paths — as the JSON documents of the admin API (GET
// /v1/journeys/{name}/analytics and /paths). The types of those documents
// are exported here so that other readers (the web console) use the same
// ones. The statistics themselves are pure functions in the stats
// subpackage.
//
// Two ways lead to the same documents:
//
//   - From the analytics tallies a store keeps (runtime/store/tally):
//     the server sums the journey's tallies over the cohort hours of the
//     range (store.Tallies, HourRange) and FromTallies and
//     PathsFromTallies turn the sums into the documents. The range is
//     widened to whole UTC hours (since floored, until ceiled; the
//     document's since and until say the hours used) and selects the
//     instances that entered in it, reported as they stand now. Durations
//     come from a histogram (stats.DurationBucket): within 0.5% of the
//     exact value, or half a millisecond under 0.1 s; zero and whole
//     seconds under 1,000 s exact.
//   - From the records (store.JourneyRecords), for a store without
//     tallies: the server feeds one journey's records in commit order to
//     an Accumulator, which keeps one small state per instance; Report and
//     Paths then build the documents. The range selects the instances
//     that entered in [since, until) exactly, with their records up to
//     until; durations are exact.
//
// Over the same instances (a range of whole hours ending after every
// record) the two agree field by field, durations to the histogram's
// bucket; the tests check it over realistic workloads. They differ on
// purpose in three rare cases: a stage renamed by a migration (a moved
// block) is a step of the path for the Accumulator, a rename for the
// tallies (no time in the old stage, the same step); a run a merge moved
// to another customer ends "merged" for the Accumulator and goes on for
// the tallies; and stages or sends the program no longer names come in
// the order of their first record there, by name here.
//
// An instance whose entry is older than the history kept (a pruned
// history) is not counted from records; its tallies stay.
package analytics
