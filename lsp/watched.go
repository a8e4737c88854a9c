package lsp

import (
	"context"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Files can change on disk without the editor: a checkout, a generator, a
// file created in a shell. A client that can watch files for the server is
// asked to report workspace files; DidChangeWatchedFiles applies what it
// reports. An open buffer wins over the disk until it is closed.

func (s *server) registerWatchers() {
	opts, err := protocol.Marshal(protocol.DidChangeWatchedFilesRegistrationOptions{Watchers: []protocol.FileSystemWatcher{
		{GlobPattern: protocol.Pattern("**/*.journey.hcl")},
		{GlobPattern: protocol.Pattern("**/*.journeytest.hcl")},
	}})
	if err != nil {
		s.opts.Log.Error("encoding watchers", "err", err)
		return
	}
	err = s.client.RegisterCapability(s.ctx, &protocol.RegistrationParams{Registrations: []protocol.Registration{{
		ID: "waymark-workspace-files", Method: protocol.MethodWorkspaceDidChangeWatchedFiles, RegisterOptions: opts,
	}}})
	if err != nil {
		s.opts.Log.Warn("registering file watchers", "err", err)
	}
}

// DidChangeWatchedFiles re-reads files changed on disk.
func (s *server) DidChangeWatchedFiles(ctx context.Context, p *protocol.DidChangeWatchedFilesParams) error {
	for _, c := range p.Changes {
		path := fileOf(c.URI)
		if path == "" {
			continue
		}
		w := s.workspaceFor(path, false)
		if w == nil {
			continue
		}
		rel := w.rel(path)
		if d := w.doc(rel); d != nil && d.open {
			continue
		}
		src, err := lang.ReadFile(w.root, rel)
		if err != nil || c.Type == protocol.FileChangeTypeDeleted {
			if w.doc(rel) != nil {
				w.set(rel, nil)
			}
			continue
		}
		w.set(rel, w.newDoc(rel, src))
	}
	return nil
}
