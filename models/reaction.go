package models

import (
	"context"
	"database/sql"
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

// MessageKey names a message on a channel as Meta does (mid, wamid).
type MessageKey struct {
	ChannelID  int64
	ExternalID string
}

// MessageRef is where a message lives, and when it was sent.
type MessageRef struct {
	ID, ThreadID, BusinessID int64
	SentAt                   time.Time
}

// MessagesByExternal finds many messages by Meta's ids in one query; ids we
// do not hold are absent.
func (s *Store) MessagesByExternal(ctx context.Context, keys []MessageKey) (map[MessageKey]MessageRef, error) {
	out := make(map[MessageKey]MessageRef, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	chs, exts := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		chs[i], exts[i] = k.ChannelID, k.ExternalID
	}
	rows, err := s.sqlQuery(ctx, `SELECT m.channel_id, m.external_id, m.id, m.thread_id, m.business_id, m.sent_at
		FROM unnest($1::bigint[], $2::text[]) AS u(c, e) JOIN messages m ON m.channel_id = u.c AND m.external_id = u.e`, chs, exts)
	if err != nil {
		return nil, wrapErr(err, "find %d messages", len(keys))
	}
	err = scanRows(rows, func(r *sql.Rows) error {
		var k MessageKey
		var m MessageRef
		if err := r.Scan(&k.ChannelID, &k.ExternalID, &m.ID, &m.ThreadID, &m.BusinessID, &m.SentAt); err != nil {
			return err
		}
		out[k] = m
		return nil
	})
	return out, wrapErr(err, "read messages")
}

// ReactionChange is a customer's reaction to a message at Meta's time; an
// empty Emoji takes the reaction back.
type ReactionChange struct {
	MessageID  int64
	IdentityID int64
	Emoji      string
	At         time.Time
}

// ApplyReactions applies customers' reactions, in order: for each reactor
// and message only the last change counts, and none older than the reaction
// held (Meta's time).
// Rows are written in message order, as every writer of messages locks them.
func (s *Store) ApplyReactions(ctx context.Context, cs []ReactionChange) error {
	type key struct{ m, i int64 }
	last := make(map[key]ReactionChange, len(cs))
	for _, c := range cs {
		last[key{c.MessageID, c.IdentityID}] = c
	}
	var set, unset struct {
		msgs, ids []int64
		emojis    []string
		ats       []time.Time
	}
	for _, c := range last {
		dst := &set
		if c.Emoji == "" {
			dst = &unset
		}
		dst.msgs, dst.ids, dst.emojis, dst.ats = append(dst.msgs, c.MessageID), append(dst.ids, c.IdentityID), append(dst.emojis, c.Emoji), append(dst.ats, c.At)
	}
	if len(set.msgs) > 0 {
		if _, err := s.sqlExec(ctx, `INSERT INTO reactions (message_id, identity_id, emoji, reacted_at)
			SELECT m, i, e, a FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[]) AS u(m, i, e, a) ORDER BY m, i
			ON CONFLICT (message_id, identity_id) WHERE identity_id IS NOT NULL
			DO UPDATE SET emoji = EXCLUDED.emoji, reacted_at = EXCLUDED.reacted_at WHERE reactions.reacted_at <= EXCLUDED.reacted_at`,
			set.msgs, set.ids, set.emojis, set.ats); err != nil {
			return wrapErr(err, "react to %d messages", len(set.msgs))
		}
	}
	if len(unset.msgs) > 0 {
		if _, err := s.sqlExec(ctx, `DELETE FROM reactions r USING unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u(m, i, a)
			WHERE r.message_id = u.m AND r.identity_id = u.i AND r.reacted_at <= u.a`, unset.msgs, unset.ids, unset.ats); err != nil {
			return wrapErr(err, "unreact to %d messages", len(unset.msgs))
		}
	}
	return nil
}
