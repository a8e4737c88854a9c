package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
)

// The waymark binary, built once for the tests that run it.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m) // stops the PostgreSQL server the cluster tests start

	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func waymarkBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "waymark-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "waymark")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/waymark-dev/waymark/cmd/waymark").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// copyDir copies the workspace src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// proc is a running `waymark run`.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	mu     sync.Mutex
	logs   []map[string]any // its stderr, one JSON log record a line
	raw    bytes.Buffer     // stderr lines that are not JSON (diagnostics)
	exited chan struct{}
	err    error // Wait's, after exited
}

// startWaymark starts `waymark run --listen 127.0.0.1:0 --log-format json
// ARGS...` with the extra environment and waits until it listens.
func startWaymark(t testing.TB, env []string, stdout io.Writer, args ...string) *proc {
	t.Helper()
	all := append([]string{"run", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(waymarkBinary(t), all...)
	cmd.Env = append(os.Environ(), env...)
	if stdout == nil {
		stdout = io.Discard
	}
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				p.mu.Lock()
				p.raw.Write(sc.Bytes())
				p.raw.WriteByte('\n')
				p.mu.Unlock()
				continue
			}
			p.mu.Lock()
			p.logs = append(p.logs, rec)
			p.mu.Unlock()
			if rec["msg"] == "listening" {
				listening <- rec["addr"].(string)
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it all first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case addr := <-listening:
		p.base = "http://" + addr
	case <-p.exited:
		t.Fatalf("waymark run exited before listening: %v\n%s", p.err, p.stderr())
	case <-time.After(60 * time.Second):
		t.Fatalf("waymark run did not listen within a minute:\n%s", p.stderr())
	}
	return p
}

// stderr returns what the process logged, for failure messages.
func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	b.Write(p.raw.Bytes())
	for _, rec := range p.logs {
		line, _ := json.Marshal(rec)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// logged reports whether a log record with this message was written.
func (p *proc) logged(msg string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, rec := range p.logs {
		if rec["msg"] == msg {
			return true
		}
	}
	return false
}

// kill stops the process with SIGKILL: no shutdown code runs.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// terminate stops the process with SIGTERM and returns its exit code.
func (p *proc) terminate(within time.Duration) int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(within):
		p.t.Fatalf("waymark run did not stop within %v after SIGTERM:\n%s", within, p.stderr())
	}
	return p.cmd.ProcessState.ExitCode()
}

// client talks to a waymark server.
type client struct {
	base  string
	http  *http.Client
	token string // the admin token, when the server wants one
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, MaxConnsPerHost: 64}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// call is one tracking call.
type call struct {
	Type       string         `json:"type"`
	UserID     string         `json:"userId"`
	Event      string         `json:"event,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	MessageID  string         `json:"messageId"`
	Traits     map[string]any `json:"traits,omitempty"`
	PreviousID string         `json:"previousId,omitempty"` // alias
}

// batch posts calls; an error means no 200 came back (the process died, or
// answered otherwise).
func (c *client) batch(ctx context.Context, calls []call) error {
	body, err := json.Marshal(map[string]any{"batch": calls})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(answer, []byte(`"success":true`)) {
		return fmt.Errorf("status %d: %s", res.StatusCode, answer)
	}
	return nil
}

func (c *client) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := c.tryJSON(path, v); err != nil {
		t.Fatal(err)
	}
}

// tryJSON is getJSON returning its error, for a condition polled until it
// holds.
func (c *client) tryJSON(path string, v any) error {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v\n%s", path, err, body)
	}
	return nil
}

// customer reads a customer's whole document: the admin API pages the
// history (the latest entries first), and the tests count all of it.
func (c *client) customer(t *testing.T, id string) customerDoc {
	t.Helper()
	doc, err := c.tryCustomer(id)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// tryCustomer is customer returning its error, for a condition polled
// until it holds. Each older page's entries go before the newer ones.
func (c *client) tryCustomer(id string) (customerDoc, error) {
	var doc customerDoc
	if err := c.tryJSON("/v1/customers/"+url.PathEscape(id)+"?limit=1000", &doc); err != nil {
		return doc, err
	}
	for next := doc.Page.Next; next != ""; {
		var older customerDoc
		if err := c.tryJSON(next, &older); err != nil {
			return doc, err
		}
		for _, oi := range older.Instances {
			k := slices.IndexFunc(doc.Instances, func(in customerInstance) bool { return in.ID == oi.ID })
			if k < 0 { // an earlier run with nothing on the newer pages
				doc.Instances = append(doc.Instances, oi)
				continue
			}
			doc.Instances[k].History = append(oi.History, doc.Instances[k].History...)
		}
		doc.Sends = append(older.Sends, doc.Sends...)
		next = older.Page.Next
	}
	return doc, nil
}

// The admin API's documents, as far as the tests read them.
type (
	customerDoc struct {
		ID        string             `json:"id"`
		Traits    map[string]any     `json:"traits"`
		Instances []customerInstance `json:"instances"`
		Sends     []struct {
			Key, Name, Fate, Delivery, LastError string
			Attempts                             int
		} `json:"sends"`
		Page struct {
			Next string `json:"next"`
		} `json:"page"`
	}
	customerInstance struct {
		ID, Journey, Version, Stage, Status, Cause string
		History                                    []struct{ From, To, Cause, Version string }
	}
	statusDoc struct {
		Version  string `json:"version"`
		Journeys []struct {
			Name, Version string
		} `json:"journeys"`
		Reloads int `json:"reloads"`
		Refused *struct {
			Errors      int `json:"errors"`
			Diagnostics []struct {
				Severity, Summary, Detail, File string
			} `json:"diagnostics"`
			Error string `json:"error"`
		} `json:"refused"`
		Migration *struct {
			Version  string    `json:"version"`
			Finished time.Time `json:"finished"`
			Woken    int       `json:"woken"`
			Error    string    `json:"error"`
		} `json:"migration"`
	}
	journeysDoc struct {
		Journeys []struct {
			Name, Version string
			Active        int
			Stages        []struct {
				Name   string
				Active int
			}
			OlderVersions []json.RawMessage `json:"older_versions"`
		} `json:"journeys"`
	}
)

func pings(c customerDoc) int {
	n, _ := c.Traits["pings"].(float64)
	return int(n)
}

// receiver is a webhook endpoint that records every delivery and checks
// its signature. failEvery > 0 answers every failEvery-th request 503, so
// that retries happen; delay is how long it takes over each request, so
// that deliveries are in flight when the server is killed (the receiver
// takes them, the server never learns it did: they go out again).
type receiver struct {
	t         *testing.T
	secret    string
	failEvery int
	delay     time.Duration

	mu       sync.Mutex
	requests int
	got      map[string][]json.RawMessage // by Idempotency-Key: the data of every accepted delivery
	failed   map[string]int               // by Idempotency-Key: attempts answered 503
	problems []string
	srv      *httptest.Server

	// While hold is set, a request is taken (its data recorded in got, as
	// a receiver that acts before it answers would) and then left
	// unanswered until release closes or its client goes away: a delivery
	// that is certainly in flight. held lists the keys taken so, and
	// heldOne is closed at the first.
	hold    bool
	held    []string
	heldOne chan struct{}
	release chan struct{}
}

// holdRequests starts holding requests (see receiver.hold) and returns a
// channel closed once one is held.
func (r *receiver) holdRequests() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.heldOne, r.release = true, make(chan struct{}), make(chan struct{})
	return r.heldOne
}

// releaseHeld stops holding and lets the held requests end; it returns the
// keys that were held.
func (r *receiver) releaseHeld() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold {
		r.hold = false
		close(r.release)
	}
	return append([]string(nil), r.held...)
}

func newReceiver(t *testing.T, secret string, failEvery int, delay time.Duration) *receiver {
	r := &receiver{t: t, secret: secret, failEvery: failEvery, delay: delay, got: map[string][]json.RawMessage{}, failed: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	key := req.Header.Get("Idempotency-Key")
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var payload struct {
		Key  string          `json:"key"`
		Data json.RawMessage `json:"data"`
	}
	err = json.Unmarshal(body, &payload)
	time.Sleep(r.delay)

	r.mu.Lock()
	if r.hold && err == nil {
		r.got[key] = append(r.got[key], payload.Data)
		r.held = append(r.held, key)
		if len(r.held) == 1 {
			close(r.heldOne)
		}
		release := r.release
		r.mu.Unlock()
		select {
		case <-release:
		case <-req.Context().Done():
		}
		return
	}
	defer r.mu.Unlock()
	r.requests++
	switch {
	case err != nil:
		r.problems = append(r.problems, "a body that is not JSON: "+string(body))
	case key == "" || payload.Key != key:
		r.problems = append(r.problems, fmt.Sprintf("Idempotency-Key %q for a send keyed %q", key, payload.Key))
	case !hmac.Equal([]byte(req.Header.Get("X-Waymark-Signature")), []byte(want)):
		r.problems = append(r.problems, "a bad signature on "+key)
	}
	if r.failEvery > 0 && r.requests%r.failEvery == 0 {
		r.failed[key]++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.got[key] = append(r.got[key], payload.Data)
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) snapshot() (got map[string][]json.RawMessage, failed map[string]int, problems []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got = make(map[string][]json.RawMessage, len(r.got))
	for k, v := range r.got {
		got[k] = append([]json.RawMessage(nil), v...)
	}
	failed = make(map[string]int, len(r.failed))
	for k, v := range r.failed {
		failed[k] = v
	}
	return got, failed, append([]string(nil), r.problems...)
}

// eventually polls cond every 100ms until it returns nil or d passes, then
// fails with its last error.
func eventually(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")
