package lsp

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/lang"
)

// server holds the session: what the client can do, and one workspace per
// root folder. Each LSP method is a method of *server, in a file of its own.
type server struct {
	protocol.UnimplementedServer

	client protocol.Client
	opts   Options
	ctx    context.Context // lives as long as the session; cancels the checkers
	cancel context.CancelFunc
	exited chan struct{}

	mu         sync.Mutex
	caps       clientCaps
	roots      []string // from initialize, before initialized loads them
	workspaces []*workspace
	shutdown   bool
	exitOnce   sync.Once
	prod       *production // the running server to show, nil when none is configured
}

// clientCaps is what the server reads from the client's capabilities.
type clientCaps struct {
	snippets        bool // completion items may be snippets
	markdown        bool // documentation may be markdown
	watchedFiles    bool // the client registers file watchers on request
	prepareRename   bool
	hierarchicalSym bool // document symbols may nest
}

func newServer(client protocol.Client, opts Options) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{client: client, opts: opts, ctx: ctx, cancel: cancel, exited: make(chan struct{})}
}

// stop ends the workspaces' checkers.
func (s *server) stop() { s.cancel() }

func (s *server) wasShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// workspaceFor returns the workspace a file belongs to: the one with the
// longest root that contains it. A file outside every root gets a workspace
// of its own directory, as `waymark validate FILE` would check it. create
// false returns nil instead.
func (s *server) workspaceFor(path string, create bool) *workspace {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *workspace
	for _, w := range s.workspaces {
		if within(w.root, path) && (best == nil || len(w.root) > len(best.root)) {
			best = w
		}
	}
	if best != nil || !create {
		return best
	}
	w := newWorkspace(s, filepath.Dir(path))
	s.workspaces = append(s.workspaces, w)
	w.load()
	return w
}

// within tells whether path is root or under it.
func within(root, path string) bool {
	if path == root {
		return true
	}
	return strings.HasPrefix(path, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// fileOf turns a document URI into an absolute path, or "" for a URI that
// does not name a workspace file (another scheme, another kind of file).
func fileOf(u uri.URI) string {
	if u.Scheme() != "file" {
		return ""
	}
	p := filepath.Clean(u.FsPath())
	if _, ok := lang.KindOf(p); !ok {
		return ""
	}
	return p
}

// docAt returns the workspace and the current document for a URI, or nils
// when the server does not know the file.
func (s *server) docAt(u uri.URI) (*workspace, *document) {
	path := fileOf(u)
	if path == "" {
		return nil, nil
	}
	w := s.workspaceFor(path, false)
	if w == nil {
		return nil, nil
	}
	return w, w.doc(w.rel(path))
}

// snapshotFor returns the document a request is about and a snapshot that
// includes every change the client made before the request. It captures the
// request's place in the stream of changes, then lets the next messages in
// (jsonrpc2.Async) while it waits for the check. A nil document means the
// server does not know the file.
func (s *server) snapshotFor(ctx context.Context, u uri.URI) (*document, *snapshot, error) {
	w, doc := s.docAt(u)
	if doc == nil {
		return nil, nil, nil
	}
	gen := w.generation()
	jsonrpc2.Async(ctx)
	snap := w.await(ctx, gen)
	if snap == nil {
		return nil, nil, ctx.Err()
	}
	cur := snap.docs[doc.path]
	if cur == nil {
		return nil, nil, nil
	}
	if cur != doc && !bytes.Equal(cur.src, doc.src) {
		// The client changed the file again while the request waited: the
		// position it sent is for text that is gone.
		return nil, nil, jsonrpc2.NewError(jsonrpc2.Code(protocol.LSPErrorCodesContentModified), "the document changed")
	}
	return cur, snap, nil
}

// hclPos is an hcl.Pos for a byte offset in a document, as the compiler's
// index compares positions: by byte.
func hclPos(off int) hcl.Pos { return hcl.Pos{Byte: off} }
