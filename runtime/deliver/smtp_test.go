package deliver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// The test server is github.com/emersion/go-smtp, a separate implementation
// of the protocol, listening on 127.0.0.1: every test below is a real SMTP
// conversation over TCP.

const (
	mailHost = "mail.waymark.test" // the name the client uses; a Dial hook takes it to 127.0.0.1
	smtpUser = "waymark"
	smtpPass = "s3cret-Passw0rd"
)

// mailbox records what the server saw.
type mailbox struct {
	mu       sync.Mutex
	msgs     []gotMail
	auths    []gotAuth
	mails    int // MAIL commands that reached the backend
	sessions int
}

type gotAuth struct {
	user, pass string
	tls        bool
}

type gotMail struct {
	helo    string
	tls     bool // the connection was TLS when MAIL FROM came
	authed  string
	from    string
	to      []string
	data    []byte
	tlsName string
}

func (m *mailbox) snapshot() ([]gotMail, []gotAuth, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]gotMail(nil), m.msgs...), append([]gotAuth(nil), m.auths...), m.mails
}

// backend answers as configured: errors for MAIL, RCPT, DATA or AUTH.
type backend struct {
	box                                *mailbox
	mailErr, rcptErr, dataErr, authErr error
	// mechs are the AUTH mechanisms offered (default PLAIN).
	mechs []string
	// mailFn, when set, answers MAIL FROM (n counts from 1).
	mailFn func(n int) error
}

func (b *backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	b.box.mu.Lock()
	b.box.sessions++
	b.box.mu.Unlock()
	return &session{b: b, c: c}, nil
}

type session struct {
	b      *backend
	c      *gosmtp.Conn
	authed string
	cur    gotMail
}

func (s *session) AuthMechanisms() []string {
	if s.b.mechs != nil {
		return s.b.mechs
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(identity, user, pass string) error {
		_, isTLS := s.c.TLSConnectionState()
		s.b.box.mu.Lock()
		s.b.box.auths = append(s.b.box.auths, gotAuth{user: user, pass: pass, tls: isTLS})
		s.b.box.mu.Unlock()
		if s.b.authErr != nil {
			return s.b.authErr
		}
		if user != smtpUser || pass != smtpPass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = user
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(check), nil
}

// loginServer is the server side of AUTH LOGIN, which go-sasl no longer
// has: two prompts, then the credentials are checked.
type loginServer struct {
	check func(identity, user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	l.step++
	switch l.step {
	case 1:
		if response != nil { // an initial response is not part of LOGIN
			return nil, true, errors.New("unexpected initial response")
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check("", l.user, string(response))
	}
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	s.b.box.mu.Lock()
	s.b.box.mails++
	n := s.b.box.mails
	s.b.box.mu.Unlock()
	if s.b.mailErr != nil {
		return s.b.mailErr
	}
	if s.b.mailFn != nil {
		if err := s.b.mailFn(n); err != nil {
			return err
		}
	}
	st, isTLS := s.c.TLSConnectionState()
	s.cur = gotMail{helo: s.c.Hostname(), tls: isTLS, tlsName: st.ServerName, authed: s.authed, from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	s.cur.data = data
	s.b.box.mu.Lock()
	s.b.box.msgs = append(s.b.box.msgs, s.cur)
	s.b.box.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = gotMail{} }
func (s *session) Logout() error { return nil }

// serverOpts says how the test server listens.
type serverOpts struct {
	cert              *tls.Certificate // offer STARTTLS with it
	implicitTLS       bool             // TLS from the first byte, with cert
	allowInsecureAuth bool             // advertise AUTH before TLS
}

// startSMTP starts a server on 127.0.0.1 and returns its address.
func startSMTP(t *testing.T, be *backend, o serverOpts) string {
	t.Helper()
	srv := gosmtp.NewServer(be)
	srv.Domain = mailHost
	srv.AllowInsecureAuth = o.allowInsecureAuth
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var l net.Listener
	var err error
	switch {
	case o.implicitTLS:
		l, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*o.cert}})
	default:
		if o.cert != nil {
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*o.cert}}
		}
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// selfSigned makes a certificate for mailHost, and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: mailHost},
		DNSNames:              []string{mailHost},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// dialTo connects to real whatever address the client asks for, and counts
// the connections.
func dialTo(real string, count *atomic.Int32) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		if count != nil {
			count.Add(1)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}
}

func emailSend(key string) engine.Send {
	return engine.Send{
		Key: key, Journey: "phone_activation", Instance: "c-1/phone_activation/1", Stage: "guide",
		Name: "activation_guide", Channel: "email", ChannelType: "smtp", Fate: engine.FateDeliver, At: t0,
		Fields: map[string]any{
			"to":       "Jürgen Krämer <juergen@example.com>",
			"reply_to": "Care Team <care-replies@orbitmobile.example>",
			"subject":  "Willkommen, Jürgen — drei Schritte zur Aktivierung",
			"body": "Hallo Jürgen,\n\n.this line starts with a dot\n" +
				strings.Repeat("a long line without breaks ", 20) + "\n\nGrüße\n",
		},
	}
}

func mustSMTP(t *testing.T, cfg SMTPConfig) *SMTP {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Orbit Care <care@orbitmobile.example>"
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "waymark.client.test"
	}
	c, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseMail(t *testing.T, data []byte) *mail.Message {
	t.Helper()
	for i, line := range bytes.Split(data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
		for _, b := range line {
			if b >= 0x80 || b == '\n' || b == '\r' {
				t.Fatalf("line %d holds a raw byte %#x: %q", i, b, line)
			}
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPStartTLSAuthAndMessage(t *testing.T) {
	cert, pool := selfSigned(t)
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box}, serverOpts{cert: cert})
	c := mustSMTP(t, SMTPConfig{
		Channel: "email", Addr: mailHost + ":587", Username: smtpUser, Password: smtpPass,
		TLSConfig: &tls.Config{RootCAs: pool}, Dial: dialTo(addr, nil),
	})
	send := emailSend("c-1/phone_activation/1/1/activation_guide")
	for range 2 { // a redelivery: the same Message-ID
		if err := c.Deliver(context.Background(), send); err != nil {
			t.Fatal(err)
		}
	}
	msgs, auths, _ := box.snapshot()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if len(auths) != 2 || auths[0] != (gotAuth{user: smtpUser, pass: smtpPass, tls: true}) {
		t.Fatalf("auths %+v, want PLAIN over TLS", auths)
	}
	got := msgs[0]
	if !got.tls || got.tlsName != mailHost || got.authed != smtpUser || got.helo != "waymark.client.test" {
		t.Errorf("session: %+v", got)
	}
	if got.from != "care@orbitmobile.example" || len(got.to) != 1 || got.to[0] != "juergen@example.com" {
		t.Errorf("envelope from %q to %q", got.from, got.to)
	}

	m := parseMail(t, got.data)
	h := m.Header
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != send.Fields["subject"] {
		t.Errorf("Subject %q decodes to %q (%v)", h.Get("Subject"), subject, err)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("Subject is not RFC 2047 encoded: %q", h.Get("Subject"))
	}
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Orbit Care" || from.Address != "care@orbitmobile.example" {
		t.Errorf("From %q: %v %v", h.Get("From"), from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Jürgen Krämer" || to[0].Address != "juergen@example.com" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	rt, err := h.AddressList("Reply-To")
	if err != nil || len(rt) != 1 || rt[0].Address != "care-replies@orbitmobile.example" {
		t.Errorf("Reply-To %q", h.Get("Reply-To"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(t0) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); id != MessageID(send.Key, "care@orbitmobile.example") || !strings.HasSuffix(id, "@orbitmobile.example>") {
		t.Errorf("Message-ID %q", id)
	}
	if k := h.Get("X-Waymark-Key"); k != send.Key {
		t.Errorf("X-Waymark-Key %q", k)
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("MIME headers %v", h)
	}
	body := decodeQP(t, m.Body)
	if want := send.Fields["body"].(string); body != want {
		t.Errorf("body\n got %q\nwant %q", body, want)
	}
	second := parseMail(t, msgs[1].data)
	if second.Header.Get("Message-ID") != h.Get("Message-ID") {
		t.Errorf("redelivery has another Message-ID: %q vs %q", second.Header.Get("Message-ID"), h.Get("Message-ID"))
	}
}

// decodeQP reads a quoted-printable body and normalises CRLF to LF.
func decodeQP(t *testing.T, r io.Reader) string {
	t.Helper()
	// multipart's part reader decodes quoted-printable itself; for a
	// single-part body, wrap it in one part to reuse that decoder.
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	const b = "qp-boundary"
	wrapped := "--" + b + "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + string(raw) + "\r\n--" + b + "--\r\n"
	p, err := multipart.NewReader(strings.NewReader(wrapped), b).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

func TestSMTPMultipartWhenHTML(t *testing.T) {
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box}, serverOpts{})
	c := mustSMTP(t, SMTPConfig{Channel: "email", Addr: addr})
	send := emailSend("k-html")
	send.Fields["html"] = "<p>Hallo <b>Jürgen</b></p>\n<p>" + strings.Repeat("x", 300) + "</p>\n"
	if err := c.Deliver(context.Background(), send); err != nil {
		t.Fatal(err)
	}
	msgs, _, _ := box.snapshot()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := parseMail(t, msgs[0].data)
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // NextPart decodes quoted-printable
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if len(types) != 2 || types[0] != "text/plain; charset=utf-8" || types[1] != "text/html; charset=utf-8" {
		t.Fatalf("parts %v", types)
	}
	if bodies[0] != send.Fields["body"] || bodies[1] != send.Fields["html"] {
		t.Errorf("parts\n%q\n%q", bodies[0], bodies[1])
	}
}

// Without STARTTLS a password never goes to a host that is not local: the
// attempt fails before AUTH, and nothing is sent.
func TestSMTPRefusesPlaintextAuthToRemoteHost(t *testing.T) {
	for _, mode := range []TLSMode{TLSOpportunistic, TLSRequired} {
		box := &mailbox{}
		addr := startSMTP(t, &backend{box: box}, serverOpts{allowInsecureAuth: true}) // advertises AUTH, no STARTTLS
		c := mustSMTP(t, SMTPConfig{
			Channel: "email", Addr: mailHost + ":587", Username: smtpUser, Password: smtpPass,
			TLS: mode, Dial: dialTo(addr, nil),
		})
		err := c.Deliver(context.Background(), emailSend("k"))
		if err == nil || IsPermanent(err) {
			t.Fatalf("mode %d: err = %v, want a retryable refusal", mode, err)
		}
		if !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("mode %d: %v", mode, err)
		}
		if strings.Contains(err.Error(), smtpPass) {
			t.Errorf("the error shows the password")
		}
		msgs, auths, mails := box.snapshot()
		if len(auths) != 0 || mails != 0 || len(msgs) != 0 {
			t.Errorf("mode %d: server saw auth %v, %d MAIL", mode, auths, mails)
		}
	}
	// Nor can such a channel be made with TLS switched off.
	if _, err := NewSMTP(SMTPConfig{Channel: "email", Addr: mailHost + ":25", From: "a@b.example", Username: "u", Password: "p", TLS: TLSDisabled}); err == nil {
		t.Error("NewSMTP accepted AUTH without TLS to a remote host")
	}
}

// A relay on this machine may take AUTH without TLS: the bytes never leave it.
func TestSMTPPlaintextAuthToLocalhost(t *testing.T) {
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box}, serverOpts{allowInsecureAuth: true})
	c := mustSMTP(t, SMTPConfig{Channel: "email", Addr: addr, Username: smtpUser, Password: smtpPass, TLS: TLSDisabled})
	if err := c.Deliver(context.Background(), emailSend("k")); err != nil {
		t.Fatal(err)
	}
	msgs, auths, _ := box.snapshot()
	if len(msgs) != 1 || msgs[0].tls || msgs[0].authed != smtpUser || len(auths) != 1 || auths[0].tls {
		t.Fatalf("msgs %+v auths %+v", msgs, auths)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box}, serverOpts{cert: cert, implicitTLS: true})
	c := mustSMTP(t, SMTPConfig{
		Channel: "email", Addr: mailHost + ":465", Username: smtpUser, Password: smtpPass, TLS: TLSImplicit,
		TLSConfig: &tls.Config{RootCAs: pool}, Dial: dialTo(addr, nil),
	})
	if err := c.Deliver(context.Background(), emailSend("k")); err != nil {
		t.Fatal(err)
	}
	msgs, auths, _ := box.snapshot()
	if len(msgs) != 1 || !msgs[0].tls || len(auths) != 1 || !auths[0].tls {
		t.Fatalf("msgs %+v auths %+v", msgs, auths)
	}
}

// A relay that offers only LOGIN gets the same credentials through it, over
// TLS, and the message goes out.
func TestSMTPAuthLogin(t *testing.T) {
	cert, pool := selfSigned(t)
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box, mechs: []string{sasl.Login}}, serverOpts{cert: cert})
	c := mustSMTP(t, SMTPConfig{
		Channel: "email", Addr: mailHost + ":587", Username: smtpUser, Password: smtpPass,
		TLSConfig: &tls.Config{RootCAs: pool}, Dial: dialTo(addr, nil),
	})
	if err := c.Deliver(context.Background(), emailSend("k")); err != nil {
		t.Fatal(err)
	}
	msgs, auths, _ := box.snapshot()
	if len(auths) != 1 || auths[0] != (gotAuth{user: smtpUser, pass: smtpPass, tls: true}) {
		t.Fatalf("auths %+v, want LOGIN over TLS with the channel's credentials", auths)
	}
	if len(msgs) != 1 || msgs[0].authed != smtpUser {
		t.Fatalf("msgs %+v", msgs)
	}
}

// A certificate the client does not trust stops the conversation before
// AUTH: retryable (certificates get fixed), and the password stays home.
func TestSMTPUntrustedCertificate(t *testing.T) {
	cert, _ := selfSigned(t)
	box := &mailbox{}
	addr := startSMTP(t, &backend{box: box}, serverOpts{cert: cert})
	c := mustSMTP(t, SMTPConfig{
		Channel: "email", Addr: mailHost + ":587", Username: smtpUser, Password: smtpPass,
		TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}, Dial: dialTo(addr, nil),
	})
	err := c.Deliver(context.Background(), emailSend("k"))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a retryable certificate error", err)
	}
	if _, auths, mails := box.snapshot(); len(auths) != 0 || mails != 0 {
		t.Errorf("server saw auth %v, %d MAIL", auths, mails)
	}
}

func TestSMTPReplyCodes(t *testing.T) {
	smtpErr := func(code int, msg string) error {
		return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}
	cases := []struct {
		name string
		be   backend
		pass string
		perm bool
		want string
	}{
		{name: "MAIL 451", be: backend{mailErr: smtpErr(451, "try later")}, want: "MAIL FROM: 451"},
		{name: "MAIL 550", be: backend{mailErr: smtpErr(550, "sender rejected")}, perm: true, want: "MAIL FROM: 550"},
		{name: "RCPT 550", be: backend{rcptErr: smtpErr(550, "no such user")}, perm: true, want: "RCPT TO <juergen@example.com>: 550"},
		{name: "RCPT 452", be: backend{rcptErr: smtpErr(452, "mailbox full")}, want: "RCPT TO <juergen@example.com>: 452"},
		{name: "DATA 554", be: backend{dataErr: smtpErr(554, "spam")}, perm: true, want: "end of DATA: 554"},
		{name: "DATA 421", be: backend{dataErr: smtpErr(421, "shutting down")}, want: "end of DATA: 421"},
		{name: "AUTH 535", pass: "wrong", perm: true, want: "AUTH: 535"},
		{name: "AUTH 454", be: backend{authErr: smtpErr(454, "temporary auth failure")}, want: "AUTH: 454"},
		{name: "AUTH LOGIN 535", be: backend{mechs: []string{sasl.Login}}, pass: "wrong", perm: true, want: "AUTH: 535"},
		{name: "AUTH CRAM-MD5 only", be: backend{mechs: []string{"CRAM-MD5"}}, perm: true, want: "offers AUTH CRAM-MD5; waymark speaks PLAIN and LOGIN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := tc.be
			be.box = &mailbox{}
			addr := startSMTP(t, &be, serverOpts{allowInsecureAuth: true})
			pass := smtpPass
			if tc.pass != "" {
				pass = tc.pass
			}
			c := mustSMTP(t, SMTPConfig{Channel: "email", Addr: addr, Username: smtpUser, Password: pass})
			err := c.Deliver(context.Background(), emailSend("k"))
			if err == nil || IsPermanent(err) != tc.perm || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (permanent %v), want %q permanent=%v", err, IsPermanent(err), tc.want, tc.perm)
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("the error shows the password")
			}
		})
	}
}

// A server that accepts the connection and never speaks: the attempt ends
// at the channel's timeout, retryable.
func TestSMTPTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, bufio.NewReader(c)); c.Close() }()
		}
	}()
	c := mustSMTP(t, SMTPConfig{Channel: "email", Addr: l.Addr().String(), Timeout: 150 * time.Millisecond})
	start := time.Now()
	err = c.Deliver(context.Background(), emailSend("k"))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "no answer within 150ms") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v", el)
	}
}

// A send whose fields cannot make a message fails permanently without a
// connection.
func TestSMTPBadFieldsArePermanent(t *testing.T) {
	var dials atomic.Int32
	c := mustSMTP(t, SMTPConfig{Channel: "email", Addr: mailHost + ":25", Dial: dialTo("127.0.0.1:1", &dials)})
	for name, f := range map[string]func(map[string]any){
		"no to":       func(m map[string]any) { delete(m, "to") },
		"bad to":      func(m map[string]any) { m["to"] = "not an address" },
		"number to":   func(m map[string]any) { m["to"] = int64(3) },
		"no body":     func(m map[string]any) { delete(m, "body") },
		"list html":   func(m map[string]any) { m["html"] = []any{"x"} },
		"bad replyto": func(m map[string]any) { m["reply_to"] = "@@" },
	} {
		send := emailSend("k")
		f(send.Fields)
		if err := c.Deliver(context.Background(), send); !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
	if dials.Load() != 0 {
		t.Errorf("%d connections were made", dials.Load())
	}
}

// The dispatcher and the SMTP channel together: a 4xx is retried, and the
// retry arrives with the same Message-ID.
func TestSMTPThroughDispatcher(t *testing.T) {
	box := &mailbox{}
	be := &backend{box: box, mailFn: func(n int) error {
		if n == 1 {
			return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
		}
		return nil
	}}
	addr := startSMTP(t, be, serverOpts{})
	st := newMemStore()
	send := emailSend("c-1/phone_activation/1/1/activation_guide")
	st.add(send, t0)
	d := New(st, map[string]Channel{"email": mustSMTP(t, SMTPConfig{Channel: "email", Addr: addr})}, Options{
		PollInterval: 2 * time.Millisecond, Rand: func() float64 { return 0 }, Logger: quietLogger(),
	})
	startDispatcher(t, d)
	s := waitSettled(t, st, 2)
	if s[0].Op != "retry" || !strings.Contains(s[0].Error, "451") || s[1].Op != "delivered" {
		t.Fatalf("settlements %+v", s)
	}
	msgs, _, mails := box.snapshot()
	if len(msgs) != 1 || mails != 2 {
		t.Fatalf("%d messages, %d MAIL commands", len(msgs), mails)
	}
	if id := parseMail(t, msgs[0].data).Header.Get("Message-ID"); id != MessageID(send.Key, "care@orbitmobile.example") {
		t.Errorf("Message-ID %q", id)
	}
}
