package models

import (
	"context"
	"database/sql"
	"slices"
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

// EnsureDirectThreads returns the direct thread of each identity (by
// identity id; id, business and channel only), creating the missing ones
// with their participant in one statement; at[i] is identity i's first
// event time. created lists the new threads, in id order.
func (s *Store) EnsureDirectThreads(ctx context.Context, ids []*Identity, at []time.Time) (map[int64]*Thread, []*Thread, error) {
	n := len(ids)
	out := make(map[int64]*Thread, n)
	idIDs, chs := make([]int64, n), make([]int64, n)
	for i, id := range ids {
		idIDs[i], chs[i] = id.ID, id.ChannelID
	}
	if err := s.directThreads(ctx, idIDs, chs, out); err != nil {
		return nil, nil, err
	}
	var (
		biz, mChs, mIDs []int64
		titles, apps    []string
		ats             []time.Time
	)
	for i, id := range ids {
		if out[id.ID] != nil {
			continue
		}
		biz, mChs, mIDs = append(biz, id.BusinessID), append(mChs, id.ChannelID), append(mIDs, id.ID)
		titles, apps, ats = append(titles, threadTitle(id)), append(apps, id.App), append(ats, at[i])
	}
	if len(mIDs) == 0 {
		return out, nil, nil
	}
	rows, err := s.sqlQuery(ctx, `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[])
				WITH ORDINALITY AS v(b, c, i, title, app, at, ord)
		), t AS (
			INSERT INTO threads (business_id, channel_id, kind, origin, direct_identity_id, title, apps, status, last_message_at)
			SELECT b, c, 'direct', 'native', i, title, ARRAY[app], 'open', at FROM v ORDER BY ord
			ON CONFLICT (channel_id, direct_identity_id) WHERE kind = 'direct' DO NOTHING
			RETURNING id, business_id, channel_id, direct_identity_id, last_message_at
		), p AS (
			INSERT INTO thread_participants (thread_id, identity_id, role, joined_at)
			SELECT id, direct_identity_id, 'customer', last_message_at FROM t
			ON CONFLICT (thread_id, identity_id) DO UPDATE SET left_at = NULL
		)
		SELECT id, business_id, channel_id, direct_identity_id FROM t ORDER BY id`, biz, mChs, mIDs, titles, apps, ats)
	if err != nil {
		return nil, nil, wrapErr(err, "create %d direct threads", len(mIDs))
	}
	var created []*Thread
	err = scanRows(rows, func(r *sql.Rows) error {
		t := &Thread{Kind: "direct", Origin: "native"}
		var ch, iid int64
		if err := r.Scan(&t.ID, &t.BusinessID, &ch, &iid); err != nil {
			return err
		}
		t.ChannelID, t.DirectIdentityID = &ch, &iid
		out[iid] = t
		created = append(created, t)
		return nil
	})
	if err != nil {
		return nil, nil, wrapErr(err, "read created threads")
	}
	if len(created) < len(mIDs) { // a concurrent writer made some: load theirs
		if err := s.directThreads(ctx, mIDs, mChs, out); err != nil {
			return nil, nil, err
		}
	}
	return out, created, nil
}

// directThreads adds the direct threads of identities (ids and their
// channels, parallel) to out, by identity id.
func (s *Store) directThreads(ctx context.Context, ids, chs []int64, out map[int64]*Thread) error {
	rows, err := s.sqlQuery(ctx, `SELECT t.id, t.business_id, t.channel_id, t.direct_identity_id, t.origin
		FROM unnest($1::bigint[], $2::bigint[]) AS v(i, c)
		JOIN threads t ON t.channel_id = v.c AND t.direct_identity_id = v.i AND t.kind = 'direct'`, ids, chs)
	if err != nil {
		return wrapErr(err, "fetch threads of %d identities", len(ids))
	}
	err = scanRows(rows, func(r *sql.Rows) error {
		t := &Thread{Kind: "direct"}
		var ch, iid int64
		if err := r.Scan(&t.ID, &t.BusinessID, &ch, &iid, &t.Origin); err != nil {
			return err
		}
		t.ChannelID, t.DirectIdentityID = &ch, &iid
		out[iid] = t
		return nil
	})
	return wrapErr(err, "read threads of identities")
}

// AddInboundMessages stores many messages once each (a repeated external id
// on the channel changes nothing), as AddMessage does one: attachments, and
// each thread's preview, time, unread count and reopening, one row per
// thread. It returns the messages it inserted, in order; the caller notifies.
// Each message must have an external id, unique within msgs.
func (s *Store) AddInboundMessages(ctx context.Context, msgs []*Message) ([]*Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	for _, m := range msgs {
		if m.Details == nil {
			m.Details = JSON("{}")
		}
	}
	if err := s.allocateMessageIDs(ctx, msgs); err != nil {
		return nil, err
	}
	n := len(msgs)
	var (
		ids, biz, threads, chs, senders = make([]int64, n), make([]int64, n), make([]int64, n), make([]*int64, n), make([]*int64, n)
		dirs, apps, kinds, texts, exts  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
		details, statuses, replyExts    = make([]string, n), make([]string, n), make([]string, n)
		sentAt, statusAt                = make([]time.Time, n), make([]time.Time, n)
	)
	for i, m := range msgs {
		ids[i], biz[i], threads[i], chs[i], senders[i] = m.ID, m.BusinessID, m.ThreadID, m.ChannelID, m.SenderIdentityID
		dirs[i], apps[i], kinds[i], texts[i], exts[i] = m.Direction, m.App, m.Kind, m.Text, m.ExternalID
		details[i], statuses[i], replyExts[i], sentAt[i], statusAt[i] = string(m.Details), m.Status, m.ReplyToExternalID, m.SentAt, m.StatusAt
	}
	rows, err := s.sqlQuery(ctx, `INSERT INTO messages (id, business_id, thread_id, channel_id, sender_identity_id,
			direction, app, kind, text, external_id, details, status, reply_to_external_id, sent_at, status_at)
		SELECT id, b, t, c, si, dir, app, kind, text, ext, d::jsonb, st, rx, sa, sta
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
			$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
			$14::timestamptz[], $15::timestamptz[]) WITH ORDINALITY
			AS v(id, b, t, c, si, dir, app, kind, text, ext, d, st, rx, sa, sta, ord)
		ORDER BY ord
		ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
		RETURNING id`,
		ids, biz, threads, chs, senders, dirs, apps, kinds, texts, exts, details, statuses, replyExts, sentAt, statusAt)
	if err != nil {
		return nil, wrapErr(err, "add %d messages", n)
	}
	inserted := map[int64]bool{}
	if err := scanRows(rows, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		inserted[id] = true
		return err
	}); err != nil {
		return nil, wrapErr(err, "read added messages")
	}
	var out []*Message
	var atts []Attachment
	for _, m := range msgs {
		if !inserted[m.ID] {
			continue
		}
		out = append(out, m)
		for i := range m.Attachments {
			m.Attachments[i].MessageID = m.ID
			atts = append(atts, m.Attachments[i])
		}
	}
	if len(atts) > 0 {
		if err := s.Gorm(ctx).Create(&atts).Error; err != nil {
			return nil, wrapErr(err, "add attachments of %d messages", len(out))
		}
		k := 0
		for _, m := range out { // ids back onto the messages' own attachments
			for i := range m.Attachments {
				m.Attachments[i] = atts[k]
				k++
			}
		}
	}
	return out, s.touchThreads(ctx, out)
}

// touchThreads moves each thread's preview, time, unread count and status
// for its new messages (in order), one row per thread in thread id order.
func (s *Store) touchThreads(ctx context.Context, msgs []*Message) error {
	type touch struct {
		latest *Message
		unread int
		cust   *time.Time
	}
	byThread := map[int64]*touch{}
	var order []int64
	for _, m := range msgs {
		t := byThread[m.ThreadID]
		if t == nil {
			t = &touch{}
			byThread[m.ThreadID] = t
			order = append(order, m.ThreadID)
		}
		if t.latest == nil || !m.SentAt.Before(t.latest.SentAt) {
			t.latest = m
		}
		if m.Direction == DirectionIn {
			t.unread++
			if t.cust == nil || m.SentAt.After(*t.cust) {
				at := m.SentAt
				t.cust = &at
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	slices.Sort(order)
	n := len(order)
	previews, dirs, ats, custs, unread := make([]string, n), make([]string, n), make([]time.Time, n), make([]*time.Time, n), make([]int64, n)
	for i, id := range order {
		t := byThread[id]
		previews[i], dirs[i], ats[i], custs[i], unread[i] = Preview(t.latest), t.latest.Direction, t.latest.SentAt, t.cust, int64(t.unread)
	}
	_, err := s.sqlExec(ctx, `UPDATE threads t SET
			last_message_preview = CASE WHEN t.last_message_preview = '' OR v.at >= t.last_message_at THEN v.preview ELSE t.last_message_preview END,
			last_message_direction = CASE WHEN t.last_message_preview = '' OR v.at >= t.last_message_at THEN v.dir ELSE t.last_message_direction END,
			last_message_at = GREATEST(t.last_message_at, v.at),
			last_customer_at = CASE WHEN v.cust IS NULL THEN t.last_customer_at ELSE GREATEST(t.last_customer_at, v.cust) END,
			unread_count = t.unread_count + v.unread,
			status = CASE WHEN v.unread > 0 AND t.status = 'closed' THEN 'open' ELSE t.status END,
			updated_at = now()
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[]) AS v(id, preview, dir, at, cust, unread)
		WHERE t.id = v.id`, order, previews, dirs, ats, custs, unread)
	return wrapErr(err, "update %d threads", n)
}

// allocateMessageIDs takes the messages' ids from the sequence, in order.
func (s *Store) allocateMessageIDs(ctx context.Context, msgs []*Message) error {
	rows, err := s.sqlQuery(ctx, `SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)`, len(msgs))
	if err != nil {
		return wrapErr(err, "allocate %d message ids", len(msgs))
	}
	i := 0
	err = scanRows(rows, func(r *sql.Rows) error { err := r.Scan(&msgs[i].ID); i++; return err })
	return wrapErr(err, "read message ids")
}
