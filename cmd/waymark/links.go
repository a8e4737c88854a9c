package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
)

// linkSecretEnv names the variable holding the key that signs unsubscribe
// links. Only the environment: a key on the command line shows in the
// process list.
const linkSecretEnv = "WAYMARK_LINK_SECRET"

// topicEmail returns "journey/send" of the first send of a topic through an
// smtp channel, "" when there is none: such mail must carry a working
// one-click unsubscribe link.
func topicEmail(p *ir.Program) string {
	smtp := map[string]bool{}
	for _, ch := range p.Channels {
		smtp[ch.Name] = ch.Type == lang.ChannelSMTP
	}
	policyTopic := map[string]string{}
	for _, pol := range p.Policies {
		policyTopic[pol.Name] = pol.Topic
	}
	for _, j := range p.Journeys {
		for _, st := range j.Stages {
			for _, a := range st.Actions {
				if a.Kind == ir.ActionSend && smtp[a.Channel] && (a.Topic != "" || policyTopic[j.Policy] != "") {
					return j.Name + "/" + a.Name
				}
			}
		}
	}
	return ""
}

// links makes the unsubscribe links' signer and URL function from
// --public-url and the secret. With neither it returns nils, unless p
// sends email of a topic and email really goes out (needed): then the start
// is refused, since such mail without a working link breaks RFC 8058 and
// the mailbox providers' rules for bulk senders.
func links(p *ir.Program, publicURL, secret string, needed bool) (*linktoken.Signer, func(customer, topic string) string, error) {
	if publicURL == "" || secret == "" {
		if send := topicEmail(p); needed && send != "" {
			missing := []string{}
			if publicURL == "" {
				missing = append(missing, "--public-url (the address customers reach this server at, e.g. https://waymark.example.com)")
			}
			if secret == "" {
				missing = append(missing, "$"+linkSecretEnv+" (a random key of at least 16 bytes, e.g. from `openssl rand -hex 32`)")
			}
			return nil, nil, fmt.Errorf("send %s is email of a topic, which must carry a one-click unsubscribe link; it needs %s", send, strings.Join(missing, " and "))
		}
		if publicURL == "" && secret == "" {
			return nil, nil, nil
		}
		if publicURL == "" {
			return nil, nil, errors.New("$" + linkSecretEnv + " is set but --public-url is not: give both, or neither")
		}
		return nil, nil, errors.New("--public-url is set but $" + linkSecretEnv + " is not: give both, or neither")
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, nil, fmt.Errorf("--public-url %q: want an http(s) URL with a host and no query, like https://waymark.example.com", publicURL)
	}
	signer, err := linktoken.New([]byte(secret))
	if err != nil {
		return nil, nil, fmt.Errorf("$%s: %v", linkSecretEnv, err)
	}
	base := strings.TrimRight(u.String(), "/") + "/u/"
	return signer, func(customer, topic string) string {
		if tok := signer.Token(customer, topic); tok != "" {
			return base + tok
		}
		return ""
	}, nil
}
