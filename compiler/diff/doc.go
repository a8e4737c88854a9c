// Package diff is the semantic diff of two compiled programs and the two
// documents that the CLI, the server and the editor speak about a change to
// a live workspace:
//
//   - waymark.diff/v1 (Diff): what changed between two ir.Programs, per
//     journey (stages added, removed, moved by a `moved` block, changed:
//     actions, sends' fields, transitions, conditions, durations, split
//     weights; entries, goals, exits, policy, re-entry) and for the
//     program (channels, policies, schemas, templates), each change with
//     its source range in the new program;
//   - waymark.plan/v1 (Plan): the diff plus what it does to the customers
//     in flight, as counts per journey, stage and disposition. The counts
//     are made by runtime/plan; this package holds the types and renders
//     them.
//
// Data flow:
//
//	old, new *ir.Program ─► Compute ─► *Diff ─► Text / Markdown / JSON
//	                                     │
//	runtime/plan (engine.Migrate, dry) ──┴─► *Plan ─► Text / Markdown / JSON, ExitCode
//
// Compute is pure and deterministic: journeys in the new program's order
// (removed ones after, in the old order), stages likewise. Source ranges
// never count as a change: moving code within a file changes nothing.
// Field names of both documents are a stable interface for tools: add
// fields, never rename or remove them.
package diff
