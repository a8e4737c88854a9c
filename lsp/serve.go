package lsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// This file is the thin adapter between the wire and the server: JSON-RPC
// over stdio with Content-Length framing (go.lsp.dev/jsonrpc2), LSP types and
// their union-aware codec (go.lsp.dev/protocol), and the dispatch of each
// method to a method of *server.
//
// Dispatch is in wire order. protocol.NewServer would run every handler
// asynchronously, so a completion could overtake the didChange typed just
// before it; here notifications run on the read goroutine, one after the
// other, and a request captures the document it is about before it calls
// jsonrpc2.Async to let later messages through while it computes.

// Options adjusts a server. The zero value is what `waymark lsp` runs.
type Options struct {
	// Debounce is how long the server waits after a change before it
	// re-checks the workspace, so that a burst of keystrokes costs one check.
	// Zero means 50ms.
	Debounce time.Duration
	// Log receives the server's own problems; nil discards them. Editors show
	// a language server's stderr in their logs.
	Log *slog.Logger
	// Server and AdminToken name a running `waymark run` whose customers
	// the editor shows (code lenses, occupied-stage warnings; see
	// production.go); the client's initialization options {"server",
	// "adminToken"} take precedence. Empty: off.
	Server, AdminToken string
}

// Serve runs a language server on in and out until the client sends exit or
// closes the stream. It returns nil after a shutdown request was followed by
// exit, and an error otherwise, as the specification asks (the process exit
// code is then 1).
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	conn := jsonrpc2.NewConn(jsonrpc2.NewHeaderStream(stdio{in, out}), jsonrpc2.WithCodec(codec{}))
	s := newServer(protocol.ClientDispatcher(conn), opts)
	defer s.stop()
	conn.Go(ctx, cancellable(coded(protocol.ServerHandler(s, jsonrpc2.MethodNotFoundHandler), opts.Log)))

	select {
	case <-s.exited:
		// Close waits for in-flight handlers, the exit handler among them, so
		// it runs here and not in that handler.
		conn.Close()
	case <-conn.Done():
	case <-ctx.Done():
		conn.Close()
	}
	if !s.wasShutdown() {
		return errors.New("the client ended the session without a shutdown request")
	}
	return nil
}

// cancellable handles $/cancelRequest: a request's context is cancelled
// when the client cancels it. (jsonrpc2.CancelHandler derives a context from
// the pooled request context, and the goroutine context.WithCancel starts
// for a foreign parent can outlive the request and find it recycled; here
// cancellation comes from a context of our own, and only values, read while
// the handler runs, come from the request's.)
func cancellable(h jsonrpc2.Handler) jsonrpc2.Handler {
	var mu sync.Mutex
	running := map[jsonrpc2.ID]context.CancelFunc{}
	return func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method() == protocol.MethodCancelRequest {
			var p protocol.CancelParams
			if err := protocol.Unmarshal(req.Params(), &p); err != nil {
				return nil, nil // a notification: nothing to answer
			}
			var id jsonrpc2.ID
			switch v := p.ID.(type) {
			case protocol.Integer:
				id = jsonrpc2.NewNumberID(int64(v))
			case protocol.String:
				id = jsonrpc2.NewStringID(string(v))
			}
			mu.Lock()
			cancel := running[id]
			mu.Unlock()
			if cancel != nil {
				cancel()
			}
			return nil, nil
		}
		if !req.IsCall() {
			return h(ctx, req)
		}
		id := req.ID()
		own, cancel := context.WithCancel(context.Background())
		mu.Lock()
		running[id] = cancel
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(running, id)
			mu.Unlock()
			cancel()
		}()
		return h(requestContext{own, ctx}, req)
	}
}

// requestContext is cancelled by its own context and carries the values of
// the request's (the token jsonrpc2.Async reads).
type requestContext struct {
	context.Context
	req context.Context
}

func (c requestContext) Value(key any) any {
	if v := c.req.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// coded gives every error a JSON-RPC code: a handler's own *jsonrpc2.Error
// keeps its code, anything else is an internal error, so no response goes out
// with code 0. A handler that panics fails its request, not the session.
func coded(h jsonrpc2.Handler, log *slog.Logger) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (res any, err error) {
		method := strings.Clone(req.Method()) // borrowed from the frame, which Async lets the reader reuse
		defer func() {
			if r := recover(); r != nil {
				log.Error("handler panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
				res, err = nil, jsonrpc2.NewError(jsonrpc2.InternalError, fmt.Sprintf("%s failed: %v", method, r))
			}
		}()
		res, err = h(ctx, req)
		if err == nil {
			return res, nil
		}
		var wire *jsonrpc2.Error
		if errors.As(err, &wire) {
			return res, err
		}
		return res, jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
}

// requestFailed is the error a request returns when it is understood but
// cannot be done, such as a rename to a name that is taken.
func requestFailed(format string, args ...any) error {
	return jsonrpc2.NewError(jsonrpc2.Code(protocol.LSPErrorCodesRequestFailed), fmt.Sprintf(format, args...))
}

// codec encodes payloads with the protocol package's union-aware
// Marshal and Unmarshal; raw messages pass through as they are, as the
// jsonrpc2.Codec contract asks. (The protocol package has the same codec,
// unexported, behind protocol.NewServer.)
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case *jsonrpc2.RawMessage:
		if m == nil || *m == nil {
			return []byte("null"), nil
		}
		return *m, nil
	}
	return protocol.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

// stdio joins a reader and a writer into the io.ReadWriteCloser a stream
// needs. Closing closes whichever of them can be closed.
type stdio struct {
	io.Reader
	io.Writer
}

func (s stdio) Close() error {
	var errs []error
	if c, ok := s.Reader.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	if c, ok := s.Writer.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
