package models

import (
	"context"
	"time"
)

// Reaction is one reactor's current emoji on a message.
type Reaction struct {
	ID         int64     `json:"id"`
	MessageID  int64     `json:"-"`
	IdentityID *int64    `json:"identity_id,omitempty"`
	UserID     *int64    `json:"user_id,omitempty"`
	Emoji      string    `json:"emoji"`
	ReactedAt  time.Time `json:"reacted_at"`
}

// SetReaction records a customer's reaction to a message; an older one than
// the reaction held changes nothing.
func (s *Store) SetReaction(ctx context.Context, messageID, identityID int64, emoji string, at time.Time) error {
	err := s.Gorm(ctx).Exec(`INSERT INTO reactions (message_id, identity_id, emoji, reacted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id, identity_id) WHERE identity_id IS NOT NULL
		DO UPDATE SET emoji = EXCLUDED.emoji, reacted_at = EXCLUDED.reacted_at WHERE reactions.reacted_at <= EXCLUDED.reacted_at`,
		messageID, identityID, emoji, at).Error
	return wrapErr(err, "react to message %d", messageID)
}

// RemoveReaction takes a customer's reaction back, unless a newer one replaced it.
func (s *Store) RemoveReaction(ctx context.Context, messageID, identityID int64, at time.Time) error {
	err := s.Gorm(ctx).Exec(`DELETE FROM reactions WHERE message_id = ? AND identity_id = ? AND reacted_at <= ?`,
		messageID, identityID, at).Error
	return wrapErr(err, "unreact to message %d", messageID)
}

// SetUserReaction records (or, with an empty emoji, removes) an agent's reaction.
func (s *Store) SetUserReaction(ctx context.Context, messageID, userID int64, emoji string, at time.Time) error {
	if emoji == "" {
		err := s.Gorm(ctx).Exec(`DELETE FROM reactions WHERE message_id = ? AND user_id = ?`, messageID, userID).Error
		return wrapErr(err, "remove reaction on message %d", messageID)
	}
	err := s.Gorm(ctx).Exec(`INSERT INTO reactions (message_id, user_id, emoji, reacted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET emoji = EXCLUDED.emoji, reacted_at = EXCLUDED.reacted_at`,
		messageID, userID, emoji, at).Error
	return wrapErr(err, "react to message %d", messageID)
}
