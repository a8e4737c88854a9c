package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
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
	}
	return line["fields"].(map[string]any), buf.String()
}

func TestLogChannelSMTPSend(t *testing.T) {
	body := "Hello Li,\nyour one-time link: https://example.com/login?t=SECRETLINK\n"
	fields, raw := logLine(t, "smtp", map[string]any{
		"to": "li@example.com", "subject": "Welcome", "body": body, "html": "<p>" + body + "</p>", "reply_to": "care@example.com",
	})
	want := map[string]any{
		"to": "li@example.com", "subject": "Welcome", "reply_to": "care@example.com",
		"body_bytes": float64(len(body)), "html_bytes": float64(len(body) + 7),
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	if strings.Contains(raw, "SECRETLINK") {
		t.Errorf("the body is in the log line: %s", raw)
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
