package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// DefaultTwilioBaseURL is Twilio's REST API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// TwilioConfig configures a twilio channel: SMS through Twilio's Messages
// API.
type TwilioConfig struct {
	Channel    string
	AccountSID string // the HTTP Basic user, and part of the URL
	AuthToken  string // the HTTP Basic password; never logged or shown
	From       string // the sending number, E.164
	BaseURL    string // default DefaultTwilioBaseURL; tests point it at a local server
	Timeout    time.Duration
	Client     *http.Client // default: a client with no redirects
	Now        func() time.Time
}

// Twilio sends each send as one message: a form POST of To, From and Body
// to {base}/2010-04-01/Accounts/{sid}/Messages.json.
//
// Idempotency: Twilio's Messages API takes no idempotency key. The outbox
// marks a send delivered once Twilio answered 2xx, so a send is not posted
// again after that; but a crash (or a lost answer) between Twilio's accept
// and that commit posts it again on the retry: delivery is at least once,
// and a customer may, rarely, get an SMS twice.
//
// Errors: a transport failure, 408, 429 (with its Retry-After) and 5xx
// are retried; any other status is permanent (a bad number, an unverified
// sender, wrong credentials: retrying would not change the answer).
type Twilio struct {
	cfg      TwilioConfig
	endpoint string
}

// NewTwilio checks cfg and returns the channel.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" || cfg.From == "" {
		return nil, fmt.Errorf("twilio %s: account_sid, auth_token and from are all needed", cfg.Channel)
	}
	if strings.ContainsAny(cfg.AccountSID, "/?#% ") {
		return nil, fmt.Errorf("twilio %s: the account_sid has characters an account SID never has", cfg.Channel)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultTwilioBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("twilio %s: base_url %q is not an http(s) URL", cfg.Channel, cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Twilio{cfg: cfg, endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json"}, nil
}

// TwilioAuthTokens returns the auth tokens of the twilio channels among
// chs: the keys that sign Twilio's inbound webhooks.
func TwilioAuthTokens(chs map[string]Channel) []string {
	var out []string
	for _, c := range chs {
		if t, ok := c.(*Twilio); ok {
			out = append(out, t.cfg.AuthToken)
		}
	}
	return out
}

// Deliver posts the message.
func (c *Twilio) Deliver(ctx context.Context, s engine.Send) error {
	to, err := textField(s.Fields, "to", true)
	if err != nil {
		return Permanent(err)
	}
	body, err := textField(s.Fields, "body", true)
	if err != nil {
		return Permanent(err)
	}
	if strings.TrimSpace(to) == "" {
		return permanentf("to is empty")
	}
	form := url.Values{"To": {to}, "From": {c.cfg.From}, "Body": {body}}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return permanentf("twilio %s: %v", c.cfg.Channel, errors.Unwrap(err))
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Waymark")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		// Without the URL: it names the account.
		if ctx.Err() != nil {
			return retryablef("twilio %s: no answer within %v", c.cfg.Channel, c.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return retryablef("twilio %s: %v", c.cfg.Channel, err)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("twilio %s: POST Messages: %s", c.cfg.Channel, resp.Status)
	if snippet := readSnippet(resp.Body); snippet != "" {
		msg += ": " + snippet
	}
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return &Error{Err: errors.New(msg), RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())}
	default:
		return Permanent(errors.New(msg))
	}
}
