package deliver

import (
	"context"
	"log/slog"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// LogChannel writes one structured line per send. It is the `log` channel
// type, and what every channel becomes in Log mode.
//
// The line has the send's key, journey, instance, stage, name, channel and
// channel type, and a "fields" group. For log and webhook sends the group
// holds data (and headers) as they are. For smtp sends it holds to, subject
// and reply_to, and only the sizes of body and html (body_bytes,
// html_bytes): a rendered email is long, often holds one-time links, and is
// already kept whole with the send in the store's history (store.Sends), so
// the log stream stays one readable line per message.
type LogChannel struct {
	logger  *slog.Logger
	channel string
	typ     string
}

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
	var fields []any
	switch typ {
	case lang.ChannelSMTP:
		fields = append(fields, slog.Any("to", s.Fields["to"]), slog.Any("subject", s.Fields["subject"]))
		if v, ok := s.Fields["reply_to"]; ok && v != nil {
			fields = append(fields, slog.Any("reply_to", v))
		}
		fields = append(fields, slog.Int("body_bytes", textLen(s.Fields["body"])))
		if v, ok := s.Fields["html"]; ok && v != nil {
			fields = append(fields, slog.Int("html_bytes", textLen(v)))
		}
	case lang.ChannelWebhook:
		fields = append(fields, slog.Any("data", s.Fields["data"]))
		if v, ok := s.Fields["headers"]; ok && v != nil {
			fields = append(fields, slog.Any("headers", v))
		}
	default:
		fields = append(fields, slog.Any("data", s.Fields["data"]))
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "send",
		slog.String("key", s.Key),
		slog.String("journey", s.Journey),
		slog.String("instance", s.Instance),
		slog.String("stage", s.Stage),
		slog.String("name", s.Name),
		slog.String("channel", c.channel),
		slog.String("type", typ),
		slog.Group("fields", fields...),
	)
	return nil
}

func textLen(v any) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	return 0
}
