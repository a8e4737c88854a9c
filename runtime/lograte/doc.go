// Package lograte keeps a repeated failure from flooding the log: a
// Limiter lets a line of one kind through at most once per interval and
// counts the ones it held back, which the next line it lets through
// reports. A full disk refused every request with three log lines each
// (57k lines in 25 s); through a Limiter it is one line a kind per
// interval, "suppressed": N.
//
// The worker (commit failures) and the server (ingest not committed, the
// health check) each keep one.
package lograte
