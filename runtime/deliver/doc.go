// Package deliver takes sends out of the transactional outbox and delivers
// them through channels: smtp, webhook and log.
//
// # Data flow
//
// The engine decides a send (engine.Send with Fate "deliver": its Key, the
// evaluated Fields); the worker's group commit writes it to the outbox under
// its Key, in the same transaction as the customer's new state. The
// Dispatcher then, in a loop:
//
//  1. claims due items (store.ClaimOutbox, for a Lease of 30s), no more than
//     it has free workers (8), so that no claimed item waits in memory while
//     its lease runs;
//  2. delivers each through the Channel named by Send.Channel, with an
//     attempt bounded well inside the lease (3/4 of it), since past the
//     lease another dispatcher may claim the item;
//  3. settles it: Delivered; on a retryable failure Retry at now + backoff;
//     on a permanent failure, or a retryable one at MaxAttempts (10), Dead:
//     the send is then in the dead letters, visible with its last error
//     through store.Sends.
//
// The worker calls Notify after each commit, so a new send goes out at once;
// a poll (200ms) finds retries falling due and anything a Notify missed. A
// dispatcher that dies mid-delivery leaves its items leased; when the lease
// runs out they are claimed again and delivered again under the same key.
// Delivery is therefore at least once, and every channel carries the key so
// that receivers can drop duplicates.
//
// Backoff is exponential with full jitter: after attempt n the next waits a
// random time in [0, min(Cap, Base*Factor^(n-1))), by default Base 1s,
// Factor 2, Cap 1h. A receiver's Retry-After is honoured up to the cap.
// When Run's context ends the dispatcher stops claiming, gives deliveries in
// flight ShutdownGrace (10s) to finish, and puts back any it had to cut
// short without counting the attempt.
//
// # Failure classes
//
// A Channel returns an *Error saying whether a retry can help (Permanent,
// Retryable); an unclassified error is retried, the safe side for
// at-least-once delivery.
//
//	webhook  2xx delivered; 408, 425, 429, 5xx retryable (Retry-After honoured);
//	         other 4xx permanent; 3xx permanent (never followed: it would re-send
//	         a signed payload somewhere nobody configured); no response, timeout,
//	         connection or TLS error retryable
//	smtp     5xx reply permanent (including 535 on AUTH); 4xx retryable; connection,
//	         TLS and timeout errors retryable; a missing STARTTLS where TLS is
//	         needed retryable (a relay can be fixed, and the password was not sent)
//	both     fields that cannot make a request or a message (an address that does
//	         not parse, a header with a line break) permanent
//
// # Channel setup
//
// Setup evaluates each channel's settings from the IR (expressions re-parsed
// at their source position, with the expression functions and no
// variables; env() reads the process environment then, and only then).
// Every problem of every channel is reported in one error, each naming the
// file position, channel and setting, and the variable for a missing env().
// Values of password and secret never appear in an error: they are scrubbed
// from every message (each stretch holding secrets becomes one
// "[redacted]"; a secret under four bytes only where it stands as a word),
// and a setting whose value overlaps a secret is described without quoting
// it. Webhook URLs are never quoted whole either (they often carry a
// token): messages name the scheme, host and path, with path segments that
// look like a token shown as "…", and never the user info or the query.
//
// Mode Log (`waymark run --deliver log`) makes every channel a log channel
// and evaluates no setting, so a workspace can be tried without its
// credentials. Its line (LogChannel) leads with what a person trying a
// workspace looks for: channel, recipient, subject and a one-line preview
// of the body; LogUndelivered, wired to the worker's commits in that mode,
// adds a line for each send that did not go out now (held by quiet hours,
// suppressed, capped, ...) with the reason.
//
// # Webhook contract
//
// Each send is one POST of a JSON object (WebhookPayload):
//
//	{"key": "...", "journey": "...", "instance": "...", "stage": "...",
//	 "name": "...", "channel": "...", "data": <the send's data>,
//	 "sent_at": "2026-03-02T10:00:00.123Z"}
//
// with the headers Content-Type: application/json, Idempotency-Key: <key>
// (identical on every attempt of a send), the send's own headers field, and,
// when the channel has a secret, X-Waymark-Signature: sha256=<hex
// HMAC-SHA256 of the exact body bytes under the secret>.
//
// There is no separate timestamp header: sent_at, the time of this attempt,
// is inside the signed body. A receiver verifies by computing the HMAC over
// the raw body it read (before parsing it), comparing in constant time, then
// parsing and refusing a sent_at older than its tolerance (say 5 minutes) to
// stop replays, and dropping a key it has already processed to stop
// duplicates. Retries re-sign: the body of each attempt differs only in
// sent_at.
//
// # SMTP
//
// One conversation per message: EHLO, STARTTLS when offered (starttls unset)
// or required (starttls = true), never (starttls = false); TLS from the
// first byte on port 465. AUTH PLAIN (or LOGIN, when a relay offers only
// that) with username and password, only over TLS unless the server is this
// machine (localhost, a loopback address): Setup refuses a channel that
// would send a password in the clear, and an attempt stops before AUTH when
// the server does not offer STARTTLS. The
// message has Date, From, To, Reply-To, Subject (RFC 2047 when not plain
// ASCII), Message-ID derived from the send key (the same on every attempt),
// X-Waymark-Key, and a text/plain body or a multipart/alternative of text
// and HTML, each part UTF-8 in quoted-printable.
//
// # Log
//
// One JSON line per send through log/slog (standard output by default):
// key, journey, instance, stage, name, channel, type and a fields group.
// For smtp sends the group has to, subject and reply_to and only the sizes
// of the bodies; the rendered message is kept whole in the send history.
package deliver
