package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"
)

const signaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 header value Meta would send for body.
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header ("sha256=<hex>") is the HMAC-SHA256 of
// the raw body under any of the secrets (several during an app-secret rotation).
// It must be given the bytes as received: Meta signs its escaped-unicode form.
func VerifySignature(body []byte, header string, secrets ...[]byte) bool {
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	valid := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue // an unset secret must never verify anything
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		// No early exit: the time taken does not reveal which secret matched.
		if hmac.Equal(mac.Sum(nil), got) {
			valid = true
		}
	}
	return valid
}

// VerifyChallenge answers Meta's webhook verification handshake: it returns the
// challenge to echo back when hub.mode is subscribe and hub.verify_token equals
// one of the configured tokens.
func VerifyChallenge(query url.Values, tokens ...string) (challenge string, ok bool) {
	if query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	given := []byte(query.Get("hub.verify_token"))
	matched := 0
	for _, token := range tokens {
		if token == "" {
			continue // an unset token must not accept an empty one
		}
		matched |= subtle.ConstantTimeCompare(given, []byte(token))
	}
	if matched != 1 {
		return "", false
	}
	return query.Get("hub.challenge"), true
}
