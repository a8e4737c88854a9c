package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// readmeCalls are the README's quickstart calls: `curl -s
// localhost:8080/v1/PATH -H ... \ -d 'BODY'`, as path and body, in order.
func readmeCalls(t *testing.T) [][2]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`curl -s localhost:8080(/v1/(?:track|identify|batch)) [^\n]*\\\n\s*-d '([^']*)'`)
	var calls [][2]string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		calls = append(calls, [2]string{m[1], m[2]})
	}
	if len(calls) == 0 {
		t.Fatal("README.md holds no quickstart calls (curl -s localhost:8080/v1/... -d '...')")
	}
	return calls
}

// lines is a process's standard output, one JSON record a line, safe to
// read while the process writes.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// find waits up to 10s for a record with these members and returns it.
func (l *lines) find(t *testing.T, want map[string]string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
		l.mu.Unlock()
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			match := true
			for k, v := range want {
				if fmt.Sprint(rec[k]) != v {
					match = false
				}
			}
			if match {
				return rec
			}
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no line with %v on standard output:\n%s", want, l.buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, url, body string) []byte {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("POST %s %s: %d %s", url, body, res.StatusCode, out)
	}
	return out
}

// The README's quickstart, run as a newcomer would at 23:30 in the
// customer's zone (Europe/Paris, under the marketing policy's quiet hours),
// on a manual clock: the terminal shows a send anyway (the support case's
// acknowledgement), and the held activation guide is explained rather
// than silent. Then the clock moves to 08:00, when the guide is dropped
// as suppressed because the case is still open.
func TestQuickstartAtNight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	calls := readmeCalls(t)
	var out lines
	p := startWaymark(t, nil, &out, "--clock", "manual", "--deliver", "log", copyDir(t, filepath.Join("..", "..", "examples", "phone_activation")))

	// Move the clock to the next 23:30 in Paris.
	var clock struct {
		Clock string
		Now   time.Time
		Fired int
	}
	newClient(p.base).getJSON(t, "/v1/clock", &clock)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	local := clock.Now.In(paris)
	night := time.Date(local.Year(), local.Month(), local.Day(), 23, 30, 0, 0, paris)
	if night.Before(clock.Now) {
		night = night.AddDate(0, 0, 1)
	}
	if err := json.Unmarshal(post(t, p.base+"/v1/clock", `{"to":"`+night.Format(time.RFC3339)+`"}`), &clock); err != nil {
		t.Fatal(err)
	}
	if clock.Clock != "manual" || !clock.Now.Equal(night) {
		t.Fatalf("the clock is at %s, want %s", clock.Now, night)
	}

	for _, c := range calls {
		post(t, p.base+c[0], c[1])
	}
	// A send shows whatever the hour, with what a person looks for.
	ack := out.find(t, map[string]string{"msg": "send", "name": "ticket_received"})
	for k, want := range map[string]string{"channel": "email", "type": "smtp", "to": "li@example.com", "journey": "support_case"} {
		if fmt.Sprint(ack[k]) != want {
			t.Errorf("%s = %v, want %s", k, ack[k], want)
		}
	}
	if subject, _ := ack["subject"].(string); !strings.Contains(subject, "t-7") {
		t.Errorf("subject %q does not hold the ticket id", subject)
	}
	if preview, _ := ack["preview"].(string); !strings.HasPrefix(preview, "Hi Li, Thanks for getting in touch.") || strings.ContainsAny(preview, "<>") {
		t.Errorf("preview %q is not the start of the rendered text", preview)
	}
	// The marketing email is held, and the line says why and until when.
	held := out.find(t, map[string]string{"msg": "send held", "name": "activation_guide"})
	if reason, _ := held["reason"].(string); reason != "quiet hours 21:00-08:00 in Europe/Paris" {
		t.Errorf("held reason %q", reason)
	}
	eight := time.Date(night.Year(), night.Month(), night.Day()+1, 8, 0, 0, 0, paris)
	if until, _ := held["until"].(string); until != eight.UTC().Format(time.RFC3339) {
		t.Errorf("held until %q, want %s", until, eight.UTC().Format(time.RFC3339))
	}

	// At 08:00 the case is still open: the guide is dropped as suppressed.
	if err := json.Unmarshal(post(t, p.base+"/v1/clock", `{"advance":"9h"}`), &clock); err != nil {
		t.Fatal(err)
	}
	if clock.Fired != 1 {
		t.Errorf("advancing to 08:30 fired %d wakes, want 1 (the held guide)", clock.Fired)
	}
	sup := out.find(t, map[string]string{"msg": "send suppressed", "name": "activation_guide"})
	if reason, _ := sup["reason"].(string); !strings.Contains(reason, "support_case") {
		t.Errorf("suppressed reason %q", reason)
	}
	if code := p.terminate(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	// The manual clock ran on a temporary store, removed at exit.
	store := ""
	for _, rec := range p.logs {
		if rec["msg"] != nil && strings.HasPrefix(rec["msg"].(string), "manual clock:") {
			store, _ = rec["temporary_store"].(string)
		}
	}
	if store == "" {
		t.Fatalf("no temporary store logged:\n%s", p.stderr())
	}
	if _, err := os.Stat(filepath.Dir(store)); !os.IsNotExist(err) {
		t.Errorf("the temporary store %s is still there after exit (%v)", store, err)
	}
}
