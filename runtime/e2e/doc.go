// Package e2e holds Waymark's end-to-end tests and the ingest benchmark.
// It has no code of its own: the tests build the waymark binary, run it on
// the workspaces in testdata (ws; plan/v1 and v2) with a SQLite store in a temporary
// directory, and talk to it over HTTP only, as an operator's pipeline
// would; webhook sends go to a receiver in the test process on 127.0.0.1.
//
//   - TestCrashAndRestart: SIGKILL in the middle of a load; after a
//     restart every acknowledged event's effects are in the store, a
//     re-send of everything applies each event exactly once (messageId),
//     and every send is delivered, redeliveries under the same
//     Idempotency-Key.
//   - TestGracefulStop: SIGTERM in the middle of a load; the server answers
//     what it took, exits 0, and after a restart exactly the acknowledged
//     events are there.
//   - TestReloadUnderLoad: the workspace is edited while events stream
//     in; the new version goes live, instances move by stage name (one in
//     a removed stage ends exited, stage_removed), no event is lost or
//     doubled; a broken edit is refused and shown by /v1/status while
//     serving goes on.
//   - TestPlanThenReload: customers spread over three stages of
//     testdata/plan/v1; `waymark plan --server` of the edit in
//     testdata/plan/v2 (exit 3: customers move); the edit written into
//     the live workspace; every customer is where the plan said, and the
//     reload's account in /v1/status equals the plan's summary.
//   - TestQuickstartAtNight: the README's quickstart calls, read from
//     README.md, sent at 23:30 in the customer's zone on a manual clock
//     (--clock manual, POST /v1/clock): --deliver log prints the support
//     case's acknowledgement whatever the hour, and a "send held" line
//     with the reason and the end of quiet hours for the marketing email,
//     which is suppressed when its hour comes.
//   - TestConsoleInBrowser: headless Chromium (chromedp; Debian's chromium,
//     internal/testtool) through the web console of a run with an admin
//     token, data put in through the API and one send dead-lettered (the
//     receiver answers 400): sign-in (a wrong token refused), the journeys,
//     a journey's SVG graph with every stage and its count, a customer found
//     by the search box and their timeline, the status page and a requeue,
//     sign-out; no console error or exception, no request leaving the
//     machine. -screenshots writes docs/console/*.png.
//   - TestPreferencePageInBrowser: the same browser on a customer's
//     unsubscribe link (GET /u/TOKEN) of a run with --public-url and
//     WAYMARK_LINK_SECRET: every topic with its description and status, one
//     topic unsubscribed with the form (no script), the page after the
//     redirect and the admin API's subscriptions agreeing, a tampered link's
//     400; no console error, no request leaving the machine.
//   - TestOneClickUnsubscribe, TestReloadRefusesTopicEmailWithoutLinks:
//     the RFC 8058 POST of a real mail's List-Unsubscribe link; a hot reload
//     adding email of a topic to a run without --public-url and
//     WAYMARK_LINK_SECRET refused (shown by /v1/status, serving goes on).
//   - TestClusterCrash, TestClusterPausedNode, TestClusterJoin,
//     TestClusterRollingReload, TestClusterGracefulLeave: several `waymark run` processes on one
//     PostgreSQL (a private server, runtime/store/postgres/pgtest) with the
//     workspace in testdata/cluster, under load through all of them: a node
//     SIGKILLed, a node SIGSTOPped past its lease and resumed, a fourth node
//     joining, the workspace edited node after node, a node stopped with
//     SIGTERM handing its shards over at once; every acknowledged
//     event applied exactly once and in order (each ping's number travels
//     in its send), every timer fired, every send delivered under its key.
//   - BenchmarkClusterIngest, BenchmarkClusterTakeover: durable events/s
//     through POST /v1/batch on 1 and 2 nodes beside CopyFrom of the same
//     rows, and the time from a SIGKILL to the first event handled on the
//     dead node's shards.
//   - BenchmarkIngestBatch: durable events per second through POST
//     /v1/batch (server, worker and SQLite in process), and its ratio to
//     the same store writes done directly with store.Commit.
package e2e
