package models

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// OTNToken is a one-time notification token from a Messenger optin.
type OTNToken struct {
	ID              int64
	BusinessID      int64
	IdentityID      int64
	Kind            string
	Topic           string
	Payload         string
	TokenEnc        []byte
	TokenHash       []byte
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	UsedByMessageID *int64
}

// TableName keeps gorm from spelling it o_t_n_tokens.
func (OTNToken) TableName() string { return "otn_tokens" }

// OTNTokenSecret opens a token for sending. Only the worker sending the
// message that reserved it asks.
func (s *Store) OTNTokenSecret(ctx context.Context, tokenID int64) (string, error) {
	var enc []byte
	err := s.Gorm(ctx).Raw(`SELECT token_enc FROM otn_tokens WHERE id = ?`, tokenID).Row().Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", wrapErr(ErrNotFound, "fetch OTN token %d", tokenID)
	}
	if err != nil {
		return "", wrapErr(err, "fetch OTN token %d", tokenID)
	}
	return s.cipher.Open(enc)
}

// NewOTNToken is a notification token from a Messenger opt-in.
type NewOTNToken struct {
	BusinessID, IdentityID int64
	Kind                   string // one_time or recurring
	Topic, Payload, Token  string
	CreatedAt, ExpiresAt   time.Time
}

// SaveOTNToken stores a token sealed; a replayed opt-in stores nothing.
func (s *Store) SaveOTNToken(ctx context.Context, t NewOTNToken) error {
	err := s.Gorm(ctx).Exec(`INSERT INTO otn_tokens (business_id, identity_id, kind, topic, payload, token_enc, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`,
		t.BusinessID, t.IdentityID, t.Kind, t.Topic, t.Payload, s.cipher.Seal(t.Token), HashToken(t.Token), t.CreatedAt, t.ExpiresAt).Error
	return wrapErr(err, "save notification token of identity %d", t.IdentityID)
}
