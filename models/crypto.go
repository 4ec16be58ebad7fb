package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Cipher seals channel secrets and OTN tokens at rest with AES-256-GCM. The
// key is derived from SECRET_KEY, so a database dump alone reveals nothing.
type Cipher struct{ aead cipher.AEAD }

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
	return &Cipher{aead: aead}, nil
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
