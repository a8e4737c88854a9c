package deliver

import (
	"context"
	"html"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// LogChannel writes one JSON line per send. It is the `log` channel type,
// and what every channel becomes in Log mode (`waymark run --deliver log`),
// where the line is what a person trying a workspace reads, so it starts
// with what they look for:
//
//	{"time":...,"level":"INFO","msg":"send","channel":"email","type":"smtp",
//	 "to":"li@example.com","subject":"Three steps to activate your phone",
//	 "preview":"Hi Li, your Orbit X2 is on its way…","body_bytes":1234,
//	 "journey":"phone_activation","stage":"guide","name":"activation_guide",
//	 "instance":"c-42/phone_activation/1","key":"c-42/phone_activation/1/1/activation_guide"}
//
// For smtp sends: to, subject, reply_to when set, preview (the first
// PreviewRunes characters of the rendered body as one line of text: tags
// and extra blanks removed, and links cut before their query string, where
// one-time tokens live) and the sizes of body and html; the whole message
// is kept with the send in the store's history (store.Sends). For twilio
// (SMS) sends: to, preview and body_bytes. For log and webhook sends: data
// (and headers) as they are. Channel settings (hosts,
// passwords, secrets) are never part of a send, so never in the line.
type LogChannel struct {
	logger  *slog.Logger
	channel string
	typ     string
}

// PreviewRunes is the length of an smtp send's preview in the log line.
const PreviewRunes = 80

// NewLog returns a log channel for the named channel of the given type.
func NewLog(logger *slog.Logger, channel, channelType string) *LogChannel {
	return &LogChannel{logger: logger, channel: channel, typ: channelType}
}

// Deliver logs the send. It never fails: a log line is best effort.
func (c *LogChannel) Deliver(ctx context.Context, s engine.Send) error {
	typ := s.ChannelType
	if typ == "" {
		typ = c.typ
	}
	attrs := []slog.Attr{slog.String("channel", c.channel), slog.String("type", typ)}
	switch typ {
	case lang.ChannelSMTP:
		attrs = append(attrs, slog.Any("to", s.Fields["to"]), slog.Any("subject", s.Fields["subject"]))
		if v, ok := s.Fields["reply_to"]; ok && v != nil {
			attrs = append(attrs, slog.Any("reply_to", v))
		}
		body := s.Fields["body"]
		if textLen(body) == 0 {
			body = s.Fields["html"]
		}
		attrs = append(attrs, slog.String("preview", Preview(body)), slog.Int("body_bytes", textLen(s.Fields["body"])))
		if v, ok := s.Fields["html"]; ok && v != nil {
			attrs = append(attrs, slog.Int("html_bytes", textLen(v)))
		}
	case lang.ChannelTwilio:
		// An SMS: the number and the text, which is short, as a preview.
		attrs = append(attrs, slog.Any("to", s.Fields["to"]), slog.String("preview", Preview(s.Fields["body"])),
			slog.Int("body_bytes", textLen(s.Fields["body"])))
	case lang.ChannelWebhook:
		attrs = append(attrs, slog.Any("data", s.Fields["data"]))
		if v, ok := s.Fields["headers"]; ok && v != nil {
			attrs = append(attrs, slog.Any("headers", v))
		}
	default:
		attrs = append(attrs, slog.Any("data", s.Fields["data"]))
	}
	attrs = append(attrs, sendAttrs(s)...)
	c.logger.LogAttrs(ctx, slog.LevelInfo, "send", attrs...)
	return nil
}

// sendAttrs says which send a line is about.
func sendAttrs(s engine.Send) []slog.Attr {
	return []slog.Attr{
		slog.String("journey", s.Journey),
		slog.String("stage", s.Stage),
		slog.String("name", s.Name),
		slog.String("instance", s.Instance),
		slog.String("key", s.Key),
	}
}

// LogUndelivered writes a line for every send of a committed batch that is
// not going out now: held by quiet hours or a send window (with the time it
// is due again), suppressed, capped, dropped or failed, each with the
// engine's reason. `waymark run --deliver log` wires it to the worker's
// commits, so that a send someone expected and did not see printed is
// explained where they are looking:
//
//	{"time":...,"level":"INFO","msg":"send held","channel":"email","reason":"quiet hours 21:00-08:00 in Europe/Paris",
//	 "until":"2026-03-03T07:00:00Z","journey":"phone_activation","stage":"guide","name":"activation_guide",...}
func LogUndelivered(ctx context.Context, logger *slog.Logger, b *store.Batch) {
	for _, cw := range b.Customers {
		for _, res := range cw.Results {
			for _, s := range res.Sends {
				if s.Fate == engine.FateDeliver {
					continue
				}
				attrs := []slog.Attr{slog.String("channel", s.Channel), slog.String("reason", s.Reason)}
				if !s.DueAt.IsZero() {
					attrs = append(attrs, slog.Time("until", s.DueAt.UTC().Truncate(time.Second)))
				}
				attrs = append(attrs, sendAttrs(s)...)
				logger.LogAttrs(ctx, slog.LevelInfo, "send "+s.Fate, attrs...)
			}
		}
	}
}

var (
	hiddenElements = regexp.MustCompile(`(?is)<(?:style|script|head)\b.*?</(?:style|script|head)\s*>`)
	tags           = regexp.MustCompile(`(?s)<[^>]*>`)
	linkQuery      = regexp.MustCompile(`(?i)(\bhttps?://[^\s?#"'<>]+)[?#][^\s"'<>]*`)
)

// Preview renders a message body as one line of at most PreviewRunes
// characters of text: an HTML body loses its tags (and the contents of
// head, style and script), entities are decoded, runs of blanks become one
// space, and links lose their query string and fragment, where one-time
// tokens live.
func Preview(v any) string {
	s, _ := v.(string)
	if strings.Contains(s, "<") {
		s = hiddenElements.ReplaceAllString(s, " ")
		s = tags.ReplaceAllString(s, " ")
	}
	s = html.UnescapeString(s)
	s = linkQuery.ReplaceAllString(s, "$1?…")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= PreviewRunes {
		return s
	}
	r := []rune(s)[:PreviewRunes-1]
	return strings.TrimRight(string(r), " ") + "…"
}

func textLen(v any) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	return 0
}
