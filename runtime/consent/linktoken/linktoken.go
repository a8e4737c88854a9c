package linktoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// MinKeyBytes is the shortest key New accepts.
const MinKeyBytes = 16

// MaxTokenBytes bounds what Parse reads: ids and topic names are short.
const MaxTokenBytes = 2048

const version = "v1"

var enc = base64.RawURLEncoding

// ErrInvalid is every refusal of Parse: the caller answers 400 and says no
// more (which part failed is of use only to someone forging tokens).
var ErrInvalid = errors.New("the link is not valid: it was changed, or it was not made by this server")

// Signer makes and checks tokens with one key.
type Signer struct{ key []byte }

// New returns a Signer over key, which must be at least MinKeyBytes long.
func New(key []byte) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, errors.New("the link secret must be at least 16 bytes; generate one with `openssl rand -hex 32`")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Token names customer and topic. Neither may hold a NUL byte (ids and
// topic names never do; Token returns "" for them rather than a token that
// would read back differently).
func (s *Signer) Token(customer, topic string) string {
	if customer == "" || topic == "" || strings.ContainsRune(customer, 0) || strings.ContainsRune(topic, 0) {
		return ""
	}
	body := version + "." + enc.EncodeToString([]byte(customer+"\x00"+topic))
	return body + "." + enc.EncodeToString(s.mac("link", body))
}

// Parse checks a token and returns the customer and topic it names.
func (s *Signer) Parse(token string) (customer, topic string, err error) {
	if len(token) > MaxTokenBytes {
		return "", "", ErrInvalid
	}
	ver, rest, ok := strings.Cut(token, ".")
	if !ok || ver != version {
		return "", "", ErrInvalid
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return "", "", ErrInvalid
	}
	got, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("link", ver+"."+payload)) {
		return "", "", ErrInvalid
	}
	raw, err := enc.DecodeString(payload)
	if err != nil {
		return "", "", ErrInvalid
	}
	customer, topic, ok = strings.Cut(string(raw), "\x00")
	if !ok || customer == "" || topic == "" || strings.ContainsRune(topic, 0) {
		return "", "", ErrInvalid
	}
	return customer, topic, nil
}

// CSRF returns the form value tied to token that the preference page's
// POST must carry.
func (s *Signer) CSRF(token string) string {
	return enc.EncodeToString(s.mac("csrf", token))
}

// CheckCSRF reports, in constant time, whether v is token's CSRF value.
func (s *Signer) CheckCSRF(token, v string) bool {
	got, err := enc.DecodeString(v)
	return err == nil && hmac.Equal(got, s.mac("csrf", token))
}

// mac is HMAC-SHA256 over a purpose and data, so that a value made for one
// purpose (a CSRF value) never passes as another (a signature).
func (s *Signer) mac(purpose, data string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(data))
	return h.Sum(nil)
}
