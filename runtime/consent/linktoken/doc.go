// Package linktoken signs and reads the tokens of unsubscribe links: a
// versioned, HMAC-SHA256-signed name of one customer and one topic.
//
// A token is "v1." + base64url(customer id + NUL + topic) + "." +
// base64url(HMAC-SHA256(key, everything before the second dot)), without
// padding. The key comes from the environment (WAYMARK_LINK_SECRET), never
// from the program; a token is the only credential of the link, so Parse
// checks the signature in constant time before it reads anything, and
// refuses any token it did not sign (tampered, or signed with another key).
// Tokens do not expire: a link in a mail read a year later must still
// work, as RFC 8058 and the mailbox providers expect.
//
// CSRF returns a second value tied to a token, for the preference page's
// form: a POST that changes several topics must carry it, so a page
// elsewhere cannot make a browser submit that form (the one-click POST
// needs no more than the token itself, by design).
package linktoken
