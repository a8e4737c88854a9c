// Package compiler checks a workspace and lowers it to the IR.
//
// Check runs the passes in order over the model lang loaded, collecting
// every problem rather than stopping at the first:
//
//	limits   the counts of journeys, stages, actions, transitions and test
//	         steps against the limits of a workspace (limits.go); past
//	         one, nothing else runs: the passes cost in proportion
//	resolve  declare every name (duplicates), then resolve references:
//	         policies, channels, journeys, stages (goto), events named in
//	         labels, time strings (parsed once, kept for lowering); then
//	         in_flight, moved and removed (migrations.go: from names what
//	         is gone and is never resolved; chains resolved for the IR)
//	types    check every expression against the declared customer and
//	         event schemas by evaluating it with unknown values of the
//	         declared types (common shapes such as customer.email, string
//	         templates, comparisons and && || are typed from the syntax
//	         instead, see infer.go): unknown traits and properties,
//	         variables out of scope, conditions that are not bool, wrong
//	         send fields, env() outside channels, template files (read and
//	         checked once per scope; what a template() call expands to
//	         is bounded)
//	graph    one kind of transition per stage, default branches last,
//	         reachability, cycles of stages that never wait
//	lint     legal but suspicious: no goal, no entry, sends without a
//	         policy, shadowed afters, unsigned webhooks
//	tests    scenario tests name journeys, stages, sends and events that
//	         exist
//	lower    build the ir.Program (only when there are no errors)
//
// Diagnostics are hcl.Diagnostics with a summary, a detail that says what
// to do (and "Did you mean" for a misspelled name), and the range of the
// offending text, sorted by file and position. Diagnostics at a spot the
// parser already reported are dropped: a half-parsed expression says
// nothing new.
//
// Validate runs the checks without lowering, for `waymark validate` and
// the language server; the Index it returns holds every symbol and every
// reference to one, for go-to-definition, references and rename.
package compiler
