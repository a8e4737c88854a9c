package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// inbox is an SMTP server that keeps every message it is given.
type inbox struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (b *inbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &inboxSession{b: b}, nil }

func (b *inbox) all() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.msgs...)
}

type inboxSession struct{ b *inbox }

func (s *inboxSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *inboxSession) Reset()                                 {}
func (s *inboxSession) Logout() error                          { return nil }
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, data)
	s.b.mu.Unlock()
	return nil
}

const consentWorkspace = `
channel "email" {
  type = "smtp"
  from = "Shop <shop@example.com>"
  addr = env("SMTP_ADDR")
}
topic "marketing" {
  description = "Offers"
}
policy "marketing" {
  topic = topic.marketing
}
event "promo" {}
journey "promo" {
  policy  = policy.marketing
  reentry = "always"
  entry "promo" {}
  stage "s" {
    send "offer" {
      channel = channel.email
      to      = "li@example.com"
      subject = "An offer"
      body    = "Hello. Unsubscribe: ${unsubscribe_url}"
    }
  }
}
`

// A real waymark run and a real SMTP conversation: the mail of a topic
// carries List-Unsubscribe and List-Unsubscribe-Post; POSTing the link as a
// mailbox provider does (RFC 8058) unsubscribes the customer, and the next
// send is dropped as unsubscribed, with no second mail.
func TestOneClickUnsubscribe(t *testing.T) {
	box := &inbox{}
	srv := gosmtp.NewServer(box)
	srv.Domain = "mx.example.com"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	p, addr := startConsentWaymark(t, consentWorkspace, l.Addr().String())

	post(t, p.base+"/v1/track", `{"userId":"u1","event":"promo"}`)
	waitFor(t, "the first mail", func() bool { return len(box.all()) == 1 })
	msg, err := mail.ReadMessage(bytes.NewReader(box.all()[0]))
	if err != nil {
		t.Fatal(err)
	}
	lu, lup := msg.Header.Get("List-Unsubscribe"), msg.Header.Get("List-Unsubscribe-Post")
	if lup != "List-Unsubscribe=One-Click" || !strings.HasPrefix(lu, "<http://"+addr+"/u/v1.") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q, List-Unsubscribe-Post %q", lu, lup)
	}
	link := strings.Trim(lu, "<>")
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil || strings.TrimSpace(string(body)) != "Hello. Unsubscribe: "+link {
		t.Errorf("body %q (%v), want the link of the header in it", body, err)
	}

	// A tampered link is refused and changes nothing.
	res, err := http.Post(link+"x", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("tampered link: %d, want 400", res.StatusCode)
	}
	// The one-click POST, as a mailbox provider sends it.
	res, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("one-click POST: %d", res.StatusCode)
	}

	post(t, p.base+"/v1/track", `{"userId":"u1","event":"promo"}`)
	var doc struct {
		Subscriptions map[string]string `json:"subscriptions"`
		Sends         []struct{ Name, Fate string }
	}
	waitFor(t, "the second send decided", func() bool {
		res, err := http.Get(p.base + "/v1/customers/u1")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		doc.Sends = nil
		json.NewDecoder(res.Body).Decode(&doc)
		return len(doc.Sends) == 2
	})
	if doc.Sends[0].Fate != "deliver" || doc.Sends[1].Fate != "unsubscribed" || doc.Subscriptions["marketing"] != "unsubscribed" {
		t.Errorf("sends %+v, subscriptions %v", doc.Sends, doc.Subscriptions)
	}
	time.Sleep(200 * time.Millisecond) // a second mail, if one were sent, would arrive now
	if n := len(box.all()); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
}

// linkSecret is the WAYMARK_LINK_SECRET of startConsentWaymark's servers.
const linkSecret = "e2e-link-secret-0123456789"

// startConsentWaymark starts `waymark run` on workspace (one
// main.journey.hcl) with unsubscribe links on (--public-url and
// WAYMARK_LINK_SECRET), its email going to the SMTP server at smtpAddr.
// It returns the process and the host:port it listens on.
func startConsentWaymark(t *testing.T, workspace, smtpAddr string) (*proc, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.journey.hcl"), []byte(workspace), 0o644); err != nil {
		t.Fatal(err)
	}
	// The public URL must be known before the start: take a free port.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	p := startWaymark(t, []string{"SMTP_ADDR=" + smtpAddr, "WAYMARK_LINK_SECRET=" + linkSecret}, nil,
		"--listen", addr, "--public-url", "http://"+addr, "--store", "sqlite:"+filepath.Join(dir, "w.db"), dir)
	return p, addr
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A server started without --public-url and WAYMARK_LINK_SECRET, its
// email of no topic, refuses a hot reload that makes the email one of a
// topic (such mail would go out without a working unsubscribe link):
// /v1/status shows the refusal and why, and the running program keeps
// its version and serving.
func TestReloadRefusesTopicEmailWithoutLinks(t *testing.T) {
	noTopic := strings.Replace(consentWorkspace, "  policy  = policy.marketing\n", "", 1)
	if noTopic == consentWorkspace {
		t.Fatal("the workspace's journey no longer has the policy line this test removes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "main.journey.hcl")
	writeFile(t, path, noTopic)
	// Nothing is sent here: the SMTP address is never dialled.
	p := startWaymark(t, []string{"SMTP_ADDR=127.0.0.1:9", "WAYMARK_LINK_SECRET="}, nil,
		"--deliver", "live", "--store", "sqlite:"+filepath.Join(t.TempDir(), "w.db"), dir)
	c := newClient(p.base)
	var before statusDoc
	c.getJSON(t, "/v1/status", &before)

	writeFile(t, path, consentWorkspace)
	var after statusDoc
	eventually(t, time.Minute, func() error {
		c.getJSON(t, "/v1/status", &after)
		if after.Refused == nil {
			return errNotYet
		}
		return nil
	})
	if want := "send promo/offer is email of a topic, which needs --public-url and $WAYMARK_LINK_SECRET"; !strings.Contains(after.Refused.Error, want) {
		t.Errorf("the refusal says %q, want it to contain %q", after.Refused.Error, want)
	}
	if after.Version != before.Version || after.Reloads != before.Reloads {
		t.Errorf("after the refused edit: version %s, %d reloads; before: %s, %d", after.Version, after.Reloads, before.Version, before.Reloads)
	}
	// Serving goes on with the old program.
	post(t, p.base+"/v1/track", `{"userId":"u1","event":"promo"}`)
	waitFor(t, "the event applied", func() bool {
		doc, err := c.tryCustomer("u1")
		return err == nil && len(doc.Sends) == 1
	})
}
