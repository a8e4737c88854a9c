package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

func logLine(t *testing.T, typ string, fields map[string]any) (map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	c := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)), "ch", typ)
	s := testSend("c-1/onboarding/1/1/welcome", "ch")
	s.ChannelType = typ
	s.Fields = fields
	if err := c.Deliver(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines: %s", n, buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"msg": "send", "level": "INFO", "key": "c-1/onboarding/1/1/welcome", "journey": "onboarding",
		"instance": "c-1/onboarding/1", "stage": "welcome", "name": "welcome_email", "channel": "ch", "type": typ,
	} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
		delete(line, k)
	}
	// What a person reads first comes first: the channel, then the message.
	if !strings.HasPrefix(buf.String()[strings.Index(buf.String(), `"msg":"send"`):], `"msg":"send","channel":"ch","type":"`+typ+`"`) {
		t.Errorf("the line does not start with the channel: %s", buf.String())
	}
	delete(line, "time")
	return line, buf.String()
}

func TestLogChannelSMTPSend(t *testing.T) {
	body := "Hello Li,\nyour one-time link: https://example.com/login?t=SECRETLINK#x and more\n"
	fields, raw := logLine(t, "smtp", map[string]any{
		"to": "li@example.com", "subject": "Welcome", "body": body, "html": "<p>" + body + "</p>", "reply_to": "care@example.com",
	})
	want := map[string]any{
		"to": "li@example.com", "subject": "Welcome", "reply_to": "care@example.com",
		"preview":    "Hello Li, your one-time link: https://example.com/login?… and more",
		"body_bytes": float64(len(body)), "html_bytes": float64(len(body) + 7),
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	if strings.Contains(raw, "SECRETLINK") {
		t.Errorf("a link's token is in the log line: %s", raw)
	}
	// An html-only message is previewed from its html.
	fields, _ = logLine(t, "smtp", map[string]any{"to": "li@example.com", "subject": "Hi", "html": "<b>Bold</b> move"})
	if fields["preview"] != "Bold move" || fields["body_bytes"] != float64(0) {
		t.Errorf("html-only fields %v", fields)
	}
}

func TestLogChannelTwilioSend(t *testing.T) {
	body := "Your code expires soon:\nhttps://x.example/a?t=TOKEN"
	fields, _ := logLine(t, "twilio", map[string]any{"to": "+33612345678", "body": body})
	want := map[string]any{"to": "+33612345678", "preview": "Your code expires soon: https://x.example/a?…", "body_bytes": float64(len(body))}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}

func TestPreview(t *testing.T) {
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"plain text, blanks collapsed", "Hi Li,\n\n  welcome\taboard.\n", "Hi Li, welcome aboard."},
		{"html: tags, head and style dropped, entities decoded", "<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body><p>Hi&nbsp;Li &amp; co,</p><script>x()</script><p>welcome</p></body></html>", "Hi Li & co, welcome"},
		{"links lose their query", "Go to https://example.com/a/b?token=abc&x=1 now", "Go to https://example.com/a/b?… now"},
		{"links lose their fragment", "See http://example.com/#secret", "See http://example.com/?…"},
		{"a link without a query stays", "See https://example.com/help.", "See https://example.com/help."},
		{"long text cut at 80 characters", long, strings.TrimSpace(long[:79]) + "…"},
		{"multibyte text cut by characters", strings.Repeat("é", 100), strings.Repeat("é", 79) + "…"},
		{"not a string", 42, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Preview(tt.in)
			if got != tt.want {
				t.Errorf("Preview(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > PreviewRunes {
				t.Errorf("%d characters, over %d", n, PreviewRunes)
			}
		})
	}
}

// Every send that does not go out now gets a line saying why, held ones
// with the time they are due again; delivered ones get none (the channel
// writes theirs).
func TestLogUndelivered(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	due := time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC)
	mk := func(name, fate, reason string, dueAt time.Time) engine.Send {
		s := testSend("c-1/onboarding/1/1/"+name, "email")
		s.Name, s.Fate, s.Reason, s.DueAt = name, fate, reason, dueAt
		return s
	}
	b := &store.Batch{Customers: []store.CustomerWrite{{Results: []engine.Result{{Sends: []engine.Send{
		mk("guide", engine.FateHeld, "quiet hours 21:00-08:00 in Europe/Paris", due),
		mk("ok", engine.FateDeliver, "", time.Time{}),
		mk("promo", engine.FateSuppressed, "the customer is in journey support_case", time.Time{}),
		mk("third", engine.FateCapped, "3 per 7d", time.Time{}),
	}}}}}}
	LogUndelivered(context.Background(), logger, b)
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, m)
	}
	want := []struct{ msg, name, reason, until string }{
		{"send held", "guide", "quiet hours 21:00-08:00 in Europe/Paris", "2026-03-03T07:00:00Z"},
		{"send suppressed", "promo", "the customer is in journey support_case", ""},
		{"send capped", "third", "3 per 7d", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, w := range want {
		until, _ := got[i]["until"].(string)
		if got[i]["msg"] != w.msg || got[i]["name"] != w.name || got[i]["reason"] != w.reason || until != w.until || got[i]["channel"] != "email" {
			t.Errorf("line %d = %v, want %+v", i, got[i], w)
		}
	}
}

func TestLogChannelDataSends(t *testing.T) {
	data := map[string]any{"customer": "c-1", "amount": float64(12.5), "tags": []any{"x"}}
	fields, _ := logLine(t, "log", map[string]any{"data": data})
	if !reflect.DeepEqual(fields, map[string]any{"data": data}) {
		t.Errorf("log fields %v", fields)
	}
	fields, _ = logLine(t, "webhook", map[string]any{"data": data, "headers": map[string]any{"X-Tenant": "acme"}})
	if !reflect.DeepEqual(fields, map[string]any{"data": data, "headers": map[string]any{"X-Tenant": "acme"}}) {
		t.Errorf("webhook fields %v", fields)
	}
}
