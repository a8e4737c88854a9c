package deliver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// HeaderKey is the mail header that carries the send's idempotency key, so
// that a receiving system (or a person reading raw headers) can recognise a
// redelivered message.
const HeaderKey = "X-Waymark-Key"

// message is one email ready for the SMTP conversation.
type message struct {
	from string   // MAIL FROM: the bare address
	to   []string // RCPT TO: bare addresses
	data []byte   // the whole RFC 5322 message, CRLF line endings
}

// composeMessage builds the email for an smtp send. Its errors are about the
// send's fields, which no retry will change: the caller marks them permanent.
//
// Headers: Date (this attempt), From, To, Reply-To, Subject (RFC 2047 when
// not plain ASCII), Message-ID (derived from the send key: the same on every
// attempt), X-Waymark-Key, MIME-Version, and for a send with an unsubscribe
// link (engine.Send.UnsubscribeURL: a send of a topic) List-Unsubscribe and
// List-Unsubscribe-Post (RFC 2369, RFC 8058 one-click). The body is text/plain, or
// multipart/alternative with a text/plain and a text/html part when html is
// set; every text part is UTF-8 in quoted-printable, so any body is 7-bit
// clean and no line is too long for SMTP.
func composeMessage(from *mail.Address, s engine.Send, now time.Time) (*message, error) {
	to, err := addressField(s.Fields, "to", true)
	if err != nil {
		return nil, err
	}
	replyTo, err := addressField(s.Fields, "reply_to", false)
	if err != nil {
		return nil, err
	}
	subject, err := textField(s.Fields, "subject", true)
	if err != nil {
		return nil, err
	}
	body, err := textField(s.Fields, "body", true)
	if err != nil {
		return nil, err
	}
	html, err := textField(s.Fields, "html", false)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "From", from.String())
	writeHeader(&b, "To", joinAddresses(to))
	if len(replyTo) > 0 {
		writeHeader(&b, "Reply-To", joinAddresses(replyTo))
	}
	writeHeader(&b, "Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	writeHeader(&b, "Message-ID", MessageID(s.Key, from.Address))
	// Q-encoding leaves a plain key as it is and encodes one with line
	// breaks or non-ASCII, so a key can never inject a header.
	writeHeader(&b, HeaderKey, mime.QEncoding.Encode("utf-8", s.Key))
	if u := s.UnsubscribeURL; u != "" {
		// The link is the runtime's own (public URL and a base64url
		// token); anything that could end or bend the header is refused.
		if strings.ContainsAny(u, " \t\r\n<>,\"") || !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, fmt.Errorf("unsubscribe link %q is not a plain http(s) URL", u)
		}
		writeHeader(&b, "List-Unsubscribe", "<"+u+">")
		writeHeader(&b, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	writeHeader(&b, "MIME-Version", "1.0")
	if html == "" {
		writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
		writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, body); err != nil {
			return nil, err
		}
	} else {
		var parts bytes.Buffer
		mw := multipart.NewWriter(&parts)
		writeHeader(&b, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		b.WriteString("\r\n")
		// Plain text first: a client shows the last alternative it can
		// render (RFC 2046 5.1.4), so HTML wins where it is understood.
		for _, p := range []struct{ typ, text string }{{"text/plain; charset=utf-8", body}, {"text/html; charset=utf-8", html}} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.typ},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(w, p.text); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		b.Write(parts.Bytes())
	}
	m := &message{from: from.Address, data: b.Bytes()}
	for _, a := range to {
		m.to = append(m.to, a.Address)
	}
	return m, nil
}

// MessageID returns the Message-ID of a send's email: a hash of the send key
// at the sender's domain. Every attempt of one send carries the same id, so
// mail systems that deduplicate by Message-ID drop a redelivery, and a
// person can match a message to its send.
func MessageID(key, fromAddress string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "waymark.invalid"
	if i := strings.LastIndexByte(fromAddress, '@'); i >= 0 && isASCIIDomain(fromAddress[i+1:]) {
		domain = strings.ToLower(fromAddress[i+1:])
	}
	return "<waymark." + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

func isASCIIDomain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// addressField reads an address field: a string holding one address or a
// comma-separated list, or a list of such strings.
func addressField(fields map[string]any, name string, required bool) ([]*mail.Address, error) {
	v := fields[name]
	var raw []string
	switch x := v.(type) {
	case nil:
	case string:
		if strings.TrimSpace(x) != "" {
			raw = []string{x}
		}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: a list of addresses must hold strings, not %T", name, e)
			}
			raw = append(raw, s)
		}
	default:
		return nil, fmt.Errorf("%s must be an address, not %T", name, v)
	}
	var out []*mail.Address
	for _, r := range raw {
		list, err := mail.ParseAddressList(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an address: %v", name, r, err)
		}
		out = append(out, list...)
	}
	if required && len(out) == 0 {
		return nil, fmt.Errorf("%s: no address", name)
	}
	return out, nil
}

func textField(fields map[string]any, name string, required bool) (string, error) {
	switch x := fields[name].(type) {
	case nil:
		if required {
			return "", fmt.Errorf("%s is missing", name)
		}
		return "", nil
	case string:
		return x, nil
	default:
		return "", fmt.Errorf("%s must be a string, not %T", name, x)
	}
}

func joinAddresses(as []*mail.Address) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// oneLine turns line breaks into spaces: a subject from a heredoc template
// often ends in one, and a raw line break in a header would end it.
func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	return strings.TrimSpace(s)
}

// writeHeader writes "Name: value" folded at spaces to keep lines within 78
// characters (RFC 5322 2.1.1; RFC 2047 wants lines with encoded words within
// 76). Values here are ASCII, and encoded words hold no spaces, so folding
// never splits one. A first word too long to share the line with the name
// goes on the next line: "Subject:" CRLF " =?utf-8?q?...?=" is valid folding.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteByte(':')
	n := len(name) + 1
	for _, w := range strings.Split(value, " ") {
		if n > 1 && n+1+len(w) > 76 {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteByte(' ')
		b.WriteString(w)
		n += 1 + len(w)
	}
	b.WriteString("\r\n")
}

func writeQP(w io.Writer, text string) error {
	q := quotedprintable.NewWriter(w)
	if _, err := q.Write([]byte(text)); err != nil {
		return err
	}
	return q.Close()
}
