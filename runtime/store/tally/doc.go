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
// states when the outbox settles it. Replay derives the same tallies from
// the records alone, for a store upgraded from a version without them and
// as the oracle the tests compare the live tallies against.
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
