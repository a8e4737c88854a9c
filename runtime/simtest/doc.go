// Package simtest runs scenario tests (`*.journeytest.hcl`) on a virtual
// clock, with the same engine the server runs.
//
// A test is a customer, a timeline and expectations. Run starts the clock
// at the test's `start`, gives the customer the traits of `customer`, and
// walks the steps in source order:
//
//	event "x" {...}  ->  engine.Step(event input, now)
//	identify {...}   ->  engine.Step(identify input, now)
//	wait "3d" {}     ->  engine.Step(wake, t) for every due time t up to now+3d, in order; now += 3d
//	expect {...}     ->  compare the customer's state and the sends since the previous expect
//
// Nothing is delivered: sends are recorded with their fate. The customer's
// whole state lives in memory, one engine.Customer, exactly as the server's
// store would hold it; so a scenario test exercises the production code
// path minus the I/O. Every transition and send decision is kept for the
// failure report (the customer's path) and for coverage.
//
// Report renders results as text in the spirit of `go test`, as JSON for
// tools, or as JUnit XML for CI systems; Coverage lists, per journey, the
// stages and transitions the tests reached and the ones they never did.
package simtest
