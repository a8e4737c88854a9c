// Package tally derives the analytics tallies a store keeps beside its
// records: small counters keyed by journey, cohort hour (when the counted
// instances entered), kind and one or two names, that a store adds in the
// same commit as the transitions, sends and responses they count. The
// analytics of a journey (runtime/analytics) are then a sum over a few rows
// per hour, whatever the number of instances, and cannot drift from the
// records: nothing else writes them.
//
// Data flows one way. The engine stamps each transition, send and response
// with the context a counter needs (the instance's entry time, when it
// entered the stage it leaves, its path length, its visited stages and
// split variants; engine.Transition's fields without JSON). Of turns a
// customer write into tallies, Merge sums a batch's by key (one upsert per
// key and commit, in a fixed order), Delivery moves a send between delivery
// states when the outbox settles it. A Replayer derives the same tallies
// from the records alone (store.JourneyRecords), for a store upgraded from
// a version without them (with the Visited and Splits of the instances in
// flight: Progress) and as the oracle the tests compare the live tallies
// against. Sum is SumTallies over tallies in memory.
//
// What counts:
//   - a record without its instance's entry time (zero Entered) counts
//     nothing: the end, under its old name, of a run that a merge moved to
//     another customer (the run goes on under the new name and counts
//     once, to its real end), and a held send released after another
//     instance of the journey took its instance's slot. A store must not
//     move such a send's delivery either (Delivery): Of counted no pending.
//   - a move from a stage to itself (a merge or a migration noting where
//     an instance is) counts nothing;
//   - a migration's move to a stage a moved block renamed (cause "moved")
//     is a rename: an edge and an entry of the new name, the same path
//     step, no time in the old name (the time counts when the instance
//     leaves the new one, from its entry into the old);
//   - durations are bucketed by stats.DurationBucket; B of stage_time and
//     goal_time is the bucket in decimal;
//   - a path of L stage entries (engine.Transition.Visit) shows in a
//     Sankey of steps >= L; path tallies exist for L <= MaxSteps only.
//
// Kinds (A, B; N counts instances unless said otherwise):
//
//	entered          -, -             instances that entered
//	status           status, -        instances by their status now (active, completed, converted, exited)
//	stage_entered    stage, -         stage entries (a loop counts again)
//	stage_active     stage, -         active instances in the stage now
//	edge             stage, to        moves from the stage to a stage, end, goal:EVENT or exit:CAUSE
//	stage_time       stage, bucket    entries that left the stage, by time spent (DurationBucket)
//	visitors         stage, -         instances that entered the stage at least once
//	leaked           stage, -         visitors that ended by an exit or completed without a goal
//	goal_time        goal:EVENT, bucket  conversions by time from entry
//	send_fate        send, fate       send decisions by fate
//	send_delivery    send, state      sends decided "deliver", by delivery state now
//	split            stage, variant   instances a split stage first assigned to the variant
//	split_converted  stage, variant   those of them that converted
//	response         metric, stage    responses (N) and the sum of their values (Sum)
//	response_promoter, response_detractor, response_satisfied
//	                 metric, stage    responses of 9 or more, 6 or less, 4 or more
//	path             {i}_{stage}, {i+1}_{stage}   Sankey links between the first MaxSteps stages
//	path_end         {L-1}_{stage}, {L}_{end}     where paths of L stages end: end, goal:E, exit:C or active
package tally
