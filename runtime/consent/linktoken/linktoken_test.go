package linktoken

import (
	"strings"
	"testing"
)

func signer(t testing.TB, key string) *Signer {
	t.Helper()
	s, err := New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	s := signer(t, "0123456789abcdef-key")
	for _, tc := range [][2]string{{"c-1", "marketing"}, {"user@example.com", "product_news"}, {"ünï/cödé.", "t"}} {
		tok := s.Token(tc[0], tc[1])
		if !strings.HasPrefix(tok, "v1.") || strings.ContainsAny(tok, "+/=") {
			t.Errorf("token %q is not a v1 base64url token", tok)
		}
		c, topic, err := s.Parse(tok)
		if err != nil || c != tc[0] || topic != tc[1] {
			t.Errorf("Parse(Token(%q, %q)) = %q, %q, %v", tc[0], tc[1], c, topic, err)
		}
	}
}

func TestRefused(t *testing.T) {
	s := signer(t, "0123456789abcdef-key")
	other := signer(t, "another-key-0123456789")
	tok := s.Token("c-1", "marketing")
	body, sig, _ := strings.Cut(strings.TrimPrefix(tok, "v1."), ".")
	// Another customer's payload under this signature.
	forged := "v1." + enc.EncodeToString([]byte("c-2\x00marketing")) + "." + sig
	flip := []byte(tok)
	flip[len(flip)-2] ^= 1
	tests := map[string]string{
		"empty":             "",
		"foreign key":       other.Token("c-1", "marketing"),
		"other payload":     forged,
		"flipped signature": string(flip),
		"no signature":      "v1." + body,
		"unknown version":   "v2." + body + "." + sig,
		"not base64":        "v1.!!!." + sig,
		"too long":          "v1." + strings.Repeat("A", MaxTokenBytes) + "." + sig,
		"no topic":          signedRaw(s, "c-1"),
	}
	for name, bad := range tests {
		if c, topic, err := s.Parse(bad); err != ErrInvalid {
			t.Errorf("%s: Parse = %q, %q, %v; want ErrInvalid", name, c, topic, err)
		}
	}
	if s.Token("c\x00x", "t") != "" || s.Token("", "t") != "" {
		t.Error("Token made a token of a name it cannot read back")
	}
}

// signedRaw signs an arbitrary payload, as only a key holder could.
func signedRaw(s *Signer, payload string) string {
	body := "v1." + enc.EncodeToString([]byte(payload))
	return body + "." + enc.EncodeToString(s.mac("link", body))
}

func TestCSRF(t *testing.T) {
	s := signer(t, "0123456789abcdef-key")
	a, b := s.Token("c-1", "marketing"), s.Token("c-2", "marketing")
	if !s.CheckCSRF(a, s.CSRF(a)) {
		t.Fatal("a token's own CSRF value is refused")
	}
	if s.CheckCSRF(b, s.CSRF(a)) || s.CheckCSRF(a, "") || s.CheckCSRF(a, strings.Split(a, ".")[2]) {
		t.Error("a CSRF value for another token, an empty one, or the token's signature passes")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("a short key is accepted")
	}
}

func FuzzParse(f *testing.F) {
	s := signer(f, "0123456789abcdef-key")
	f.Add(s.Token("c-1", "marketing"))
	f.Add("v1..")
	f.Add("v1.YQ.YQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, topic, err := s.Parse(tok)
		if err != nil {
			return
		}
		// Whatever passes must be exactly what Token makes for it.
		if s.Token(c, topic) != tok {
			t.Fatalf("Parse accepted %q as (%q, %q), which Token writes differently", tok, c, topic)
		}
	})
}
