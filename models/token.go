package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// APIToken is a bearer token for the JSON API, stored hashed.
type APIToken struct {
	ID         int64      `json:"id"`
	BusinessID int64      `json:"business_id"`
	Name       string     `json:"name"`
	TokenHash  []byte     `json:"-"`
	Person     bool       `json:"person"` // a person's token (may use HUMAN_AGENT); false: software
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TableName keeps gorm from spelling it a_p_i_tokens.
func (APIToken) TableName() string { return "api_tokens" }

// CreateAPIToken makes a bearer token for software; the plain token is
// returned once and only its hash is stored.
func (s *Store) CreateAPIToken(ctx context.Context, businessID int64, name string) (string, *APIToken, error) {
	return s.createAPIToken(ctx, businessID, name, false)
}

// CreatePersonAPIToken makes a bearer token a person sends with (an admin's
// choice): its replies count as typed by a person, HUMAN_AGENT included.
func (s *Store) CreatePersonAPIToken(ctx context.Context, businessID int64, name string) (string, *APIToken, error) {
	return s.createAPIToken(ctx, businessID, name, true)
}

func (s *Store) createAPIToken(ctx context.Context, businessID int64, name string, person bool) (string, *APIToken, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token := "sb_" + base64.RawURLEncoding.EncodeToString(raw)
	t := &APIToken{BusinessID: businessID, Name: name, TokenHash: HashToken(token), Person: person}
	if err := s.Gorm(ctx).Create(t).Error; err != nil {
		return "", nil, wrapErr(err, "create API token")
	}
	return token, t, nil
}

// APITokenByToken finds a live token by its plain value, or nil.
func (s *Store) APITokenByToken(ctx context.Context, token string) (*APIToken, error) {
	var t APIToken
	ok, err := first(s.Gorm(ctx).Where("token_hash = ? AND revoked_at IS NULL", HashToken(token)), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch API token")
	}
	return &t, nil
}

// APITokens lists a business's tokens, newest first.
func (s *Store) APITokens(ctx context.Context, businessID int64) ([]APIToken, error) {
	var ts []APIToken
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("id DESC").Find(&ts).Error
	return ts, wrapErr(err, "list API tokens")
}

// RevokeAPIToken stops a token from working.
func (s *Store) RevokeAPIToken(ctx context.Context, businessID, id int64) error {
	err := s.Gorm(ctx).Model(&APIToken{}).Where("business_id = ? AND id = ? AND revoked_at IS NULL", businessID, id).
		Update("revoked_at", time.Now()).Error
	return wrapErr(err, "revoke API token %d", id)
}
