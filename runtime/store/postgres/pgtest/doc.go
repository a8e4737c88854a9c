// Package pgtest starts a private PostgreSQL server for tests, from the
// system's binaries (Debian's postgresql package puts initdb and pg_ctl in
// /usr/lib/postgresql/VERSION/bin), in a temporary directory, on a free
// loopback port, and tears it down after.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.DB(t) // a new, empty database on the package's server
//		...
//	}
//
// One server serves a whole test binary (initdb costs a second or two);
// each test gets a database of its own. PostgreSQL refuses to run as root:
// under root the server runs as the `postgres` system user (runuser), which
// the package creates. The server listens on 127.0.0.1 only, with trust
// authentication and no Unix socket.
//
// When the binaries are missing a test that needs the server fails with
// CI=true in the environment (CI must install the postgresql package) and
// is skipped otherwise, saying why. WAYMARK_PG_BIN names the directory of
// the binaries when they are elsewhere.
package pgtest
