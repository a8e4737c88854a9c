package simtest

import (
	"strings"
	"testing"
)

const consentWorkspace = `
event "go" {}
event "done" {}
channel "log" {
  type = "log"
}
topic "news" {}
policy "p" {
  topic = topic.news
}
journey "j" {
  policy  = policy.p
  reentry = "always"
  entry "go" {}
  goal "done" {}
  stage "s" {
    send "hello" {
      channel = channel.log
      data    = { id = customer.id }
    }
  }
}
`

// The subscription step changes consent in order with the other steps,
// and expect's unsubscribed lists exactly the sends dropped for it.
func TestSubscriptionStep(t *testing.T) {
	tests := []struct {
		name, steps string
		failures    []string // messages of the expected failures
	}{
		{"opted out, nothing more", `
  event "go" {}
  expect { sent = ["hello"] }
  subscription {
    topic  = "news"
    status = "unsubscribed"
  }
  event "go" {}
  expect {
    sent         = []
    unsubscribed = ["hello"]
  }
  subscription {
    topic  = "news"
    status = "subscribed"
  }
  event "go" {}
  expect {
    sent         = ["hello"]
    unsubscribed = []
  }`, nil},
		{"a wrong unsubscribed list fails", `
  subscription {
    topic  = "news"
    status = "unsubscribed"
  }
  event "go" {}
  expect { unsubscribed = [] }`, []string{"sends dropped as unsubscribed since the previous expect"}},
		{"a wrong sent list fails once unsubscribed", `
  subscription {
    topic  = "news"
    status = "unsubscribed"
  }
  event "go" {}
  expect { sent = ["hello"] }`, []string{"sends since the previous expect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, ws := compile(t, map[string]string{
				"main.journey.hcl": consentWorkspace,
				"main.journeytest.hcl": `test "t" {
  start    = "2026-01-05T10:00:00Z"
  customer = { id = "c-1" }
` + tc.steps + "\n}\n",
			})
			res := Run(eng, ws.Tests[0])
			var got []string
			for _, f := range res.Failures {
				got = append(got, f.Message)
			}
			if strings.Join(got, "\n") != strings.Join(tc.failures, "\n") {
				t.Errorf("failures %q, want %q", got, tc.failures)
			}
		})
	}
}
