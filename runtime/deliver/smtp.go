package deliver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// TLSMode says how an SMTP channel uses TLS.
type TLSMode int

const (
	// TLSOpportunistic upgrades with STARTTLS when the server offers it
	// (starttls unset). Without it, a password is still never sent in the
	// clear to a host that is not local.
	TLSOpportunistic TLSMode = iota
	// TLSRequired fails the attempt when the server does not offer
	// STARTTLS (starttls = true).
	TLSRequired
	// TLSDisabled never upgrades (starttls = false): for a local relay.
	TLSDisabled
	// TLSImplicit speaks TLS from the first byte (port 465, RFC 8314).
	TLSImplicit
)

// SMTPConfig configures an SMTP channel.
type SMTPConfig struct {
	Channel  string // the channel's name, for messages
	Addr     string // host:port of the server
	From     string // the sender, "Name <addr>" or a bare address
	Username string // "" skips AUTH
	Password string
	TLS      TLSMode
	Timeout  time.Duration // one whole conversation; 0 means DefaultTimeout
	// TLSConfig verifies the server; nil means the system roots. Its
	// ServerName defaults to the host of Addr.
	TLSConfig *tls.Config
	// Dial opens the connection; nil means a net.Dialer. Tests use it to
	// reach a local server under a name that is not local.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HelloName is the EHLO argument; "" means this machine's host name.
	HelloName string
	// Now stamps the Date header; nil means time.Now.
	Now func() time.Time
}

// SMTP sends each send as one email, one SMTP conversation per message.
//
// The conversation: greeting, EHLO, STARTTLS when offered (or required),
// EHLO again, AUTH PLAIN when a username is set, MAIL FROM, RCPT TO for
// each recipient, DATA, QUIT. One connection per message keeps a failure
// confined to its message; the volume a journey engine sends to one relay
// does not need pipelining.
type SMTP struct {
	cfg  SMTPConfig
	host string
	from *mail.Address
}

// NewSMTP checks cfg and returns the channel.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: from %q is not an address: %v", cfg.Channel, cfg.From, err)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("smtp %s: addr %q is not host:port", cfg.Channel, cfg.Addr)
	}
	if cfg.TLS == TLSDisabled && cfg.Username != "" && !isLocalHost(host) {
		return nil, fmt.Errorf("smtp %s: TLS is disabled, and a password may go unencrypted only to a local relay, not to %s", cfg.Channel, host)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			cfg.HelloName = h
		}
	}
	if cfg.Dial == nil {
		d := &net.Dialer{}
		cfg.Dial = d.DialContext
	}
	return &SMTP{cfg: cfg, host: host, from: from}, nil
}

// Timeout is how long one attempt (one whole conversation) may take.
func (c *SMTP) Timeout() time.Duration { return c.cfg.Timeout }

func (c *SMTP) tlsConfig() *tls.Config {
	t := &tls.Config{}
	if c.cfg.TLSConfig != nil {
		t = c.cfg.TLSConfig.Clone()
	}
	if t.ServerName == "" {
		t.ServerName = c.host
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	return t
}

// Deliver sends the message. Replies classify the failure: a 5xx is
// permanent, a 4xx and anything on the way (connection, TLS, timeout) is
// retryable. Once the server has accepted the DATA the message is delivered,
// whatever happens to QUIT: retrying then would send it twice.
func (c *SMTP) Deliver(ctx context.Context, s engine.Send) error {
	msg, err := composeMessage(c.from, s, c.cfg.Now())
	if err != nil {
		return Permanent(fmt.Errorf("smtp %s: %w", c.cfg.Channel, err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	conn, err := c.cfg.Dial(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return c.netErr(ctx, "connect", err)
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline bounds every read and write,
	// and cancellation closes the connection under it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	tlsOn := false
	if c.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, c.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return c.netErr(ctx, "TLS handshake", err)
		}
		conn, tlsOn = tc, true
	}
	cl, err := smtp.NewClient(conn, c.host)
	if err != nil {
		return c.replyErr(ctx, "greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello(c.cfg.HelloName); err != nil {
		return c.replyErr(ctx, "EHLO", err)
	}
	if !tlsOn && c.cfg.TLS != TLSDisabled {
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(c.tlsConfig()); err != nil {
				return c.replyErr(ctx, "STARTTLS", err)
			}
			tlsOn = true
		} else if c.cfg.TLS == TLSRequired {
			// Retryable: a relay that lost its certificate for a while,
			// or a network path that strips STARTTLS, may come back.
			return retryablef("smtp %s: the server does not offer STARTTLS, and starttls = true requires it", c.cfg.Addr)
		}
	}
	if c.cfg.Username != "" {
		if !tlsOn && !isLocalHost(c.host) {
			// The same reasoning: never send the password, but a relay
			// that offers STARTTLS again later can still take the message.
			return retryablef("smtp %s: refusing AUTH without TLS: the server does not offer STARTTLS, and the password may go unencrypted only to a local relay", c.cfg.Addr)
		}
		ok, mechs := cl.Extension("AUTH")
		if !ok {
			return permanentf("smtp %s: the channel has a username, but the server offers no AUTH", c.cfg.Addr)
		}
		var auth smtp.Auth
		switch {
		case hasWord(mechs, "PLAIN"):
			auth = plainAuth{user: c.cfg.Username, pass: c.cfg.Password, host: c.host}
		case hasWord(mechs, "LOGIN"):
			// Some relays (older Exchange set-ups among them) offer only
			// LOGIN: the same secrets, asked for one at a time.
			auth = &loginAuth{user: c.cfg.Username, pass: c.cfg.Password, host: c.host}
		default:
			return permanentf("smtp %s: the server offers AUTH %s; waymark speaks PLAIN and LOGIN", c.cfg.Addr, mechs)
		}
		if err := cl.Auth(auth); err != nil {
			return c.replyErr(ctx, "AUTH", err)
		}
	}
	if err := cl.Mail(msg.from); err != nil {
		return c.replyErr(ctx, "MAIL FROM", err)
	}
	for _, rcpt := range msg.to {
		if err := cl.Rcpt(rcpt); err != nil {
			return c.replyErr(ctx, "RCPT TO <"+rcpt+">", err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return c.replyErr(ctx, "DATA", err)
	}
	if _, err := w.Write(msg.data); err != nil {
		return c.netErr(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return c.replyErr(ctx, "end of DATA", err)
	}
	_ = cl.Quit()
	return nil
}

func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if strings.EqualFold(w, word) {
			return true
		}
	}
	return false
}

// replyErr classifies a failed command by the server's reply code.
func (c *SMTP) replyErr(ctx context.Context, step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := fmt.Errorf("smtp %s: %s: %d %s", c.cfg.Addr, step, te.Code, te.Msg)
		if te.Code >= 500 {
			return Permanent(e)
		}
		return Retryable(e)
	}
	return c.netErr(ctx, step, err)
}

// netErr classifies a failure below SMTP: always retryable.
func (c *SMTP) netErr(ctx context.Context, step string, err error) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return retryablef("smtp %s: %s: no answer within %s", c.cfg.Addr, step, c.cfg.Timeout)
	}
	if ctx.Err() != nil {
		return retryablef("smtp %s: %s: %v", c.cfg.Addr, step, ctx.Err())
	}
	return retryablef("smtp %s: %s: %v", c.cfg.Addr, step, err)
}

// plainAuth is SASL PLAIN (RFC 4616). net/smtp has one too; this one keeps
// the rule about where a password may go in this package, with the check
// Deliver makes first, and the check repeated here at the last moment.
type plainAuth struct {
	user, pass, host string
}

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalHost(a.host) {
		return "", nil, errors.New("refusing AUTH PLAIN without TLS")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login): the server
// prompts "Username:" then "Password:". The prompts are read rather than
// counted, since servers vary in how they word them, and anything else is
// refused rather than answered with a secret.
type loginAuth struct {
	user, pass, host string
	step             int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalHost(a.host) {
		return "", nil, errors.New("refusing AUTH LOGIN without TLS")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	prompt := strings.ToLower(strings.TrimSpace(string(challenge)))
	switch {
	case strings.HasPrefix(prompt, "user") || prompt == "" && a.step == 1:
		return []byte(a.user), nil
	case strings.HasPrefix(prompt, "pass") || prompt == "" && a.step == 2:
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN prompt %q", challenge)
}
