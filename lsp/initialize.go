package lsp

import (
	"context"
	"encoding/json"
	"path/filepath"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Version is what the server reports as its version in initialize.
var Version = "dev"

// Initialize records the workspace roots and what the client supports, and
// says what the server does. The roots are loaded in Initialized, once the
// client may receive diagnostics.
func (s *server) Initialize(ctx context.Context, p *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	var roots []string
	if folders, ok := p.WorkspaceFolders.Get(); ok {
		for _, f := range folders {
			if f.URI.Scheme() == "file" {
				roots = append(roots, filepath.Clean(f.URI.FsPath()))
			}
		}
	}
	if len(roots) == 0 && p.RootURI != nil && p.RootURI.Scheme() == "file" {
		roots = append(roots, filepath.Clean(p.RootURI.FsPath()))
	}
	if path, ok := p.RootPath.Get(); len(roots) == 0 && ok && path != "" {
		roots = append(roots, filepath.Clean(path))
	}

	server, token := s.opts.Server, s.opts.AdminToken
	var init struct {
		Server     string `json:"server"`
		AdminToken string `json:"adminToken"`
	}
	if len(p.InitializationOptions) > 0 && json.Unmarshal(p.InitializationOptions, &init) == nil && init.Server != "" {
		server, token = init.Server, init.AdminToken
	}
	prod := newProduction(server, token, func(msg string, args ...any) { s.opts.Log.Warn(msg, args...) })

	s.mu.Lock()
	s.roots = roots
	s.caps = readCaps(&p.Capabilities)
	s.prod = prod
	s.mu.Unlock()

	caps := capabilities()
	if prod != nil {
		caps.CodeLensProvider = &protocol.CodeLensOptions{}
	}
	return &protocol.InitializeResult{
		Capabilities: caps,
		ServerInfo:   protocol.ServerInfo{Name: "waymark", Version: protocol.NewOptional(Version)},
	}, nil
}

func readCaps(c *protocol.ClientCapabilities) clientCaps {
	var caps clientCaps
	if td := c.TextDocument; td != nil {
		if comp := td.Completion; comp != nil && comp.CompletionItem != nil {
			caps.snippets = isTrue(comp.CompletionItem.SnippetSupport)
			for _, k := range comp.CompletionItem.DocumentationFormat {
				caps.markdown = caps.markdown || k == protocol.MarkupKindMarkdown
			}
		}
		if h := td.Hover; h != nil {
			for _, k := range h.ContentFormat {
				caps.markdown = caps.markdown || k == protocol.MarkupKindMarkdown
			}
		}
		if r := td.Rename; r != nil {
			caps.prepareRename = isTrue(r.PrepareSupport)
		}
		if ds := td.DocumentSymbol; ds != nil {
			caps.hierarchicalSym = isTrue(ds.HierarchicalDocumentSymbolSupport)
		}
	}
	if ws := c.Workspace; ws != nil && ws.DidChangeWatchedFiles != nil {
		caps.watchedFiles = isTrue(ws.DidChangeWatchedFiles.DynamicRegistration)
	}
	return caps
}

func isTrue(b *bool) bool { return b != nil && *b }

func ptr[T any](v T) *T { return &v }

// capabilities is what the server offers. Positions are UTF-16, the one
// encoding every client supports.
func capabilities() protocol.ServerCapabilities {
	return protocol.ServerCapabilities{
		PositionEncoding: protocol.PositionEncodingKindUTF16,
		TextDocumentSync: &protocol.TextDocumentSyncOptions{
			OpenClose: ptr(true),
			Change:    ptr(protocol.TextDocumentSyncKindIncremental),
			Save:      &protocol.SaveOptions{IncludeText: ptr(false)},
		},
		CompletionProvider: &protocol.CompletionOptions{
			// "." for stage., event.; '"' for event labels; "=" and " " are
			// not triggers: editors complete on identifiers by themselves.
			TriggerCharacters: []string{".", "\""},
		},
		HoverProvider:              protocol.Boolean(true),
		DefinitionProvider:         protocol.Boolean(true),
		ReferencesProvider:         protocol.Boolean(true),
		RenameProvider:             &protocol.RenameOptions{PrepareProvider: ptr(true)},
		DocumentSymbolProvider:     protocol.Boolean(true),
		WorkspaceSymbolProvider:    protocol.Boolean(true),
		DocumentFormattingProvider: protocol.Boolean(true),
		CodeActionProvider: &protocol.CodeActionOptions{
			CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix},
		},
		SemanticTokensProvider: &protocol.SemanticTokensOptions{
			Legend: protocol.SemanticTokensLegend{TokenTypes: tokenTypes, TokenModifiers: tokenModifiers},
			Full:   protocol.Boolean(true),
		},
	}
}

// Initialized loads every root's files and checks them; their diagnostics
// follow as soon as the check ends. Without a root, a workspace is made for
// the directory of the first file the client opens.
func (s *server) Initialized(ctx context.Context, p *protocol.InitializedParams) error {
	s.mu.Lock()
	roots := s.roots
	watch := s.caps.watchedFiles
	s.mu.Unlock()
	for _, root := range roots {
		s.mu.Lock()
		known := false
		for _, w := range s.workspaces {
			known = known || w.root == root
		}
		var w *workspace
		if !known {
			w = newWorkspace(s, root)
			s.workspaces = append(s.workspaces, w)
		}
		s.mu.Unlock()
		if w != nil {
			w.load()
		}
	}
	if watch && len(roots) > 0 {
		// A request to the client: it must not wait on the read goroutine
		// that would read its answer.
		go s.registerWatchers()
	}
	return nil
}

// Shutdown stops the checkers; the session ends with exit.
func (s *server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	s.stop()
	return nil
}

// Exit ends the session. Serve closes the connection once this handler has
// returned.
func (s *server) Exit(ctx context.Context) error {
	s.exitOnce.Do(func() { close(s.exited) })
	return nil
}

// fileURI is the URI of a file the client has not named itself.
func fileURI(path string) uri.URI { return uri.File(path) }
