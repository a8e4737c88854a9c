package deliver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// Webhook request headers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderSignature      = "X-Waymark-Signature"
)

// WebhookPayload is the JSON body of every webhook request. Field order and
// names are part of the contract with receivers.
//
//	{
//	  "key":      "c-1/phone_activation/1/3/call_request",  // the idempotency key, also in Idempotency-Key
//	  "journey":  "phone_activation",
//	  "instance": "c-1/phone_activation/1",
//	  "stage":    "call_back",
//	  "name":     "call_request",                            // the send's name
//	  "channel":  "crm",
//	  "data":     { ... },                                   // the send's data field, any JSON value
//	  "sent_at":  "2026-03-02T10:00:00.123Z"                 // when this attempt was made (UTC)
//	}
type WebhookPayload struct {
	Key      string    `json:"key"`
	Journey  string    `json:"journey"`
	Instance string    `json:"instance"`
	Stage    string    `json:"stage"`
	Name     string    `json:"name"`
	Channel  string    `json:"channel"`
	Data     any       `json:"data"`
	SentAt   time.Time `json:"sent_at"`
}

// Signature returns the X-Waymark-Signature value for a body:
// "sha256=" and the hex HMAC-SHA256 of the exact body bytes under secret.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookConfig configures a webhook channel.
type WebhookConfig struct {
	Channel string // the channel's name, for messages
	URL     string
	Secret  string        // the HMAC key; "" sends unsigned
	Timeout time.Duration // per attempt; 0 means DefaultTimeout
	// Client sends the requests; nil means NewHTTPClient(). A client given
	// here should not follow redirects (see NewHTTPClient).
	Client *http.Client
	// Now stamps sent_at; nil means time.Now.
	Now func() time.Time
}

// Webhook POSTs each send as JSON to one URL.
type Webhook struct {
	cfg    WebhookConfig
	target string // what messages show of the URL: see shownURL
	client *http.Client
}

// NewWebhook checks cfg and returns the channel.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := parseWebhookURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Channel, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := cfg.Client
	if c == nil {
		c = NewHTTPClient()
	}
	return &Webhook{cfg: cfg, target: shownURL(u), client: c}, nil
}

// shownURL is the URL as errors show it: scheme, host and path, so that an
// operator can tell two endpoints of one host apart, without what may
// carry a credential: the user info, the query, the fragment, and every
// path segment that looks like a token (see tokenLike), shown as "…".
func shownURL(u *url.URL) string {
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if tokenLike(seg) {
			segs[i] = "…"
		}
	}
	return u.Scheme + "://" + u.Host + strings.Join(segs, "/")
}

// tokenLike reports whether a path segment may be a credential: long
// (24 bytes or more, like Slack's and Discord's webhook tokens or a UUID),
// or 8 bytes or more mixing letters and digits. Names like "hooks",
// "order-created" or "v1", and numeric ids shorter than 24 digits, show.
func tokenLike(seg string) bool {
	if len(seg) >= 24 {
		return true
	}
	letters, digits := false, false
	for _, r := range seg {
		switch {
		case unicode.IsLetter(r):
			letters = true
		case unicode.IsDigit(r):
			digits = true
		}
	}
	return len(seg) >= 8 && letters && digits
}

// Timeout is how long one attempt may take.
func (w *Webhook) Timeout() time.Duration { return w.cfg.Timeout }

// parseWebhookURL checks a webhook URL. Its errors never quote the URL: it
// may carry a token.
func parseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("the url does not parse: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("the url must start with https:// (or http://)")
	}
	if u.Host == "" {
		return nil, errors.New("the url has no host")
	}
	return u, nil
}

// NewHTTPClient returns the client webhooks use by default: bounded dial,
// TLS handshake and idle times, TLS 1.2 at least, proxies from the
// environment, and no redirects. A redirect is answered as the final
// response (and counts as a permanent failure): following it would re-send
// a signed payload to a place nobody configured.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16, // above the dispatcher's default of 8 deliveries at once
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Deliver POSTs the send. The same send always carries the same
// Idempotency-Key; the body (and so the signature) differs between attempts
// only in sent_at.
func (w *Webhook) Deliver(ctx context.Context, s engine.Send) error {
	headers, err := sendHeaders(s.Fields["headers"])
	if err != nil {
		return Permanent(err)
	}
	if !validHeaderValue(s.Key) {
		// Ingest refuses such customer ids now; one stored before would
		// otherwise fail as a network error, retried to the last attempt.
		return permanentf("the send's key %q has a control character (a line break in the customer id?): it cannot be the %s header", s.Key, HeaderIdempotencyKey)
	}
	body, err := json.Marshal(WebhookPayload{
		Key: s.Key, Journey: s.Journey, Instance: s.Instance, Stage: s.Stage,
		Name: s.Name, Channel: s.Channel, Data: s.Fields["data"],
		SentAt: w.cfg.Now().UTC().Truncate(time.Millisecond),
	})
	if err != nil {
		return permanentf("the send's data cannot be encoded as JSON: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return permanentf("POST %s: %v", w.target, errors.Unwrap(err))
	}
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Waymark")
	req.Header.Set(HeaderIdempotencyKey, s.Key)
	if w.cfg.Secret != "" {
		req.Header.Set(HeaderSignature, Signature([]byte(w.cfg.Secret), body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return w.transportError(ctx, err)
	}
	defer func() {
		// Read a little of what is left so that the connection can be
		// reused, but never let a chatty receiver hold a worker.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	snippet := readSnippet(resp.Body)
	msg := fmt.Sprintf("POST %s: %s", w.target, resp.Status)
	if snippet != "" {
		msg += ": " + snippet
	}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code == http.StatusTooEarly, code >= 500:
		// The receiver is busy, overloaded or down: it may take the same
		// request later, and says when in Retry-After.
		return &Error{Err: errors.New(msg), RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), w.cfg.Now())}
	case code >= 300 && code < 400:
		return permanentf("%s (to %s): webhooks are not redirected; set the channel's url to the final address", msg, locationHost(resp))
	default:
		// Any other 4xx (and the odd 1xx): the receiver refuses this
		// request as it is, and it would refuse it again.
		return Permanent(errors.New(msg))
	}
}

// transportError classifies a failure to get a response: all retryable,
// told without the URL (net/http's url.Error quotes it whole, query and all).
func (w *Webhook) transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return retryablef("POST %s: no response within %s", w.target, w.cfg.Timeout)
	}
	return retryablef("POST %s: %v", w.target, err)
}

// sendHeaders reads the send's headers field: an object of strings (numbers
// and bools are written as they print). Names and values are checked here
// because net/http would refuse them only when writing, with an error that
// looks like a network failure and would be retried forever.
func sendHeaders(v any) ([][2]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("headers must be an object of strings, not %T", v)
	}
	out := make([][2]string, 0, len(m))
	for k, raw := range m {
		if raw == nil {
			continue
		}
		var val string
		switch x := raw.(type) {
		case string:
			val = x
		case bool, int, int64, float64, json.Number:
			val = fmt.Sprint(x)
		default:
			return nil, fmt.Errorf("header %s must be a string, not %T", k, raw)
		}
		if !validHeaderName(k) {
			return nil, fmt.Errorf("header name %q is not a valid HTTP header name", k)
		}
		name := http.CanonicalHeaderKey(k)
		// The compiler refuses these at the header; a program compiled
		// before it did, or an IR written by hand, meets them here.
		if lang.ReservedWebhookHeader(name) {
			return nil, fmt.Errorf("header %s is set by Waymark and cannot be given in a send", name)
		}
		if !validHeaderValue(val) {
			return nil, fmt.Errorf("header %s has a control character (a line break?) in its value", name)
		}
		out = append(out, [2]string{name, val})
	}
	return out, nil
}

// validHeaderName: a token (RFC 9110 5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue: no control characters but tab (RFC 9110 5.5).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// readSnippet returns the start of an error response's body, on one line,
// for the send's last error.
func readSnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "..."
	}
	return s
}

func locationHost(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil || loc.Host == "" {
		return "?"
	}
	return loc.Scheme + "://" + loc.Host
}

// parseRetryAfter reads Retry-After: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		// Clamped so that a silly value cannot overflow; the dispatcher
		// caps the wait at its backoff cap anyway.
		return time.Duration(min(max(n, 0), 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
