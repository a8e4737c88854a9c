package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options shape a server.
type Options struct {
	// Durable keeps PostgreSQL's fsync on, as in production: benchmarks
	// that report durable throughput want it. Tests leave it off (they
	// kill Waymark nodes, never the server), which makes them fast.
	Durable bool
	// Settings are more `name=value` server settings.
	Settings []string
}

// Server is a running private PostgreSQL server.
type Server struct {
	Bin  string // the directory of initdb and pg_ctl
	Dir  string // the temporary directory: data/ and server.log
	Port int

	as  []string // the command prefix that runs as the server's user
	mu  sync.Mutex
	dbs int
}

// ErrNoPostgres is returned (wrapped) by Start when no PostgreSQL binaries
// are found.
var ErrNoPostgres = errors.New("PostgreSQL's initdb and pg_ctl not found (install Debian's postgresql package, or set WAYMARK_PG_BIN)")

// findBin returns the directory that holds initdb and pg_ctl: WAYMARK_PG_BIN,
// else Debian's /usr/lib/postgresql/VERSION/bin of the highest version, else
// the one on PATH.
func findBin() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("WAYMARK_PG_BIN"); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("WAYMARK_PG_BIN=%s has no initdb and pg_ctl: %w", d, ErrNoPostgres)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
		vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
		return int(vb*100) - int(va*100) // highest first
	})
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

// Start initialises a new cluster in a temporary directory and starts its
// server on a free loopback port. Stop it with Stop.
func Start(opts Options) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{Bin: bin}
	var uid, gid int = -1, -1
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	if s.Dir, err = os.MkdirTemp("", "waymark-pg-"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(s.Dir)
		}
	}()
	if uid >= 0 {
		if err := os.Chown(s.Dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(s.Dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	settings := []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=''",
		"max_connections=300",
		"log_min_messages=warning",
	}
	if !opts.Durable {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	settings = append(settings, opts.Settings...)
	// A port taken between our probe and the server's bind: try another.
	for try := 0; ; try++ {
		if s.Port, err = freePort(); err != nil {
			return nil, err
		}
		o := "-p " + strconv.Itoa(s.Port)
		for _, kv := range settings {
			o += " -c " + kv
		}
		out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(s.Dir, "server.log"), "-w", "-t", "60", "-o", o, "start")
		if err == nil {
			break
		}
		if try == 2 {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
			return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
	ok = true
	return s, nil
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	argv := append(slices.Clone(s.as), filepath.Join(s.Bin, prog))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the connection string of database db on the server.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// CreateDB creates a new, empty database and returns its DSN.
func (s *Server) CreateDB(ctx context.Context) (string, error) {
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("waymark_%d", s.dbs)
	s.mu.Unlock()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.DSN(name), nil
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() error {
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return errors.Join(err, os.RemoveAll(s.Dir))
}

// The package's shared server: started by the first test that needs it,
// stopped by Main after the tests.
var shared struct {
	sync.Mutex
	main bool
	srv  *Server
	err  error
}

// Main runs the tests of m, then stops the shared server if one started.
// Call it from TestMain.
func Main(m *testing.M) int {
	shared.Lock()
	shared.main = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		shared.srv = nil
	}
	return code
}

// Need returns the shared server, starting it on first use. Without the
// binaries it fails tb under CI=true and skips it otherwise.
func Need(tb testing.TB) *Server {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.main {
		tb.Fatal("pgtest: the package's TestMain must call pgtest.Main, which stops the server after the tests")
	}
	if shared.srv == nil && shared.err == nil {
		start := time.Now()
		shared.srv, shared.err = Start(Options{})
		if shared.err == nil {
			tb.Logf("pgtest: PostgreSQL from %s on port %d, started in %v", shared.srv.Bin, shared.srv.Port, time.Since(start).Round(time.Millisecond))
		}
	}
	if shared.err != nil {
		Missing(tb, shared.err)
	}
	return shared.srv
}

// Missing reports that PostgreSQL could not be had: a failure under
// CI=true or when the binaries exist but did not start, a skip otherwise.
func Missing(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNoPostgres) && !isCI() {
		tb.Skipf("SKIPPED, needs PostgreSQL: %v", err)
	}
	tb.Fatalf("pgtest: %v", err)
}

func isCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// DB returns the DSN of a new, empty database on the shared server.
func DB(tb testing.TB) string {
	tb.Helper()
	s := Need(tb)
	dsn, err := s.CreateDB(context.Background())
	if err != nil {
		tb.Fatalf("pgtest: creating a database: %v", err)
	}
	return dsn
}
