package engine

import (
	"testing"
)

// Values interpolated into an smtp send's html are escaped as html/template
// would; the markup the author wrote (literals, template files) is not, nor
// is a value passed through trusted_html. The same template in a text body
// is not escaped.
func TestHTMLEscapesInterpolatedValues(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "inline" {
      channel = channel.email
      to      = customer.email
      subject = "Hi ${customer.first_name}"
      body    = "Hi ${customer.first_name}"
      html    = "<p>Hi ${customer.first_name}, ${entry.note}</p>"
    }
    send "bare" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      html    = customer.first_name
    }
    send "file" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      body    = template("t/mail.html")
      html    = template("t/mail.html")
    }
    send "mixed" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      html    = "<div>${template("t/mail.html")}${trusted_html("<hr>")}${customer.score > 1 ? "<b>big</b>" : customer.first_name}${upper(customer.first_name)}</div>"
    }
    send "trusted" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      html    = "<p>${trusted_html(customer.plan)}</p>"
    }
    send "hook" {
      channel = channel.log
      data    = "<p>${customer.first_name}</p>"
    }
  }
}`,
		"t/mail.html", `<h1>Hello ${customer.first_name}</h1>%{ for n in [entry.note, "&"] }<li>${n}</li>%{ endfor }%{ if customer.score > 0 }<i>${customer.plan}</i>%{ endif }${template("t/footer.html")}`,
		"t/footer.html", `<small>${customer.email}</small>`,
	)
	e := newEngine(t, p, Options{})
	evil := `<a href="https://evil.example/">`
	s := newSim(t, e, "c-1", map[string]any{
		"first_name": evil, "email": "a&b@example.com", "plan": "<em>pro</em>", "score": 1.0,
	})
	r := s.event("go", map[string]any{"note": `"quoted" & 'single'`})
	const escEvil = `&lt;a href=&#34;https://evil.example/&#34;&gt;`
	tests := []struct{ send, field, want string }{
		{"inline", "html", `<p>Hi ` + escEvil + `, &#34;quoted&#34; &amp; &#39;single&#39;</p>`},
		{"inline", "body", "Hi " + evil},
		{"inline", "subject", "Hi " + evil},
		{"bare", "html", escEvil},
		{"file", "html", `<h1>Hello ` + escEvil + `</h1><li>&#34;quoted&#34; &amp; &#39;single&#39;</li><li>&amp;</li><i>&lt;em&gt;pro&lt;/em&gt;</i><small>a&amp;b@example.com</small>`},
		{"file", "body", `<h1>Hello ` + evil + `</h1><li>"quoted" & 'single'</li><li>&</li><i><em>pro</em></i><small>a&b@example.com</small>`},
		{"mixed", "html", `<div><h1>Hello ` + escEvil + `</h1><li>&#34;quoted&#34; &amp; &#39;single&#39;</li><li>&amp;</li><i>&lt;em&gt;pro&lt;/em&gt;</i><small>a&amp;b@example.com</small><hr>` + escEvil + `&lt;A HREF=&#34;HTTPS://EVIL.EXAMPLE/&#34;&gt;</div>`},
		{"trusted", "html", `<p><em>pro</em></p>`},
		{"hook", "data", `<p>` + evil + `</p>`},
	}
	for _, tt := range tests {
		if got := findSend(t, tt.send, r).Fields[tt.field]; got != tt.want {
			t.Errorf("%s %s:\n got %v\nwant %s", tt.send, tt.field, got, tt.want)
		}
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors: %v", r.Errors)
	}
}
