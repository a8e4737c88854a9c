// Package storelock keeps two waymark processes off one store. Each store
// takes an exclusive, non-blocking lock on a small file beside its data
// (flock, so the kernel drops it when the process dies, however it dies)
// and writes its pid into it; a second Open of the same store, in another
// process or the same one, fails at once with an *InUseError naming the
// store and, where the file holds it, the pid of the holder.
//
// Without it two processes on one SQLite file both start, each believing
// its own view of the timers and the outbox, and acknowledged events are
// lost (SQLite's own file locking only serialises their transactions).
//
// The file is never removed: removing it on Close would let a third
// process lock a new file while a second still holds the old one.
package storelock
