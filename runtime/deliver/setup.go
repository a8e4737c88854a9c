package deliver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// Mode says what Setup builds.
type Mode int

const (
	// Live builds every channel as its type says: SMTP conversations,
	// webhook POSTs, log lines.
	Live Mode = iota
	// Log routes every channel to a log channel (`waymark run --deliver
	// log`): nothing leaves the machine. No channel setting is evaluated in
	// this mode, so a workspace can be tried out without its env() variables.
	Log
)

func (m Mode) String() string {
	if m == Log {
		return "log"
	}
	return "live"
}

// ParseMode reads a mode as the command line writes it: "live" or "log".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "live":
		return Live, nil
	case "log":
		return Log, nil
	}
	return Live, fmt.Errorf("unknown delivery mode %q (live or log)", s)
}

// DefaultTimeout is how long one delivery attempt may take when a channel
// sets no timeout.
const DefaultTimeout = 10 * time.Second

// SetupOption adjusts Setup.
type SetupOption func(*setupOptions)

type setupOptions struct {
	logger *slog.Logger
}

// WithLogger sets the logger that log channels write to. The default is a
// JSON handler on standard output: one line per send, for a log pipeline.
func WithLogger(l *slog.Logger) SetupOption {
	return func(o *setupOptions) { o.logger = l }
}

// Setup builds the program's channels, by name. In Live mode it evaluates
// each channel's settings (env() reads env; nil means os.LookupEnv) and
// checks them; every problem of every channel is reported at once, each
// naming its channel and setting, so that an operator fixes a deployment in
// one go. No error ever holds the value of a password or secret.
func Setup(p *ir.Program, env func(string) (string, bool), mode Mode, opts ...SetupOption) (map[string]Channel, error) {
	o := setupOptions{}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	if env == nil {
		env = os.LookupEnv
	}
	out := make(map[string]Channel, len(p.Channels))
	if mode == Log {
		for _, ch := range p.Channels {
			out[ch.Name] = NewLog(o.logger, ch.Name, ch.Type)
		}
		return out, nil
	}
	// Every setting of every channel is evaluated before any is checked,
	// so that all secret values are known before the first message that
	// could quote a setting's value is written.
	r := &redactor{}
	all := make([]*settings, len(p.Channels))
	for i := range p.Channels {
		all[i] = evalChannel(&p.Channels[i], env, r)
	}
	var errs []string
	for _, s := range all {
		if c := s.build(o.logger); c != nil {
			out[s.ch.Name] = c
		}
		errs = append(errs, s.errs...)
	}
	if len(errs) > 0 {
		// Scrubbed at the very end: a secret read by one setting must not
		// surface through another setting's (or channel's) message.
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = errors.New(r.scrub(e))
		}
		return nil, errors.Join(joined...)
	}
	return out, nil
}

// sensitive are the settings whose values must never be shown.
var sensitive = map[string]bool{"password": true, "secret": true, "auth_token": true}

// allowed lists the settings each channel type takes (the compiler checks
// this too; an IR file may have been written by something else).
var allowed = map[string][]string{
	lang.ChannelSMTP:    {"from", "addr", "username", "password", "starttls", "timeout"},
	lang.ChannelWebhook: {"url", "secret", "timeout"},
	lang.ChannelLog:     {},
	lang.ChannelTwilio:  {"account_sid", "auth_token", "from", "base_url", "timeout"},
}

// redactor remembers the values that secret settings evaluated to.
type redactor struct{ secrets []string }

func (r *redactor) add(v string) {
	if v != "" {
		r.secrets = append(r.secrets, v)
	}
}

// redactedMark replaces each secret in a message.
const redactedMark = "[redacted]"

// minWordSecret is the length under which a secret is redacted only where
// it stands as a word of its own (between characters that are not letters
// or digits, or the ends of the message). A secret of one to three bytes
// ("pw", "x") would otherwise be cut out of every word that holds it,
// leaving a message nobody can read, and the quoted value of a setting,
// the place a parser error shows it, is still a word of its own.
const minWordSecret = 4

// scrub replaces every secret in s by redactedMark, in one pass over s:
// where secrets overlap or touch (one inside another, or side by side),
// the whole stretch becomes one mark, and a mark is never searched again,
// so a secret that is a part of "[redacted]" does not garble it.
func (r *redactor) scrub(s string) string {
	var spans [][2]int
	for _, v := range r.secrets {
		for from := 0; from < len(s); {
			i := strings.Index(s[from:], v)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(v)
			if len(v) >= minWordSecret || (!wordByte(s, start-1) && !wordByte(s, end)) {
				spans = append(spans, [2]int{start, end})
			}
			from = start + 1
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	var b strings.Builder
	at := 0 // s[:at] is written
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= end; i++ {
			end = max(end, spans[i][1])
		}
		b.WriteString(s[at:start])
		b.WriteString(redactedMark)
		at = end
	}
	b.WriteString(s[at:])
	return b.String()
}

// wordByte reports whether s[i] is a letter or a digit of a word (ASCII,
// or any byte of a multi-byte character); false outside s.
func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= utf8.RuneSelf || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// settings evaluates one channel's settings and collects its problems.
type settings struct {
	ch     *ir.Channel
	vals   map[string]cty.Value
	at     map[string]ir.Range
	failed map[string]bool // settings that did not evaluate: nothing more is said about them
	red    *redactor
	errs   []string
}

// evalChannel evaluates a channel's settings; problems go to s.errs.
func evalChannel(ch *ir.Channel, env func(string) (string, bool), r *redactor) *settings {
	s := &settings{ch: ch, vals: map[string]cty.Value{}, at: map[string]ir.Range{}, failed: map[string]bool{}, red: r}
	names, ok := allowed[ch.Type]
	if !ok {
		s.failf(ch.Range, "", "unknown channel type %q (smtp, webhook or log)", ch.Type)
		return s
	}
	seen := map[string]bool{}
	for i := range ch.Settings {
		st := &ch.Settings[i]
		s.at[st.Name] = st.Expr.Range
		switch {
		case !slices.Contains(names, st.Name):
			s.failf(st.Expr.Range, st.Name, "a %s channel has no setting %s", ch.Type, st.Name)
		case seen[st.Name]:
			s.failf(st.Expr.Range, st.Name, "set twice")
		default:
			seen[st.Name] = true
			if v, ok := s.eval(st, env, r); ok {
				s.vals[st.Name] = v
			} else {
				s.failed[st.Name] = true
			}
		}
	}
	return s
}

// build checks the evaluated settings and makes the channel; nil when
// anything is wrong.
func (s *settings) build(logger *slog.Logger) Channel {
	if _, ok := allowed[s.ch.Type]; !ok {
		return nil
	}
	var c Channel
	switch s.ch.Type {
	case lang.ChannelSMTP:
		c = s.smtp()
	case lang.ChannelWebhook:
		c = s.webhook()
	case lang.ChannelLog:
		c = NewLog(logger, s.ch.Name, s.ch.Type)
	case lang.ChannelTwilio:
		c = s.twilio()
	}
	if len(s.errs) > 0 {
		return nil
	}
	return c
}

// eval parses a setting's source with its original position (so messages
// point into the journey file) and evaluates it with the expression functions
// and no variables: a channel is set up once, not per customer.
func (s *settings) eval(st *ir.Setting, env func(string) (string, bool), r *redactor) (v cty.Value, ok bool) {
	lookup := env
	if sensitive[st.Name] {
		lookup = func(name string) (string, bool) {
			val, found := env(name)
			if found {
				r.add(val)
			}
			return val, found
		}
	}
	defer func() {
		// cty's functions panic on a few inputs they do not expect; a bad
		// setting must be an error, not a crash at start-up.
		if p := recover(); p != nil {
			s.failf(st.Expr.Range, st.Name, "evaluation failed: %v", p)
			v, ok = cty.NilVal, false
		}
	}()
	start := hcl.Pos{Line: st.Expr.Range.Start.Line, Column: st.Expr.Range.Start.Col, Byte: st.Expr.Range.Start.Byte}
	if start.Line == 0 {
		start = hcl.InitialPos
	}
	x, diags := lang.ParseExpression([]byte(st.Expr.Src), st.Expr.Range.File, start)
	if diags.HasErrors() {
		s.failf(st.Expr.Range, st.Name, "%s", diagText(diags))
		return cty.NilVal, false
	}
	v, diags = x.Value(&hcl.EvalContext{Functions: lang.Functions(lang.FuncHooks{Env: lookup})})
	if diags.HasErrors() {
		s.failf(st.Expr.Range, st.Name, "%s", diagText(diags))
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		s.failf(st.Expr.Range, st.Name, "the value is not known when the channel is set up")
		return cty.NilVal, false
	}
	return v, true
}

func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		t := d.Summary
		if d.Detail != "" {
			t += ": " + d.Detail
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}

// failf records a problem as "file:line:col: channel "x" setting y: message".
func (s *settings) failf(at ir.Range, setting, format string, args ...any) {
	loc := ""
	if at.File != "" {
		loc = fmt.Sprintf("%s:%d:%d: ", at.File, at.Start.Line, at.Start.Col)
	}
	what := fmt.Sprintf("channel %q", s.ch.Name)
	if setting != "" {
		what += " setting " + setting
	}
	s.errs = append(s.errs, loc+what+": "+fmt.Sprintf(format, args...))
}

// rangeOf is where a setting is written, or the channel block when unset.
func (s *settings) rangeOf(name string) ir.Range {
	if r, ok := s.at[name]; ok {
		return r
	}
	return s.ch.Range
}

// str returns a string setting; "" when it is unset or null.
func (s *settings) str(name string) string {
	v, ok := s.vals[name]
	if !ok || v.IsNull() || s.failed[name] {
		return ""
	}
	c, err := convert.Convert(v, cty.String)
	if err != nil {
		s.failf(s.rangeOf(name), name, "must be a string, not %s", v.Type().FriendlyName())
		s.failed[name] = true
		return ""
	}
	return c.AsString()
}

// isSet says the setting is written and not null.
func (s *settings) isSet(name string) bool {
	v, ok := s.vals[name]
	return ok && !v.IsNull()
}

// shown says a setting's value may be quoted in a message: not when it
// overlaps a secret (a secret put in the wrong setting by mistake; even a
// parser's fragment of it must not show).
func (s *settings) shown(value string) bool {
	if value == "" {
		return true
	}
	for _, sec := range s.red.secrets {
		if strings.Contains(value, sec) || strings.Contains(sec, value) {
			return false
		}
	}
	return true
}

// boolean returns a bool setting; nil when it is unset or null. A string
// from env() converts ("true", "false").
func (s *settings) boolean(name string) *bool {
	v, ok := s.vals[name]
	if !ok || v.IsNull() {
		return nil
	}
	c, err := convert.Convert(v, cty.Bool)
	if err != nil {
		s.failf(s.rangeOf(name), name, "must be true or false")
		return nil
	}
	b := c.True()
	return &b
}

// duration returns a duration setting ("10s", "2m", or a number of
// seconds), or def when it is unset.
func (s *settings) duration(name string, def time.Duration) time.Duration {
	v, ok := s.vals[name]
	if !ok || v.IsNull() {
		return def
	}
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		if f <= 0 || f > 3600 {
			s.failf(s.rangeOf(name), name, "must be between 0 and 3600 seconds")
			return def
		}
		return time.Duration(f * float64(time.Second))
	}
	text := s.str(name)
	d, err := timespec.ParseDuration(text)
	if err != nil {
		if s.shown(text) {
			s.failf(s.rangeOf(name), name, "%v", err)
		} else {
			s.failf(s.rangeOf(name), name, "the value is not a duration such as \"10s\" (it is not shown: it matches a secret)")
		}
		return def
	}
	if d > time.Hour {
		s.failf(s.rangeOf(name), name, "at most 1h")
		return def
	}
	return d
}

func (s *settings) smtp() Channel {
	cfg := SMTPConfig{Channel: s.ch.Name, Timeout: s.duration("timeout", DefaultTimeout)}
	from := s.str("from")
	switch {
	case s.failed["from"]:
	case !s.isSet("from"):
		s.failf(s.ch.Range, "from", "an smtp channel needs a from address")
	case from == "":
		s.failf(s.rangeOf("from"), "from", "the from address is empty")
	default:
		if _, err := mail.ParseAddress(from); err != nil {
			if s.shown(from) {
				s.failf(s.rangeOf("from"), "from", "%q is not an address: %v", from, err)
			} else {
				s.failf(s.rangeOf("from"), "from", "the value is not an address (it is not shown: it matches a secret)")
			}
		}
		cfg.From = from
	}
	cfg.Addr = "localhost:25"
	if s.isSet("addr") {
		cfg.Addr = s.str("addr")
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if (err != nil || host == "" || port == "") && !s.failed["addr"] {
		if s.shown(cfg.Addr) {
			s.failf(s.rangeOf("addr"), "addr", "%q is not host:port", cfg.Addr)
		} else {
			s.failf(s.rangeOf("addr"), "addr", "the value is not host:port (it is not shown: it matches a secret)")
		}
	}
	// Empty counts as unset, so that a deployment relaying through a local
	// MTA without AUTH can leave SMTP_USERNAME and SMTP_PASSWORD empty.
	cfg.Username, cfg.Password = s.str("username"), s.str("password")
	switch {
	case s.failed["username"] || s.failed["password"]:
	case cfg.Username != "" && cfg.Password == "":
		s.failf(s.rangeOf("password"), "password", "username is set but password is not (or is empty)")
	case cfg.Username == "" && cfg.Password != "":
		s.failf(s.rangeOf("username"), "username", "password is set but username is not (or is empty)")
	}
	starttls := s.boolean("starttls")
	switch {
	case port == "465":
		// Port 465 is SMTP over TLS from the first byte (RFC 8314).
		if starttls != nil && !*starttls {
			s.failf(s.rangeOf("starttls"), "starttls", "port 465 speaks TLS from the first byte; starttls = false cannot apply")
		}
		cfg.TLS = TLSImplicit
	case starttls == nil:
		cfg.TLS = TLSOpportunistic
	case *starttls:
		cfg.TLS = TLSRequired
	default:
		cfg.TLS = TLSDisabled
	}
	if cfg.TLS == TLSDisabled && cfg.Username != "" && host != "" && !isLocalHost(host) {
		s.failf(s.rangeOf("starttls"), "starttls", "starttls = false would send the password unencrypted to %s; only a local relay (localhost, 127.0.0.1, ::1) may take AUTH without TLS", host)
	}
	if len(s.errs) > 0 {
		return nil
	}
	c, err := NewSMTP(cfg)
	if err != nil {
		s.failf(s.ch.Range, "", "%v", err)
		return nil
	}
	return c
}

func (s *settings) webhook() Channel {
	cfg := WebhookConfig{Channel: s.ch.Name, Timeout: s.duration("timeout", DefaultTimeout)}
	switch {
	case s.failed["url"]:
	case !s.isSet("url"):
		s.failf(s.ch.Range, "url", "a webhook channel needs a url")
	default:
		cfg.URL = s.str("url")
		// The url may carry a token (in its path, query or user info):
		// the message says what is wrong without showing it.
		if _, err := parseWebhookURL(cfg.URL); err != nil {
			s.failf(s.rangeOf("url"), "url", "%v", err)
		}
	}
	if s.isSet("secret") {
		cfg.Secret = s.str("secret")
		if cfg.Secret == "" {
			s.failf(s.rangeOf("secret"), "secret", "the secret is empty: requests would go unsigned; set it, or remove the setting to send unsigned on purpose")
		}
	}
	if len(s.errs) > 0 {
		return nil
	}
	c, err := NewWebhook(cfg)
	if err != nil {
		s.failf(s.ch.Range, "", "%v", err)
		return nil
	}
	return c
}

func (s *settings) twilio() Channel {
	cfg := TwilioConfig{Channel: s.ch.Name, Timeout: s.duration("timeout", DefaultTimeout)}
	for _, name := range []string{"account_sid", "auth_token", "from"} {
		if !s.isSet(name) && !s.failed[name] {
			s.failf(s.ch.Range, name, "a twilio channel needs %s", name)
		}
	}
	cfg.AccountSID, cfg.AuthToken, cfg.From = s.str("account_sid"), s.str("auth_token"), s.str("from")
	if s.isSet("base_url") {
		cfg.BaseURL = s.str("base_url")
	}
	if len(s.errs) > 0 {
		return nil
	}
	c, err := NewTwilio(cfg)
	if err != nil {
		s.failf(s.ch.Range, "", "%v", err)
		return nil
	}
	return c
}

// isLocalHost says host names this machine: the only place a password may
// go without TLS, because the bytes never leave it.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
