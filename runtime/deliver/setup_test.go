package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
)

// setting builds an IR setting as the compiler writes it: source text and
// the position where it starts in the journey file.
func setting(name, src string, line int) ir.Setting {
	return ir.Setting{Name: name, Expr: ir.Expr{Src: src, Range: ir.Range{
		File: "channels.journey.hcl", Start: ir.Pos{Line: line, Col: 14, Byte: line * 40}, End: ir.Pos{Line: line, Col: 14 + len(src)},
	}}}
}

func program(chs ...ir.Channel) *ir.Program {
	for i := range chs {
		chs[i].Range = ir.Range{File: "channels.journey.hcl", Start: ir.Pos{Line: i*10 + 1, Col: 1}}
	}
	return &ir.Program{Format: ir.Format, Channels: chs}
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestSetupEvaluatesSettings(t *testing.T) {
	p := program(
		ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("url", `env("CRM_URL")`, 2),
			setting("secret", `env("CRM_SECRET")`, 3),
			setting("timeout", `"3s"`, 4),
		}},
		ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"Care <care@example.com>"`, 12),
			setting("addr", `env("SMTP_ADDR")`, 13),
			setting("username", `env("SMTP_USERNAME")`, 14),
			setting("password", `env("SMTP_PASSWORD")`, 15),
			setting("starttls", `env("SMTP_STARTTLS")`, 16), // a string from env() converts to bool
			setting("timeout", `duration("1m") / 2`, 17),    // functions work; a number is seconds
		}},
		ir.Channel{Name: "smtps", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"care@example.com"`, 22),
			setting("addr", `"smtp.example.com:465"`, 23),
		}},
		ir.Channel{Name: "relay", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"care@example.com"`, 32),
			setting("username", `""`, 33), // empty: no AUTH
			setting("password", `""`, 34),
		}},
		ir.Channel{Name: "audit", Type: "log"},
	)
	chs, err := Setup(p, envOf(map[string]string{
		"CRM_URL": "https://crm.example.com/hooks/waymark", "CRM_SECRET": "whsec_123",
		"SMTP_ADDR": "smtp.example.com:587", "SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "pw", "SMTP_STARTTLS": "true",
	}), Live, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 5 {
		t.Fatalf("%d channels", len(chs))
	}
	wh, ok := chs["crm"].(*Webhook)
	if !ok || wh.cfg.URL != "https://crm.example.com/hooks/waymark" || wh.cfg.Secret != "whsec_123" || wh.cfg.Timeout != 3*time.Second {
		t.Errorf("crm: %#v", chs["crm"])
	}
	em, ok := chs["email"].(*SMTP)
	if !ok {
		t.Fatalf("email: %T", chs["email"])
	}
	if c := em.cfg; c.Addr != "smtp.example.com:587" || c.From != "Care <care@example.com>" || c.Username != "mailer" ||
		c.Password != "pw" || c.TLS != TLSRequired || c.Timeout != 30*time.Second {
		t.Errorf("email: %+v", c)
	}
	if c := chs["smtps"].(*SMTP).cfg; c.TLS != TLSImplicit || c.Timeout != DefaultTimeout {
		t.Errorf("smtps: %+v", c)
	}
	if c := chs["relay"].(*SMTP).cfg; c.Addr != "localhost:25" || c.Username != "" || c.TLS != TLSOpportunistic {
		t.Errorf("relay: %+v", c)
	}
	if _, ok := chs["audit"].(*LogChannel); !ok {
		t.Errorf("audit: %T", chs["audit"])
	}
}

// examplesDir is the repository's examples/ directory.
func examplesDir(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Skip("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "examples")
}

// A real workspace, compiled by the compiler: with its variables set every
// channel comes up; without them each missing variable is named with its
// channel, setting and place in the file.
func TestSetupExampleWorkspace(t *testing.T) {
	res, diags := compiler.CompileDir(filepath.Join(examplesDir(t), "phone_activation"))
	if diags.HasErrors() || res.Program == nil {
		t.Fatalf("compile: %v", diags)
	}
	env := map[string]string{
		"SMTP_ADDR": "smtp.example.com:587", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "pw-7f3e",
		"SMS_GATEWAY_URL": "https://sms.example.com/send", "SMS_GATEWAY_SECRET": "sms-secret-91",
		"CRM_WEBHOOK_URL": "https://crm.example.com/in", "CRM_WEBHOOK_SECRET": "crm-secret-42",
	}
	chs, err := Setup(res.Program, envOf(env), Live)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"email", "sms", "crm"} {
		if chs[name] == nil {
			t.Errorf("no channel %s", name)
		}
	}

	_, err = Setup(res.Program, envOf(map[string]string{"SMTP_PASSWORD": "pw-7f3e", "SMS_GATEWAY_SECRET": "sms-secret-91"}), Live)
	if err == nil {
		t.Fatal("Setup succeeded without the variables")
	}
	msg := err.Error()
	for _, want := range []string{
		`channels.journey.hcl:4:`, `channel "email" setting addr`, "SMTP_ADDR is not set",
		`channel "email" setting username`, "SMTP_USERNAME",
		`channel "sms" setting url`, "SMS_GATEWAY_URL",
		`channel "crm" setting url`, "CRM_WEBHOOK_URL",
		`channel "crm" setting secret`, "CRM_WEBHOOK_SECRET",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"pw-7f3e", "sms-secret-91"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret: %s", msg)
		}
	}
}

// Whatever goes wrong, no error shows a password, a secret, or the token in
// a webhook URL.
func TestSetupNeverShowsSecrets(t *testing.T) {
	const (
		pass   = "hunter2-Pa55w0rd"
		secret = "whsec-9f8e7d6c5b4a"
		token  = "T0KEN-abc123"
	)
	env := envOf(map[string]string{
		"SMTP_PASSWORD": pass, "HOOK_SECRET": secret, "EMPTY": "",
		"HOOK_URL": "https://user:" + token + "@crm.example.com:bad/" + token,
		"FTP_URL":  "ftp://crm.example.com/" + token,
	})
	cases := []struct {
		name string
		ch   ir.Channel
		want string // part of the error that says what is wrong
	}{
		{"password that is not a number", ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"a@example.com"`, 2),
			setting("username", `"u"`, 3),
			setting("password", `tonumber(env("SMTP_PASSWORD"))`, 4),
		}}, `channel "email" setting password`},
		{"password used in a bad template", ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"a@example.com"`, 2),
			setting("username", `"u"`, 3),
			setting("password", `"${env("SMTP_PASSWORD")}${env("MISSING_VAR")}"`, 4),
		}}, "MISSING_VAR is not set"},
		{"secret spilled into another setting", ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("secret", `env("HOOK_SECRET")`, 2),
			setting("url", `env("HOOK_SECRET")`, 3),
		}}, `channel "crm" setting url`},
		{"secret as a timeout, read before the secret", ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("url", `"https://crm.example.com/"`, 2),
			setting("timeout", `env("HOOK_SECRET")`, 3),
			setting("secret", `env("HOOK_SECRET")`, 4),
		}}, `channel "crm" setting timeout: the value is not a duration`},
		{"password as the from address", ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
			setting("from", `env("SMTP_PASSWORD")`, 2),
			setting("addr", `env("SMTP_PASSWORD")`, 3),
			setting("username", `"u"`, 4),
			setting("password", `env("SMTP_PASSWORD")`, 5),
		}}, `channel "email" setting from: the value is not an address`},
		{"url with credentials that does not parse", ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("url", `env("HOOK_URL")`, 2),
		}}, `channel "crm" setting url: the url does not parse`},
		{"url with a token and the wrong scheme", ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("url", `env("FTP_URL")`, 2),
		}}, "https://"},
		{"empty secret", ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{
			setting("url", `"https://crm.example.com/"`, 2),
			setting("secret", `env("EMPTY")`, 3),
		}}, "the secret is empty"},
	}
	for _, c := range cases {
		_, err := Setup(program(c.ch), env, Live)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: error does not say %q: %s", c.name, c.want, msg)
		}
		// Not even a fragment (a parser quoting where it stopped).
		for _, s := range []string{pass, secret, token, pass[:5], secret[:5], token[:5]} {
			if strings.Contains(msg, s) {
				t.Errorf("%s: error shows %q: %s", c.name, s, msg)
			}
		}
	}
}

func TestSetupRefusesBadChannels(t *testing.T) {
	env := envOf(map[string]string{"X": "x"})
	cases := []struct {
		ch   ir.Channel
		want string
	}{
		{ir.Channel{Name: "sms", Type: "carrier_pigeon"}, `channel "sms": unknown channel type "carrier_pigeon"`},
		{ir.Channel{Name: "audit", Type: "log", Settings: []ir.Setting{setting("url", `"https://x.example"`, 2)}}, "a log channel has no setting url"},
		{ir.Channel{Name: "crm", Type: "webhook"}, `channel "crm" setting url: a webhook channel needs a url`},
		{ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{setting("url", `"https://x.example"`, 2), setting("timeout", `"10 seconds"`, 3)}}, `setting timeout`},
		{ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{setting("url", `customer.crm_url`, 2)}}, `setting url: Variables not allowed`},
		{ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{setting("url", `"https://x.example"`, 2), setting("url", `"https://y.example"`, 3)}}, "setting url: set twice"},
		{ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{setting("url", `"https://x.example" +`, 2)}}, "channels.journey.hcl:2:14: channel \"crm\" setting url"},
		{ir.Channel{Name: "email", Type: "smtp"}, "an smtp channel needs a from address"},
		{ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{setting("from", `"not an address"`, 2)}}, "is not an address"},
		{ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{setting("from", `"a@example.com"`, 2), setting("addr", `"smtp.example.com"`, 3)}}, `"smtp.example.com" is not host:port`},
		{ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{setting("from", `"a@example.com"`, 2), setting("username", `"u"`, 3)}}, "username is set but password is not"},
		{ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{setting("from", `"a@example.com"`, 2), setting("starttls", `"maybe"`, 3)}}, "setting starttls: must be true or false"},
		{ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
			setting("from", `"a@example.com"`, 2), setting("addr", `"smtp.example.com:587"`, 3),
			setting("username", `"u"`, 4), setting("password", `"p"`, 5), setting("starttls", `false`, 6),
		}}, "would send the password unencrypted to smtp.example.com"},
	}
	for _, c := range cases {
		_, err := Setup(program(c.ch), env, Live)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.ch.Name, err, c.want)
		}
	}
	// A local relay may take AUTH without TLS.
	ok := ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{
		setting("from", `"a@example.com"`, 2), setting("addr", `"127.0.0.1:2525"`, 3),
		setting("username", `"u"`, 4), setting("password", `"p"`, 5), setting("starttls", `false`, 6),
	}}
	if _, err := Setup(program(ok), env, Live); err != nil {
		t.Errorf("local relay: %v", err)
	}
}

// Every problem of every channel is reported in one go.
func TestSetupReportsAllProblems(t *testing.T) {
	p := program(
		ir.Channel{Name: "a", Type: "webhook", Settings: []ir.Setting{setting("url", `env("A_URL")`, 2)}},
		ir.Channel{Name: "b", Type: "webhook", Settings: []ir.Setting{setting("url", `env("B_URL")`, 12)}},
	)
	_, err := Setup(p, envOf(nil), Live)
	if err == nil || !strings.Contains(err.Error(), "A_URL") || !strings.Contains(err.Error(), "B_URL") {
		t.Fatalf("err = %v", err)
	}
}

// Log mode routes every channel to a log channel and reads no variable.
func TestSetupLogMode(t *testing.T) {
	p := program(
		ir.Channel{Name: "email", Type: "smtp", Settings: []ir.Setting{setting("password", `env("SMTP_PASSWORD")`, 2)}},
		ir.Channel{Name: "crm", Type: "webhook", Settings: []ir.Setting{setting("url", `env("CRM_URL")`, 12)}},
		ir.Channel{Name: "audit", Type: "log"},
	)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	chs, err := Setup(p, func(name string) (string, bool) {
		t.Errorf("env(%q) read in log mode", name)
		return "", false
	}, Log, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"email", "crm", "audit"} {
		if _, ok := chs[name].(*LogChannel); !ok {
			t.Errorf("%s: %T", name, chs[name])
		}
	}
	send := emailSend("c-1/phone_activation/1/1/activation_guide")
	if err := chs["email"].Deliver(context.Background(), send); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if line["msg"] != "send" || line["key"] != send.Key || line["channel"] != "email" || line["type"] != "smtp" {
		t.Errorf("line %v", line)
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"live": Live, "log": Log} {
		if m, err := ParseMode(s); err != nil || m != want || m.String() != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	if _, err := ParseMode("smtp"); err == nil {
		t.Error("ParseMode accepted smtp")
	}
}

// Secrets are replaced whole and once: overlapping secrets make one mark, a
// secret found inside the mark of another does not garble it, and a short
// secret is taken out only where it stands alone.
func TestRedactorScrub(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"one secret, twice", []string{"s3cret-value"}, `got "s3cret-value", then s3cret-value`, `got "[redacted]", then [redacted]`},
		{"a short secret in the mark", []string{"s3cret-value", "re", "d"}, `value "s3cret-value" is wrong`, `value "[redacted]" is wrong`},
		{"short secret alone and within words", []string{"re"}, `password "re" is not a number; retry`, `password "[redacted]" is not a number; retry`},
		{"short secret at the ends", []string{"pw"}, `pw`, `[redacted]`},
		{"one secret within another", []string{"abc", "xxabcxx"}, `[xxabcxx] and abc.`, `[[redacted]] and [redacted].`},
		{"overlapping secrets", []string{"abcdef12", "cdef1234"}, `key=abcdef1234;`, `key=[redacted];`},
		{"side by side", []string{"tok1", "tok2"}, `tok1tok2 tok2`, `[redacted] [redacted]`},
		{"non-ASCII neighbours", []string{"é1"}, `xé1`, `xé1`},
		{"nothing to do", []string{"secret-x"}, `all fine`, `all fine`},
	}
	for _, tt := range tests {
		r := &redactor{}
		for _, s := range tt.secrets {
			r.add(s)
		}
		if got := r.scrub(tt.in); got != tt.want {
			t.Errorf("%s: scrub(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
