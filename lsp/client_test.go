package lsp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// The tests drive the real `waymark lsp` binary over stdio, as an editor
// does: TestMain builds it, each test starts it, and a client made of
// go.lsp.dev/jsonrpc2 (Content-Length framing) and go.lsp.dev/protocol (the
// typed methods) speaks to it.

var (
	waymarkBin string
	buildFlags []string // race_test.go adds -race
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "waymark-lsp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	waymarkBin = filepath.Join(dir, "waymark")
	args := append(append([]string{"build"}, buildFlags...), "-o", waymarkBin, "github.com/waymark-dev/waymark/cmd/waymark")
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building waymark:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// client is an LSP client connected to a running server.
type client struct {
	t      testing.TB
	root   string
	cmd    *exec.Cmd
	conn   jsonrpc2.Conn
	server protocol.Server
	stderr *bytes.Buffer

	mu       sync.Mutex
	diags    map[uri.URI]*protocol.PublishDiagnosticsParams // the latest for each file
	arrived  chan struct{}                                  // closed and replaced when diagnostics arrive
	versions map[uri.URI]int32                              // the latest version sent of each open file
	texts    map[uri.URI]string                             // the text of each open file, as the server has it
}

// clientCaps is what the test client tells the server it supports.
var clientCaps = protocol.ClientCapabilities{
	TextDocument: &protocol.TextDocumentClientCapabilities{
		Completion: &protocol.CompletionClientCapabilities{CompletionItem: &protocol.ClientCompletionItemOptions{
			SnippetSupport:      ptr(true),
			DocumentationFormat: []protocol.MarkupKind{protocol.MarkupKindMarkdown},
		}},
		Hover:          &protocol.HoverClientCapabilities{ContentFormat: []protocol.MarkupKind{protocol.MarkupKindMarkdown}},
		Rename:         &protocol.RenameClientCapabilities{PrepareSupport: ptr(true)},
		DocumentSymbol: &protocol.DocumentSymbolClientCapabilities{HierarchicalDocumentSymbolSupport: ptr(true)},
	},
}

func ptr[T any](v T) *T { return &v }

// startServer runs `waymark lsp` with root as the workspace folder and
// completes the initialize handshake.
func startServer(t testing.TB, root string) *client {
	t.Helper()
	cmd := exec.Command(waymarkBin, "lsp")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, root: root, cmd: cmd, stderr: &bytes.Buffer{},
		diags: map[uri.URI]*protocol.PublishDiagnosticsParams{}, arrived: make(chan struct{}),
		versions: map[uri.URI]int32{}, texts: map[uri.URI]string{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewHeaderStream(pipes{stdout, stdin}), jsonrpc2.WithCodec(testCodec{}))
	// Notifications are handled in order, on the read goroutine, so the
	// latest diagnostics for a file are the latest the server sent.
	c.conn.Go(context.Background(), protocol.ClientHandler(&clientHandler{c: c}, jsonrpc2.MethodNotFoundHandler))
	c.server = protocol.ServerDispatcher(c.conn)
	t.Cleanup(c.stop)

	ctx := c.ctx()
	params := &protocol.InitializeParams{Capabilities: clientCaps}
	params.WorkspaceFolders = protocol.NewNullable([]protocol.WorkspaceFolder{{URI: uri.File(root), Name: filepath.Base(root)}})
	res, err := c.server.Initialize(ctx, params)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if res.ServerInfo.Name != "waymark" {
		t.Fatalf("initialize: server says it is %q", res.ServerInfo.Name)
	}
	if err := c.server.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatalf("initialized: %v", err)
	}
	return c
}

func (c *client) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}

// stop ends the session the way an editor does, and checks that the server
// exits cleanly.
func (c *client) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.server.Shutdown(ctx); err != nil {
		c.t.Errorf("shutdown: %v", err)
	}
	c.server.Exit(ctx)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			c.t.Errorf("waymark lsp exited with %v; stderr:\n%s", err, c.stderr)
		}
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		c.t.Errorf("waymark lsp did not exit after exit; stderr:\n%s", c.stderr)
	}
	c.conn.Close()
}

func (c *client) uri(path string) uri.URI {
	return uri.File(filepath.Join(c.root, filepath.FromSlash(path)))
}

// open opens a file with the given text and waits for its diagnostics.
func (c *client) open(path, text string) {
	c.t.Helper()
	u := c.uri(path)
	c.mu.Lock()
	c.versions[u] = 1
	c.texts[u] = text
	c.mu.Unlock()
	err := c.server.DidOpen(c.ctx(), &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: u, LanguageID: "waymark", Version: 1, Text: text,
	}})
	if err != nil {
		c.t.Fatalf("didOpen %s: %v", path, err)
	}
}

// replace sends an incremental change that replaces text[start:end] (byte
// offsets) with repl, as an editor sends a keystroke.
func (c *client) replace(path string, start, end int, repl string) {
	c.t.Helper()
	u := c.uri(path)
	c.mu.Lock()
	text := c.texts[u]
	c.versions[u]++
	version := c.versions[u]
	c.texts[u] = text[:start] + repl + text[end:]
	c.mu.Unlock()
	err := c.server.DidChange(c.ctx(), &protocol.DidChangeTextDocumentParams{
		TextDocument: protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{
			Range: protocol.Range{Start: lspPosition(text, start), End: lspPosition(text, end)},
			Text:  repl,
		}},
	})
	if err != nil {
		c.t.Fatalf("didChange %s: %v", path, err)
	}
}

func (c *client) text(path string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.texts[c.uri(path)]
}

func (c *client) save(path string) {
	c.t.Helper()
	if err := c.server.DidSave(c.ctx(), &protocol.DidSaveTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(path)}}); err != nil {
		c.t.Fatalf("didSave %s: %v", path, err)
	}
}

// settle waits until the server has published diagnostics for the latest
// version of every open file. The server sends an open file's diagnostics
// last in each check, so by then every file the check touched is published.
func (c *client) settle() {
	c.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		pending := ""
		for u, v := range c.versions {
			d := c.diags[u]
			if got, ok := versionOf(d); !ok || got != v {
				pending = string(u)
			}
		}
		arrived := c.arrived
		c.mu.Unlock()
		if pending == "" {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			c.t.Fatalf("no diagnostics for the latest version of %s; stderr:\n%s", pending, c.stderr)
		}
	}
}

// waitFor waits until the diagnostics of a file satisfy ok.
func (c *client) waitFor(path string, ok func([]protocol.Diagnostic) bool) []protocol.Diagnostic {
	c.t.Helper()
	u := c.uri(path)
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		var diags []protocol.Diagnostic
		if d := c.diags[u]; d != nil {
			diags = d.Diagnostics
		}
		arrived := c.arrived
		c.mu.Unlock()
		if ok(diags) {
			return diags
		}
		select {
		case <-arrived:
		case <-deadline:
			c.t.Fatalf("diagnostics of %s never became what the test waits for; last: %v", path, diags)
		}
	}
}

func versionOf(d *protocol.PublishDiagnosticsParams) (int32, bool) {
	if d == nil {
		return 0, false
	}
	return d.Version.Get()
}

// published returns the latest diagnostics of every file that has some.
func (c *client) published() map[uri.URI][]protocol.Diagnostic {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[uri.URI][]protocol.Diagnostic{}
	for u, d := range c.diags {
		if len(d.Diagnostics) > 0 {
			out[u] = d.Diagnostics
		}
	}
	return out
}

// clientHandler receives what the server sends to the client.
type clientHandler struct {
	protocol.UnimplementedClient
	c *client
}

func (h *clientHandler) PublishDiagnostics(ctx context.Context, p *protocol.PublishDiagnosticsParams) error {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	h.c.diags[p.URI] = p
	close(h.c.arrived)
	h.c.arrived = make(chan struct{})
	return nil
}

func (h *clientHandler) LogMessage(ctx context.Context, p *protocol.LogMessageParams) error {
	return nil
}

// testCodec encodes payloads with the protocol package's union-aware codec,
// as the server does: LSP unions (a completion result is a list or an
// array...) need it.
type testCodec struct{}

func (testCodec) Marshal(v any) ([]byte, error) {
	if m, ok := v.(jsonrpc2.RawMessage); ok {
		return m, nil
	}
	return protocol.Marshal(v)
}

func (testCodec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

type pipes struct {
	io.ReadCloser
	io.WriteCloser
}

func (p pipes) Close() error {
	p.WriteCloser.Close()
	return p.ReadCloser.Close()
}

// lspPosition converts a byte offset in text to an LSP position, counting
// UTF-16 code units. It is written apart from the server's own conversion,
// so that the tests check it.
func lspPosition(text string, off int) protocol.Position {
	line := strings.Count(text[:off], "\n")
	start := strings.LastIndex(text[:off], "\n") + 1
	units := 0
	for _, r := range text[start:off] {
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return protocol.Position{Line: uint32(line), Character: uint32(units)}
}

// byteOffset converts an LSP position in text back to a byte offset.
func byteOffset(text string, p protocol.Position) int {
	off := 0
	for i := uint32(0); i < p.Line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return len(text)
		}
		off += j + 1
	}
	units := uint32(0)
	for i, r := range text[off:] {
		if units >= p.Character || r == '\n' {
			return off + i
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return len(text)
}
