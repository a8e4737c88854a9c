package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// apiError is an admin API answer other than 200: its status and the
// API's own message, which the page shows as it is.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Msg) }

// call runs one admin API request in process, through the API's own
// handler (so the console reads exactly what GET /v1/... answers, with
// the same checks and the same queries), and decodes a 200's body into v.
func (c *Console) call(ctx context.Context, method, path string, body any, v any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequestWithContext(ctx, method, path, rd)
	if c.opts.AdminToken != "" {
		r.Header.Set("Authorization", "Bearer "+c.opts.AdminToken)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(rec.Body.Bytes(), &e)
		if e.Error == "" {
			e.Error = http.StatusText(rec.Code)
		}
		return &apiError{Status: rec.Code, Msg: e.Error}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		return fmt.Errorf("reading %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Console) get(ctx context.Context, path string, v any) error {
	return c.call(ctx, http.MethodGet, path, nil, v)
}

func esc(s string) string { return url.PathEscape(s) }
