package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waymark-dev/waymark/internal/testtool"
	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
)

// TestPreferencePageInBrowser opens a customer's unsubscribe link in
// headless Chromium against a real `waymark run`: the page lists every
// topic with its description and the customer's status, the form (no
// script) unsubscribes from one topic, the page after the redirect says
// so, the admin API agrees, and a tampered link shows a 400 page.
func TestPreferencePageInBrowser(t *testing.T) {
	chromium := testtool.Require(t, "chromium", "chromium")
	workspace := consentWorkspace + `
topic "news" {
  description = "Product news"
}
`
	// Nothing is sent here: the SMTP address is never dialled.
	p, _ := startConsentWaymark(t, workspace, "127.0.0.1:9")
	post(t, p.base+"/v1/identify", `{"userId":"li","traits":{"email":"li@example.com"}}`)
	c := newClient(p.base)
	waitFor(t, "the customer stored", func() bool { _, err := c.tryCustomer("li"); return err == nil })

	signer, err := linktoken.New([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	link := "/u/" + signer.Token("li", "marketing")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	br := newBrowser(ctx, t, chromium, p.base)

	// What li sees: both topics, described, both subscribed (the default).
	br.open(link)
	br.sees("the preference page", "Your subscriptions", "marketing: Offers", "news: Product news", "Subscribed", "Unsubscribed", "Save")
	checked := func() map[string]string {
		t.Helper()
		got, err := chromedp.Run(br.ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
			[...document.querySelectorAll('input[type=radio]:checked')].map(e => [e.name, e.value]))`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := checked(); got["topic.marketing"] != "subscribed" || got["topic.news"] != "subscribed" || len(got) != 2 {
		t.Errorf("checked before the change: %v, want both topics subscribed", got)
	}
	if strings.Contains(br.text(), "Saved.") {
		t.Error("the page says Saved. before anything was saved")
	}

	// Unsubscribe from marketing with the form: a click on the label, Save.
	if err := chromedp.Do(br.ctx, chromedp.Click(chromedp.CSS(`input[name="topic.marketing"][value=unsubscribed]`))); err != nil {
		t.Fatal(err)
	}
	br.submit(`form button[type=submit]`)
	if loc := br.location(); loc != link+"?saved=1" {
		t.Errorf("after Save the page is %q, want %q", loc, link+"?saved=1")
	}
	br.sees("after Save", "Saved.")
	if got := checked(); got["topic.marketing"] != "unsubscribed" || got["topic.news"] != "subscribed" {
		t.Errorf("checked after the change: %v, want marketing unsubscribed, news subscribed", got)
	}
	var doc struct {
		Subscriptions map[string]string `json:"subscriptions"`
	}
	c.getJSON(t, "/v1/customers/li", &doc)
	if doc.Subscriptions["marketing"] != "unsubscribed" || doc.Subscriptions["news"] != "subscribed" {
		t.Errorf("the admin API's subscriptions: %v, want marketing unsubscribed, news subscribed", doc.Subscriptions)
	}

	// A tampered link: a 400 page saying so, and no form.
	br.open(link + "x")
	if body := br.text(); !strings.Contains(body, "the link is not valid") || strings.Contains(body, "Your subscriptions") {
		t.Errorf("a tampered link shows:\n%s", body)
	}
	br.watch.mu.Lock()
	problems := br.watch.problems
	br.watch.problems = nil // the 400 is logged as a failed load: expected, and checked here
	br.watch.mu.Unlock()
	// The 400 is plain text, with no icon link: the browser's asking for
	// /favicon.ico there is expected too.
	var failed400 int
	for _, pr := range problems {
		switch {
		case strings.Contains(pr, "status of 400") && strings.HasSuffix(pr, link+"x"):
			failed400++
		case strings.Contains(pr, "status of 404") && strings.HasSuffix(pr, "/favicon.ico"):
		default:
			t.Errorf("a tampered link: the browser logged %q", pr)
		}
	}
	if failed400 != 1 {
		t.Errorf("a tampered link: the browser logged %q, want one failed load with status 400", problems)
	}
	res, err := http.Get(p.base + link + "x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a tampered link: status %d, want 400", res.StatusCode)
	}
	br.sawRequests()
}
