package deliver

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
)

func compose(t *testing.T, fields map[string]any, key string) *message {
	t.Helper()
	from, err := mail.ParseAddress("Orbit Care <care@orbitmobile.example>")
	if err != nil {
		t.Fatal(err)
	}
	s := emailSend(key)
	s.Fields = fields
	m, err := composeMessage(from, s, t0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Nothing in a send's fields can add a header: line breaks in a subject
// become spaces, and a key with one is encoded.
func TestMessageHeaderInjection(t *testing.T) {
	m := compose(t, map[string]any{
		"to":      "li@example.com",
		"subject": "Hello\r\nBcc: victim@example.com\n",
		"body":    "hi",
	}, "c-1/x/1/1/welcome\r\nBcc: other@example.com")
	msg := parseMail(t, m.data)
	if msg.Header.Get("Bcc") != "" {
		t.Fatalf("a Bcc header was injected:\n%s", m.data)
	}
	if got := msg.Header.Get("Subject"); got != "Hello Bcc: victim@example.com" {
		t.Errorf("Subject %q", got)
	}
	key, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("X-Waymark-Key"))
	if err != nil || key != "c-1/x/1/1/welcome\r\nBcc: other@example.com" {
		t.Errorf("X-Waymark-Key %q decodes to %q (%v)", msg.Header.Get("X-Waymark-Key"), key, err)
	}
	if len(m.to) != 1 || m.to[0] != "li@example.com" {
		t.Errorf("envelope to %v", m.to)
	}
}

func TestMessageLongSubjectFolds(t *testing.T) {
	subject := strings.Repeat("Schöne Grüße aus der Werkstatt ", 12)
	m := compose(t, map[string]any{"to": "li@example.com", "subject": subject, "body": "hi"}, "k")
	for _, line := range bytes.Split(m.data, []byte("\r\n")) {
		if len(line) > 76 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
		if len(line) == 0 {
			break // end of the header
		}
	}
	msg := parseMail(t, m.data)
	got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || got != strings.TrimSpace(subject) {
		t.Errorf("Subject decodes to %q (%v)", got, err)
	}
	plain := strings.Repeat("word ", 40)
	m = compose(t, map[string]any{"to": "li@example.com", "subject": plain, "body": "hi"}, "k")
	if got := parseMail(t, m.data).Header.Get("Subject"); got != strings.TrimSpace(plain) {
		t.Errorf("plain Subject unfolds to %q", got)
	}
}

func TestMessageRecipients(t *testing.T) {
	m := compose(t, map[string]any{
		"to":      []any{"Li Wei <li@example.com>", "ops@example.com, Ana <ana@example.com>"},
		"subject": "s", "body": "b",
	}, "k")
	if want := []string{"li@example.com", "ops@example.com", "ana@example.com"}; strings.Join(m.to, " ") != strings.Join(want, " ") {
		t.Errorf("envelope to %v, want %v", m.to, want)
	}
	to, err := parseMail(t, m.data).Header.AddressList("To")
	if err != nil || len(to) != 3 || to[0].Name != "Li Wei" || to[2].Name != "Ana" {
		t.Errorf("To %v %v", to, err)
	}
	if m.from != "care@orbitmobile.example" {
		t.Errorf("envelope from %q", m.from)
	}
}

func TestMessageID(t *testing.T) {
	a := MessageID("c-1/j/1/1/welcome", "care@Orbit.Example")
	if a != MessageID("c-1/j/1/1/welcome", "care@orbit.example") || a == MessageID("c-1/j/1/2/welcome", "care@orbit.example") {
		t.Errorf("Message-ID not a function of the key alone: %s", a)
	}
	if _, err := mail.ParseAddress("x <" + strings.Trim(a, "<>") + ">"); err != nil || !strings.HasSuffix(a, "@orbit.example>") {
		t.Errorf("Message-ID %q is not an addr-spec at the sender's domain: %v", a, err)
	}
	if got := MessageID("k", "care@bücher.example"); !strings.HasSuffix(got, "@waymark.invalid>") {
		t.Errorf("non-ASCII domain: %s", got)
	}
}

// A send of a topic carries the one-click unsubscribe headers (RFC 8058);
// a transactional one none; a link that could bend the header is refused.
func TestMessageListUnsubscribe(t *testing.T) {
	from, _ := mail.ParseAddress("care@orbitmobile.example")
	fields := map[string]any{"to": "li@example.com", "subject": "Offer", "body": "hi"}
	tests := []struct {
		name, url string
		wantErr   bool
	}{
		{"topic", "https://waymark.example.com/u/v1.YzEAbWFya2V0aW5n.c2ln", false},
		{"transactional", "", false},
		{"header injection", "https://x.example/u/t>\r\nBcc: victim@example.com", true},
		{"not http", "mailto:unsub@example.com", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := emailSend("k")
			s.Fields, s.UnsubscribeURL = fields, tc.url
			m, err := composeMessage(from, s, t0)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("composed:\n%s", m.data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msg := parseMail(t, m.data)
			lu, lup := msg.Header.Get("List-Unsubscribe"), msg.Header.Get("List-Unsubscribe-Post")
			if tc.url == "" {
				if lu != "" || lup != "" {
					t.Errorf("a transactional mail has List-Unsubscribe %q %q", lu, lup)
				}
				return
			}
			if lu != "<"+tc.url+">" || lup != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe %q, List-Unsubscribe-Post %q", lu, lup)
			}
		})
	}
}
