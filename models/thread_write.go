package models

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// EnsureDirectThread returns the one direct thread of an identity on its
// channel, creating it (with the identity as participant) when missing.
func (s *Store) EnsureDirectThread(ctx context.Context, id *Identity, at time.Time) (t *Thread, created bool, err error) {
	var existing Thread
	ok, err := first(s.Gorm(ctx).Where("channel_id = ? AND direct_identity_id = ? AND kind = 'direct'", id.ChannelID, id.ID), &existing)
	if err != nil {
		return nil, false, wrapErr(err, "fetch thread of identity %d", id.ID)
	}
	if ok {
		return &existing, false, nil
	}
	t = &Thread{
		BusinessID: id.BusinessID, ChannelID: &id.ChannelID, Kind: "direct", Origin: "native",
		DirectIdentityID: &id.ID, Title: threadTitle(id), Apps: StringList{id.App}, Status: ThreadOpen,
		LastMessageAt: at,
	}
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(t)
	if res.Error != nil {
		return nil, false, wrapErr(res.Error, "create thread of identity %d", id.ID)
	}
	if res.RowsAffected == 0 {
		var existing Thread
		if err := s.Gorm(ctx).Where("channel_id = ? AND direct_identity_id = ? AND kind = 'direct'", id.ChannelID, id.ID).
			Take(&existing).Error; err != nil {
			return nil, false, wrapErr(err, "fetch thread of identity %d", id.ID)
		}
		return &existing, false, nil
	}
	if err := s.AddParticipant(ctx, t.ID, id.ID, "customer", at); err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// EnsureGroupThread returns the thread of a native group, creating it when missing.
func (s *Store) EnsureGroupThread(ctx context.Context, ch *Channel, groupID, title string, at time.Time) (t *Thread, created bool, err error) {
	if title == "" {
		title = "Group " + groupID
	}
	t = &Thread{
		BusinessID: ch.BusinessID, ChannelID: &ch.ID, Kind: "group", Origin: "native", ExternalGroupID: &groupID,
		Title: title, Apps: StringList{ch.App}, Status: ThreadOpen, LastMessageAt: at,
	}
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(t)
	if res.Error != nil {
		return nil, false, wrapErr(res.Error, "create group thread %s", groupID)
	}
	if res.RowsAffected == 0 {
		var existing Thread
		if err := s.Gorm(ctx).Where("channel_id = ? AND external_group_id = ? AND kind = 'group'", ch.ID, groupID).
			Take(&existing).Error; err != nil {
			return nil, false, wrapErr(err, "fetch group thread %s", groupID)
		}
		return &existing, false, nil
	}
	return t, true, nil
}

// AddParticipant adds (or re-adds) an identity to a thread.
func (s *Store) AddParticipant(ctx context.Context, threadID, identityID int64, role string, at time.Time) error {
	err := s.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "thread_id"}, {Name: "identity_id"}},
		DoUpdates: clause.Assignments(map[string]any{"left_at": nil}),
	}).Create(&ThreadParticipant{ThreadID: threadID, IdentityID: identityID, Role: role, JoinedAt: at}).Error
	return wrapErr(err, "add participant %d to thread %d", identityID, threadID)
}

func threadTitle(id *Identity) string {
	switch {
	case id.DisplayName != "":
		return id.DisplayName
	case id.Username != "":
		return "@" + id.Username
	case id.Phone != "":
		return id.Phone
	}
	return id.ExternalID
}

// AddMessage stores a message once (a repeated external id on the channel
// changes nothing) and keeps the thread's preview, time and unread count up
// to date incrementally. Call it inside InTx; listeners hear of it on commit.
func (s *Store) AddMessage(ctx context.Context, m *Message, atts []Attachment) (inserted bool, err error) {
	if m.Details == nil {
		m.Details = JSON("{}")
	}
	if m.StatusAt.IsZero() {
		m.StatusAt = time.Now()
	}
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(m)
	if res.Error != nil {
		return false, wrapErr(res.Error, "add message to thread %d", m.ThreadID)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	for i := range atts {
		atts[i].MessageID = m.ID
	}
	if len(atts) > 0 {
		if err := s.Gorm(ctx).Create(&atts).Error; err != nil {
			return false, wrapErr(err, "add attachments of message %d", m.ID)
		}
	}
	m.Attachments = atts
	unread, customer := 0, any(nil)
	if m.Direction == DirectionIn {
		unread, customer = 1, m.SentAt
	}
	err = s.Gorm(ctx).Exec(`UPDATE threads SET
			last_message_preview = CASE WHEN last_message_preview = '' OR ? >= last_message_at THEN ? ELSE last_message_preview END,
			last_message_direction = CASE WHEN last_message_preview = '' OR ? >= last_message_at THEN ? ELSE last_message_direction END,
			last_message_at = GREATEST(last_message_at, ?),
			last_customer_at = CASE WHEN ?::timestamptz IS NULL THEN last_customer_at ELSE GREATEST(last_customer_at, ?::timestamptz) END,
			unread_count = unread_count + ?,
			status = CASE WHEN ? = 1 AND status = 'closed' THEN 'open' ELSE status END,
			updated_at = now()
		WHERE id = ?`,
		m.SentAt, Preview(m), m.SentAt, m.Direction, m.SentAt, customer, customer, unread, unread, m.ThreadID).Error
	if err != nil {
		return false, wrapErr(err, "update thread %d", m.ThreadID)
	}
	return true, s.Notify(ctx, Event{Type: "message", BusinessID: m.BusinessID, ThreadID: m.ThreadID, MessageID: m.ID})
}

// Preview is the one-line summary of a message shown in the inbox list.
func Preview(m *Message) string {
	const max = 140
	p := m.Text
	if p == "" {
		p = "[" + m.Kind + "]"
	}
	if r := []rune(p); len(r) > max {
		p = string(r[:max-1]) + "…"
	}
	return p
}
