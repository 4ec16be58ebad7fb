package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cipher seals channel secrets and OTN tokens at rest with AES-256-GCM. The
// key is derived from SECRET_KEY, so a database dump alone reveals nothing.
type Cipher struct {
	aead   cipher.AEAD
	macKey []byte // signs the callback references we attach to sends
}

// NewCipher derives a 256-bit key from secret.
func NewCipher(secret string) (*Cipher, error) {
	if len(secret) < 16 {
		return nil, errors.New("models: SECRET_KEY must be at least 16 characters")
	}
	key := sha256.Sum256([]byte("switchboard/v1\x00" + secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := sha256.Sum256([]byte("switchboard/callback/v1\x00" + secret))
	return &Cipher{aead: aead, macKey: mac[:]}, nil
}

// Seal encrypts plaintext; the random nonce is prepended.
func (c *Cipher) Seal(plaintext string) []byte {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return c.aead.Seal(nonce, nonce, []byte(plaintext), nil)
}

// Open decrypts what Seal produced.
func (c *Cipher) Open(sealed []byte) (string, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("models: sealed value too short")
	}
	out, err := c.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", fmt.Errorf("models: unable to decrypt (wrong SECRET_KEY?): %w", err)
	}
	return string(out), nil
}

// HashToken is how API and OTN tokens are looked up without storing them.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// callbackPrefix starts the reference we attach to every send as WhatsApp's
// biz_opaque_callback_data or Messenger's metadata.
const callbackPrefix = "sb:"

// CallbackRef is the reference for our message id: "sb:<id>.<mac>". Meta
// echoes it back on statuses and echoes; the MAC makes it unguessable, so a
// forged status cannot name another business's message by its sequence number.
func (c *Cipher) CallbackRef(messageID int64) string {
	id := strconv.FormatInt(messageID, 10)
	return callbackPrefix + id + "." + c.callbackMAC(id)
}

// ParseCallbackRef returns the message id of a reference CallbackRef made.
func (c *Cipher) ParseCallbackRef(ref string) (int64, bool) {
	rest, ok := strings.CutPrefix(ref, callbackPrefix)
	if !ok {
		return 0, false
	}
	id, mac, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(c.callbackMAC(id))) {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

func (c *Cipher) callbackMAC(id string) string {
	h := hmac.New(sha256.New, c.macKey)
	h.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// mediaRefPrefix is the MAC domain of relay media links, apart from callbacks.
const mediaRefPrefix = "media:"

// Errors of a relay media link that callers tell apart.
var (
	ErrForgedLink  = errors.New("models: not a link we made")
	ErrExpiredLink = errors.New("models: the link has expired")
)

// MediaRef is the path token of a link to one of the business's stored
// attachments, valid until exp: "<business>.<attachment>.<exp unix>.<mac>".
// A relayed photo goes to the other members' apps by this link; the MAC
// binds all three, so a link cannot be widened to another file or time.
func (c *Cipher) MediaRef(businessID, attachmentID int64, exp time.Time) string {
	body := strconv.FormatInt(businessID, 10) + "." + strconv.FormatInt(attachmentID, 10) + "." + strconv.FormatInt(exp.Unix(), 10)
	return body + "." + c.callbackMAC(mediaRefPrefix+body)
}

// ParseMediaRef reads a token MediaRef made: ErrForgedLink when it is not
// ours, ErrExpiredLink when its time has passed at now.
func (c *Cipher) ParseMediaRef(ref string, now time.Time) (businessID, attachmentID int64, err error) {
	i := strings.LastIndexByte(ref, '.')
	if i < 0 || !hmac.Equal([]byte(ref[i+1:]), []byte(c.callbackMAC(mediaRefPrefix+ref[:i]))) {
		return 0, 0, ErrForgedLink
	}
	parts := strings.Split(ref[:i], ".")
	if len(parts) != 3 {
		return 0, 0, ErrForgedLink
	}
	b, err1 := strconv.ParseInt(parts[0], 10, 64)
	a, err2 := strconv.ParseInt(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, ErrForgedLink
	}
	if now.Unix() > exp {
		return 0, 0, ErrExpiredLink
	}
	return b, a, nil
}
