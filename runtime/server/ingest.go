package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Segment's limits, which RudderStack and Jitsu follow too: a pipeline that
// works against Segment works against Waymark.
const (
	MaxEventBytes = 32 << 10  // one call: a /v1/track or /v1/identify body, or one item of a batch
	MaxBatchBytes = 500 << 10 // a /v1/batch body
	// MaxNesting bounds how deep properties and traits nest. encoding/json
	// refuses to decode past 10,000 levels, and the stores keep a value a
	// few levels inside a customer's state: a value nested 9,997 deep was
	// accepted and then made the customer, and every customer list holding
	// it, unreadable. Tracking data nests a few levels.
	MaxNesting = 64
	// maxIDBytes bounds userId, anonymousId, messageId and event names: they
	// become keys in the store and in every send's idempotency key.
	maxIDBytes = 1024
)

// Call types. Segment's page, screen, group and alias calls are valid
// tracking calls that journeys have no use for: a batch holding them is
// accepted and they are ignored (counted in waymark_ingest_ignored_total),
// so that a pipeline forwarding everything is not refused. Any other type is
// a 400.
const (
	typeTrack    = "track"
	typeIdentify = "identify"
)

// typeAlias merges the customer previousId into userId (see merge.go).
const typeAlias = "alias"

var ignoredTypes = map[string]bool{"page": true, "screen": true, "group": true}

// httpError is a refusal of a request, with the status and the message the
// client gets as {"error": msg}.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// call is one parsed tracking call.
type call struct {
	kind      string // typeTrack, typeIdentify, typeAlias, or an ignored type
	item      worker.Item
	messageID string
	// mergeFrom, when set, is a customer to merge into item.CustomerID
	// before item is handled: an alias's previousId, or an identify's
	// anonymousId next to its userId.
	mergeFrom string
}

// readBody reads a request body of at most limit bytes. A larger body is a
// 413; what gets read is bounded by http.MaxBytesReader, so a huge body costs
// no more than limit bytes of memory.
//
// A gzip body (Content-Encoding: gzip, which some tracking libraries send)
// is decompressed, and the limit applies to the decompressed bytes too:
// a small bomb is a 413, never a large allocation.
func readBody(w http.ResponseWriter, r *http.Request, what string, limit int64) ([]byte, *httpError) {
	in := io.Reader(http.MaxBytesReader(w, r.Body, limit))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, readError(what, limit, err)
		}
		defer zr.Close()
		body, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, readError(what, limit, err)
		}
		if int64(len(body)) > limit {
			return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s: the body is larger than %d bytes once decompressed", what, limit)}
		}
		return body, nil
	default:
		return nil, &httpError{http.StatusUnsupportedMediaType, fmt.Sprintf("%s: Content-Encoding %q is not supported: send the body plain or gzip", what, enc)}
	}
	body, err := io.ReadAll(in)
	if err != nil {
		return nil, readError(what, limit, err)
	}
	return body, nil
}

func readError(what string, limit int64, err error) *httpError {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%s: the body is larger than %d bytes", what, limit)}
	}
	return badRequest("%s: reading the body: %v", what, err)
}

// parseObject decodes data, which must be exactly one JSON object, into its
// members. Keys are matched exactly (encoding/json's struct decoding would
// match "userid" to userId).
func parseObject(data []byte, where string) (map[string]json.RawMessage, *httpError) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, badRequest("%s: the body is empty: send a JSON object", where)
	}
	if data[0] != '{' {
		return nil, badRequest("%s: must be a JSON object", where)
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&obj); err != nil {
		return nil, badRequest("%s: invalid JSON: %s", where, jsonMessage(err))
	}
	if dec.More() || dec.InputOffset() != int64(len(data)) {
		return nil, badRequest("%s: unexpected data after the JSON object", where)
	}
	return obj, nil
}

// jsonMessage words a decoding error without encoding/json's Go-isms.
func jsonMessage(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of the body"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// parseCall parses one track or identify call: the body of /v1/track or
// /v1/identify (kind given by the endpoint), or an item of a batch (kind ""
// : read from its type).
func parseCall(obj map[string]json.RawMessage, kind, where string) (call, *httpError) {
	if kind == "" {
		t, ok, err := stringField(obj, "type", where)
		if err != nil {
			return call{}, err
		}
		if !ok || t == "" {
			return call{}, badRequest("%s: type is required: track or identify", where)
		}
		if ignoredTypes[t] {
			return call{kind: t}, nil
		}
		if t != typeTrack && t != typeIdentify && t != typeAlias {
			return call{}, badRequest("%s: type %q is not a known call: use track, identify or alias (page, screen and group are accepted and ignored)", where, t)
		}
		kind = t
		where += " (" + t + ")"
	}
	c := call{kind: kind}

	// The customer is userId; an anonymous visitor (anonymousId alone) is a
	// customer of its own, keyed by the anonymous id. Segment requires one of
	// the two. Waymark does not merge an anonymous customer into a known one
	// (alias is ignored): journeys key on the id the events carry.
	user, _, err := idField(obj, "userId", where)
	if err != nil {
		return call{}, err
	}
	anon, _, err := idField(obj, "anonymousId", where)
	if err != nil {
		return call{}, err
	}
	id := user
	if id == "" {
		id = anon
	}
	if id == "" {
		return call{}, badRequest("%s: userId is required (or anonymousId)", where)
	}
	if len(user) > maxIDBytes || len(anon) > maxIDBytes {
		return call{}, badRequest("%s: userId and anonymousId must be at most %d bytes", where, maxIDBytes)
	}
	c.item.CustomerID = id

	if c.messageID, _, err = idField(obj, "messageId", where); err != nil {
		return call{}, err
	}
	if len(c.messageID) > maxIDBytes {
		return call{}, badRequest("%s: messageId must be at most %d bytes", where, maxIDBytes)
	}
	// The timestamp is checked but not used: the engine runs every input at
	// the moment the server handles it, so that timers, quiet hours and caps
	// all count on one clock (a replayed backlog would otherwise fire timers
	// in the past).
	ts, ok, err := stringField(obj, "timestamp", where)
	if err != nil {
		return call{}, err
	}
	if ok && !validTime(ts) {
		return call{}, badRequest("%s: timestamp %q is not an ISO 8601 time like 2024-05-01T12:00:00Z", where, ts)
	}
	traits, err := objectField(obj, "traits", where)
	if err != nil {
		return call{}, err
	}
	c.item.Input = engine.Input{Traits: traits, MessageID: c.messageID}

	switch kind {
	case typeTrack:
		ev, _, err := stringField(obj, "event", where)
		if err != nil {
			return call{}, err
		}
		if ev == "" {
			return call{}, badRequest("%s: event is required", where)
		}
		if len(ev) > maxIDBytes {
			return call{}, badRequest("%s: event must be at most %d bytes", where, maxIDBytes)
		}
		props, err := objectField(obj, "properties", where)
		if err != nil {
			return call{}, err
		}
		c.item.Input.Kind = engine.KindEvent
		c.item.Input.Event = ev
		c.item.Input.Properties = props
	case typeIdentify:
		c.item.Input.Kind = engine.KindIdentify
		if user != "" && anon != "" && anon != user {
			c.mergeFrom = anon
		}
	case typeAlias:
		prev, _, err := idField(obj, "previousId", where)
		if err != nil {
			return call{}, err
		}
		if prev == "" || user == "" {
			return call{}, badRequest("%s: alias needs userId and previousId: the customer previousId becomes part of userId", where)
		}
		if len(prev) > maxIDBytes {
			return call{}, badRequest("%s: previousId must be at most %d bytes", where, maxIDBytes)
		}
		if prev != user {
			c.mergeFrom = prev
		}
	}
	return c, nil
}

// stringField reads an optional string member; null and absent are the
// same. ok reports whether it was present and not null.
func stringField(obj map[string]json.RawMessage, name, where string) (s string, ok bool, _ *httpError) {
	raw, present := obj[name]
	if !present || isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, badRequest("%s: %s must be a string, got %s", where, name, jsonKind(raw))
	}
	return s, true, nil
}

// idField reads an optional string member that becomes a key: userId and
// anonymousId (the customer's id, in every send's idempotency key and so
// in webhook headers), messageId (ingest deduplication). CheckID refuses
// what would break or merge keys.
func idField(obj map[string]json.RawMessage, name, where string) (string, bool, *httpError) {
	s, ok, herr := stringField(obj, name, where)
	if herr != nil || !ok {
		return s, ok, herr
	}
	if err := CheckID(obj[name], s); err != nil {
		return "", false, badRequest("%s: %s %v", where, name, err)
	}
	return s, true, nil
}

// CheckID checks an id decoded into s from the JSON string raw. It refuses
// control characters (CR and LF above all: an id is part of every send's
// Idempotency-Key header, and a header with a line break is refused by
// every HTTP client, so each of the customer's webhooks would fail until
// dead-lettered, and a requeue could not fix it) and text that is not
// UTF-8: encoding/json turns each invalid byte, and each lone surrogate
// escape, into U+FFFD, so two different invalid ids would decode to one
// id and two customers would share a state. A U+FFFD the client sent
// (raw, or escaped as \ufffd) is kept. Batch items go through the same
// check (parseCall), so a caller validating items one by one gets the same
// answer.
func CheckID(raw json.RawMessage, s string) error {
	if !utf8.Valid(raw) {
		i := 0
		for i < len(raw) {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return fmt.Errorf("is not valid UTF-8 (byte 0x%02x): send the id as UTF-8 text", raw[i])
	}
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains the control character %U at byte %d: ids may not hold line breaks, tabs or other control characters", r, i)
		}
	}
	if loneSurrogate(raw) {
		return fmt.Errorf("holds an escape that is not a character (a lone surrogate like \\ud800): send the id as UTF-8 text")
	}
	return nil
}

// loneSurrogate reports whether the JSON string raw holds a \u escape of a
// UTF-16 surrogate that is not part of a pair, which encoding/json decodes
// to U+FFFD.
func loneSurrogate(raw []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
		return rune(v), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		if !ok {
			i++ // a two-byte escape like \\ or \"
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hex(i + 6)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

// objectField reads an optional object member (properties, traits) with
// numbers kept as json.Number, so that a large integer id survives
// unrounded; the engine accepts json.Number.
func objectField(obj map[string]json.RawMessage, name, where string) (map[string]any, *httpError) {
	raw, present := obj[name]
	if !present || isNull(raw) {
		return nil, nil
	}
	if jsonKind(raw) != "an object" {
		return nil, badRequest("%s: %s must be an object, got %s", where, name, jsonKind(raw))
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, badRequest("%s: %s: %s", where, name, jsonMessage(err))
	}
	if msg := storable(m, name, 1); msg != "" {
		return nil, badRequest("%s: %s", where, msg)
	}
	return m, nil
}

// storable says what is wrong with the first value in v that could not be
// kept as sent, or "" when there is none, naming it by a path such as
// properties.items[2].price. A number a float64 cannot hold (1e400) was
// stored and then made the customer unreadable, since the stores decode
// float64s; one lang.NumberInRange refuses (1e-5000) the engine reads as
// null. Values nested past MaxNesting would not decode from the store.
func storable(v any, at string, depth int) string {
	switch x := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(x), 64)
		f, _, perr := big.ParseFloat(string(x), 10, 64, big.ToNearestEven)
		if err != nil || perr != nil || !lang.NumberInRange(f) {
			return fmt.Sprintf("%s: the number %s is out of range (numbers must be under about 1.8e308 in size, and over 1e-1233 unless zero): send it as a string", at, shorten(string(x)))
		}
	case map[string]any:
		if depth > MaxNesting {
			return fmt.Sprintf("%s: nested deeper than %d levels", shorten(at), MaxNesting)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if msg := storable(x[k], at+"."+k, depth+1); msg != "" {
				return msg
			}
		}
	case []any:
		if depth > MaxNesting {
			return fmt.Sprintf("%s: nested deeper than %d levels", shorten(at), MaxNesting)
		}
		for i, e := range x {
			if msg := storable(e, fmt.Sprintf("%s[%d]", at, i), depth+1); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// shorten keeps an echoed value short enough for an error message.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// validTime accepts the ISO 8601 forms that tracking libraries send: RFC
// 3339 with or without fractional seconds, offsets without a colon
// (+0000), and a local time without any zone, which some pipelines send
// and which would be read as UTC (the timestamp is not used, so the zone
// never matters; refusing the call would lose the event for nothing).
func validTime(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// itemError is a batch item that was refused, as the 200 answer reports
// it: its index in the batch and why.
type itemError struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// parseBatch parses a /v1/batch body: {"batch": [call, ...]} with other
// members (context, sentAt, ...) ignored; obj is the body, parsed by
// parseObject. Only a body that is not such an object is refused (herr):
// an item that is not a valid call is reported in bad and the others are
// kept, because tracking libraries treat a 400 as final and drop the whole
// batch, valid calls with it.
func parseBatch(obj map[string]json.RawMessage) (calls []call, bad []itemError, herr *httpError) {
	raw, present := obj["batch"]
	if !present || isNull(raw) {
		return nil, nil, badRequest("batch: batch is required: an array of calls")
	}
	if jsonKind(raw) != "an array" {
		return nil, nil, badRequest("batch: batch must be an array, got %s", jsonKind(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, badRequest("batch: batch: %s", jsonMessage(err))
	}
	calls = make([]call, 0, len(items))
	for i, it := range items {
		c, herr := parseItem(i, it)
		if herr != nil {
			bad = append(bad, itemError{Index: i, Reason: herr.msg})
			continue
		}
		calls = append(calls, c)
	}
	return calls, bad, nil
}

// parseItem parses the batch's item i.
func parseItem(i int, it json.RawMessage) (call, *httpError) {
	where := fmt.Sprintf("batch[%d]", i)
	if len(it) > MaxEventBytes {
		return call{}, badRequest("%s: the call is larger than %d bytes", where, MaxEventBytes)
	}
	if jsonKind(it) != "an object" {
		return call{}, badRequest("%s: must be an object, got %s", where, jsonKind(it))
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(it, &o); err != nil {
		return call{}, badRequest("%s: %s", where, jsonMessage(err))
	}
	return parseCall(o, "", where)
}
