package worker

// SetPrepared installs a hook called after each batch is prepared (before
// the previous commit is awaited). Call before Run.
func SetPrepared(w *Worker, f func()) { w.prepared = f }

// CloneCustomer exposes cloneCustomer to the tests.
var CloneCustomer = cloneCustomer
