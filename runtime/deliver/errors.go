package deliver

import (
	"errors"
	"fmt"
	"time"
)

// Error is a delivery failure with its class. A channel returns one so that
// the dispatcher knows whether trying again can help: a permanent failure
// (the receiver refused the message as it is: a 4xx from a webhook, a 5xx
// reply from an SMTP server, a send whose fields cannot make a message) goes
// to the dead letters at once; anything else is retried with backoff.
//
// An error that is not an *Error counts as retryable. That is the safe
// default for delivery that is at-least-once: an unknown failure costs a
// retry, never a lost message.
type Error struct {
	Permanent bool
	// RetryAfter is the receiver's own hint of when to try again (an HTTP
	// Retry-After header); zero when it gave none. The dispatcher waits at
	// least this long, up to its backoff cap.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as a failure that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Permanent: true, Err: err}
}

// Retryable marks err as a failure worth retrying (what an unmarked error
// means too; the mark documents the decision where it is taken).
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

func permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }
func retryablef(format string, args ...any) error { return Retryable(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err says the send can never succeed as it is.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// RetryAfterOf returns the receiver's retry hint carried by err, or zero.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
