package lsp

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/uri"

	"github.com/waymark-dev/waymark/lang"
)

// document is one version of one workspace file: an open buffer or the file
// as it is on disk. It never changes; an edit makes a new document. What is
// derived from its text (lines, parse) is computed once, on first use, by
// whichever of the checker and a request needs it first.
type document struct {
	path    string  // relative to the workspace root, slash-separated: the model's Filename
	uri     uri.URI // as the client names it when open
	version int32
	open    bool
	src     []byte

	linesOnce sync.Once
	lines     *lineIndex

	parseOnce  sync.Once
	parsed     *lang.Workspace // this file alone, parsed: partial when it has syntax errors
	parseDiags hcl.Diagnostics
	root       string

	stubOnce [stubSizes]sync.Once
	stubbed  [stubSizes]*lang.Workspace
}

func (d *document) lineIndex() *lineIndex {
	d.linesOnce.Do(func() { d.lines = newLineIndex(d.src) })
	return d.lines
}

// parse returns the file's model on its own, as lang.Parse reads it.
func (d *document) parse() (*lang.Workspace, hcl.Diagnostics) {
	d.parseOnce.Do(func() {
		d.parsed, d.parseDiags = lang.Parse(d.root, []lang.SourceFile{{Path: d.path, Src: d.src}})
	})
	return d.parsed, d.parseDiags
}

// file returns the parsed file of the document.
func (d *document) file() *lang.File {
	ws, _ := d.parse()
	return ws.Files[0]
}

func (d *document) kind() lang.FileKind {
	k, _ := lang.KindOf(d.path)
	return k
}

// workspace is one root folder: its files (open buffers over the files on
// disk), and the checker that turns them into snapshots. Every change bumps
// gen; the checker runs a debounce after the last change, or at once when a
// request needs a snapshot of the latest text.
type workspace struct {
	s    *server
	root string // absolute and clean

	mu        sync.Mutex
	docs      map[string]*document // copied on write: a captured map never changes
	gen       uint64               // bumped by every change to docs
	timer     *time.Timer
	snap      *snapshot     // the latest check; nil before the first
	ready     chan struct{} // closed when snap is replaced
	published map[string]string

	kick chan struct{}
}

func newWorkspace(s *server, root string) *workspace {
	w := &workspace{
		s:         s,
		root:      root,
		docs:      map[string]*document{},
		ready:     make(chan struct{}),
		published: map[string]string{},
		kick:      make(chan struct{}, 1),
	}
	w.timer = time.AfterFunc(time.Hour, w.trigger)
	w.timer.Stop()
	go w.checker(s.ctx)
	return w
}

// load reads the workspace's files from disk, keeping any buffer the client
// already opened, and checks them at once.
func (w *workspace) load() {
	paths, err := lang.FindFiles(w.root)
	if err != nil {
		w.s.opts.Log.Warn("reading workspace", "root", w.root, "err", err)
	}
	w.mu.Lock()
	docs := w.copyDocs()
	for _, p := range paths {
		if docs[p] != nil {
			continue
		}
		src, err := lang.ReadFile(w.root, p)
		if err != nil {
			w.s.opts.Log.Warn("not loading a workspace file", "root", w.root, "err", err)
			continue
		}
		docs[p] = w.newDoc(p, src)
	}
	w.docs = docs
	w.gen++
	w.mu.Unlock()
	w.trigger()
}

func (w *workspace) newDoc(path string, src []byte) *document {
	return &document{path: path, src: src, root: w.root, uri: fileURI(filepath.Join(w.root, filepath.FromSlash(path)))}
}

func (w *workspace) copyDocs() map[string]*document {
	docs := make(map[string]*document, len(w.docs)+1)
	for k, v := range w.docs {
		docs[k] = v
	}
	return docs
}

// rel turns an absolute path under the root into the model's file name.
func (w *workspace) rel(path string) string {
	r, err := filepath.Rel(w.root, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}

// doc returns the current document at a relative path, or nil.
func (w *workspace) doc(path string) *document {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.docs[path]
}

// set replaces (or, with nil, removes) the document at path and schedules a
// check after the debounce.
func (w *workspace) set(path string, d *document) {
	w.mu.Lock()
	docs := w.copyDocs()
	if d == nil {
		delete(docs, path)
	} else {
		docs[path] = d
	}
	w.docs = docs
	w.gen++
	w.timer.Reset(w.s.opts.Debounce)
	w.mu.Unlock()
}

// trigger asks the checker to run now.
func (w *workspace) trigger() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// latest returns the latest snapshot without waiting for pending changes,
// after the first check. Completion uses it: the names it offers from other
// files may be a debounce old, but it never waits for a check.
func (w *workspace) latest(ctx context.Context) *snapshot {
	w.mu.Lock()
	snap, ready := w.snap, w.ready
	w.mu.Unlock()
	if snap != nil {
		return snap
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	return w.latest(ctx)
}

// generation returns the number of changes made so far.
func (w *workspace) generation() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen
}

// await returns a snapshot that includes change number gen, checking at once,
// without the debounce, if it is pending. Requests that read the compiler's
// index (definition, references, rename, hover) use it so that its positions
// match the text the client has.
func (w *workspace) await(ctx context.Context, gen uint64) *snapshot {
	for {
		w.mu.Lock()
		snap, ready := w.snap, w.ready
		w.mu.Unlock()
		if snap != nil && snap.gen >= gen {
			return snap
		}
		w.trigger()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil
		}
	}
}

// checker runs checks, one at a time, whenever it is kicked.
func (w *workspace) checker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		w.checkOnce(ctx)
	}
}

func (w *workspace) checkOnce(ctx context.Context) {
	w.mu.Lock()
	w.timer.Stop()
	docs, gen, prev := w.docs, w.gen, w.snap
	w.mu.Unlock()
	if prev != nil && prev.gen == gen {
		return
	}
	next := analyze(w.root, prev, docs, gen, w.s.opts.Log)
	w.mu.Lock()
	w.snap = next
	close(w.ready)
	w.ready = make(chan struct{})
	w.mu.Unlock()
	w.publish(ctx, prev, next)
	// Build what completion reads now rather than in the first request
	// after the check.
	next.Decls()
}

// sortedPaths lists a document map's paths in order.
func sortedPaths(docs map[string]*document) []string {
	paths := make([]string, 0, len(docs))
	for p := range docs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}
