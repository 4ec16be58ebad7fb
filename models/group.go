package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Errors of relay groups that callers tell apart.
var (
	// ErrTooFewMembers: a relay group needs at least two customers.
	ErrTooFewMembers = errors.New("models: a relay group needs at least 2 customers")
	// ErrInAnotherGroup: the customer is already in an active relay group on
	// that channel; they leave it first (their chat can route to one group only).
	ErrInAnotherGroup = errors.New("models: the customer is already in another relay group")
	// ErrNotRelayGroup: the thread is not a relay group.
	ErrNotRelayGroup = errors.New("models: not a relay group")
)

// AppRelay is the app of a message written in a relay group by the business:
// it goes out as one leg per member, each on the member's own app.
const AppRelay = "relay"

// RelayMember is an active member of a relay group with their direct thread,
// the chat with the business through which they take part.
type RelayMember struct {
	Identity
	DirectThreadID int64
}

// Name is how the member is shown to the others.
func (m *RelayMember) Name() string { return threadTitle(&m.Identity) }

// CreateRelayGroup opens a relay group of the business's identities (at least
// two distinct ones). ErrNotFound: an identity is not the business's;
// ErrInAnotherGroup: one is already in an active relay group.
func (s *Store) CreateRelayGroup(ctx context.Context, businessID int64, title string, identityIDs []int64, at time.Time) (*Thread, error) {
	ids := distinct(identityIDs)
	if len(ids) < 2 {
		return nil, ErrTooFewMembers
	}
	ids, apps, err := s.relayCandidates(ctx, businessID, ids)
	if err != nil {
		return nil, err
	}
	t := &Thread{BusinessID: businessID, Kind: "group", Origin: "relay", Title: strings.TrimSpace(title),
		Apps: apps, Status: ThreadOpen, LastMessageAt: at}
	if err := s.Gorm(ctx).Create(t).Error; err != nil {
		return nil, wrapErr(err, "create relay group")
	}
	for _, id := range ids {
		if err := s.addRelayMember(ctx, t.ID, id, at); err != nil {
			return nil, err
		}
	}
	return s.Thread(ctx, businessID, t.ID)
}

// relayCandidates checks the identities belong to the business and returns
// them in order with the apps they span.
func (s *Store) relayCandidates(ctx context.Context, businessID int64, ids []int64) ([]int64, StringList, error) {
	var rows []struct {
		ID  int64
		App string
	}
	if err := s.Gorm(ctx).Raw(`SELECT id, app FROM identities WHERE business_id = ? AND id IN ? ORDER BY id`,
		businessID, ids).Scan(&rows).Error; err != nil {
		return nil, nil, wrapErr(err, "load identities for a relay group")
	}
	if len(rows) != len(ids) {
		return nil, nil, ErrNotFound
	}
	var apps StringList
	for _, r := range rows {
		if !slices.Contains(apps, r.App) {
			apps = append(apps, r.App)
		}
	}
	return ids, apps, nil
}

// AddRelayMember adds one of the business's identities to a relay group
// (ErrNotFound, ErrNotRelayGroup, ErrInAnotherGroup as for CreateRelayGroup).
func (s *Store) AddRelayMember(ctx context.Context, businessID, threadID, identityID int64, at time.Time) error {
	if _, err := s.relayGroup(ctx, businessID, threadID); err != nil {
		return err
	}
	if _, _, err := s.relayCandidates(ctx, businessID, []int64{identityID}); err != nil {
		return err
	}
	if err := s.addRelayMember(ctx, threadID, identityID, at); err != nil {
		return err
	}
	return s.refreshRelayApps(ctx, threadID)
}

func (s *Store) addRelayMember(ctx context.Context, threadID, identityID int64, at time.Time) error {
	err := s.Gorm(ctx).Exec(`INSERT INTO thread_participants (thread_id, identity_id, role, joined_at, relay)
		VALUES (?, ?, 'member', ?, true)
		ON CONFLICT (thread_id, identity_id) DO UPDATE SET left_at = NULL, relay = true, joined_at = EXCLUDED.joined_at`,
		threadID, identityID, at).Error
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return fmt.Errorf("%w (identity %d)", ErrInAnotherGroup, identityID)
	}
	return wrapErr(err, "add member %d to relay group %d", identityID, threadID)
}

// RemoveRelayMember ends a membership; removed is false when they were not in it.
func (s *Store) RemoveRelayMember(ctx context.Context, businessID, threadID, identityID int64, at time.Time) (removed bool, err error) {
	res := s.Gorm(ctx).Exec(`UPDATE thread_participants p SET left_at = ? FROM threads t
		WHERE t.id = p.thread_id AND t.business_id = ? AND p.thread_id = ? AND p.identity_id = ? AND p.relay AND p.left_at IS NULL`,
		at, businessID, threadID, identityID)
	if res.Error != nil {
		return false, wrapErr(res.Error, "remove member %d from relay group %d", identityID, threadID)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	return true, s.refreshRelayApps(ctx, threadID)
}

func (s *Store) refreshRelayApps(ctx context.Context, threadID int64) error {
	err := s.Gorm(ctx).Exec(`UPDATE threads SET updated_at = now(), apps = COALESCE((SELECT array_agg(DISTINCT i.app ORDER BY i.app)
			FROM thread_participants p JOIN identities i ON i.id = p.identity_id
			WHERE p.thread_id = threads.id AND p.relay AND p.left_at IS NULL), '{}') WHERE id = ?`, threadID).Error
	return wrapErr(err, "update apps of relay group %d", threadID)
}

// relayGroup loads one of the business's relay groups.
func (s *Store) relayGroup(ctx context.Context, businessID, threadID int64) (*Thread, error) {
	var t Thread
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, threadID), &t)
	switch {
	case err != nil:
		return nil, wrapErr(err, "fetch relay group %d", threadID)
	case !ok:
		return nil, ErrNotFound
	case t.Origin != "relay":
		return nil, ErrNotRelayGroup
	}
	return &t, nil
}

// RelayGroupOf is the active relay group the identity takes part in, or nil.
func (s *Store) RelayGroupOf(ctx context.Context, identityID int64) (*Thread, error) {
	var t Thread
	ok, err := first(s.Gorm(ctx).Raw(`SELECT t.* FROM thread_participants p JOIN threads t ON t.id = p.thread_id
		WHERE p.identity_id = ? AND p.relay AND p.left_at IS NULL AND t.origin = 'relay'`, identityID), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch relay group of identity %d", identityID)
	}
	return &t, nil
}

// RelayMembers lists a relay group's active members in the order they
// joined, each with their direct thread (created if they never wrote).
func (s *Store) RelayMembers(ctx context.Context, businessID, threadID int64) ([]RelayMember, error) {
	var rows []struct {
		Identity
		DirectThreadID *int64
	}
	// One round trip on the relay's hot path: the group is checked by the
	// join; only an empty answer asks why (not a group, or no members).
	if err := s.Gorm(ctx).Raw(`SELECT i.*, d.id AS direct_thread_id FROM threads g
		JOIN thread_participants p ON p.thread_id = g.id AND p.relay AND p.left_at IS NULL
		JOIN identities i ON i.id = p.identity_id AND i.business_id = g.business_id
		LEFT JOIN threads d ON d.channel_id = i.channel_id AND d.direct_identity_id = i.id AND d.kind = 'direct'
		WHERE g.id = ? AND g.business_id = ? AND g.origin = 'relay'
		ORDER BY p.joined_at, i.id`, threadID, businessID).Scan(&rows).Error; err != nil {
		return nil, wrapErr(err, "load members of relay group %d", threadID)
	}
	if len(rows) == 0 {
		if _, err := s.relayGroup(ctx, businessID, threadID); err != nil {
			return nil, err
		}
	}
	out := make([]RelayMember, 0, len(rows))
	for _, r := range rows {
		m := RelayMember{Identity: r.Identity}
		if r.DirectThreadID != nil {
			m.DirectThreadID = *r.DirectThreadID
		} else { // a member who never wrote to us on this app
			t, _, err := s.EnsureDirectThread(ctx, &m.Identity, time.Now())
			if err != nil {
				return nil, err
			}
			m.DirectThreadID = t.ID
		}
		out = append(out, m)
	}
	return out, nil
}

// relayMembersOf is the members of the business's relay group $2 with
// their direct threads (FROM … WHERE of RelayMembers' statement).
const relayMembersOf = `threads g
		JOIN thread_participants p ON p.thread_id = g.id AND p.relay AND p.left_at IS NULL
		JOIN identities i ON i.id = p.identity_id AND i.business_id = g.business_id
		LEFT JOIN threads d ON d.channel_id = i.channel_id AND d.direct_identity_id = i.id AND d.kind = 'direct'
		WHERE g.id = $2 AND g.business_id = $1 AND g.origin = 'relay'`

// RelayMembersToSend is RelayMembers with the send contexts of the members'
// direct threads (SendContexts, without token locks), in one round trip: the
// relay's hot path reads both before it queues a message's legs.
func (s *Store) RelayMembersToSend(ctx context.Context, businessID, threadID int64) ([]RelayMember, map[int64]*SendContext, error) {
	var b pgx.Batch
	b.Queue(`SELECT `+identityColumns+`, d.id FROM `+relayMembersOf+` ORDER BY p.joined_at, i.id`, businessID, threadID)
	queueSendContexts(&b, businessID, `IN (SELECT d.id FROM `+relayMembersOf+`)`, threadID, false)
	br := s.pgx().SendBatch(ctx, &b)
	var members []RelayMember
	var missing bool // a member who never wrote to us on their app
	scs := map[int64]*SendContext{}
	err := func() error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var m RelayMember
			var direct *int64
			if err := rows.Scan(append(identityDest(&m.Identity), &direct)...); err != nil {
				rows.Close()
				return err
			}
			if direct != nil {
				m.DirectThreadID = *direct
			} else {
				missing = true
			}
			members = append(members, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return readSendContexts(br, scs)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, wrapErr(err, "load members of relay group %d", threadID)
	}
	if len(members) == 0 || missing { // not a group, no members, or a direct thread to create: the plain way
		if members, err = s.RelayMembers(ctx, businessID, threadID); err != nil {
			return nil, nil, err
		}
		ids := make([]int64, len(members))
		for i := range members {
			ids[i] = members[i].DirectThreadID
		}
		if scs, err = s.SendContexts(ctx, businessID, ids, false); err != nil {
			return nil, nil, err
		}
	}
	return members, scs, nil
}

// RelayLeg is one leg of a group message to one member: the message queued
// on their direct thread, or the policy's refusal.
type RelayLeg struct {
	ID             int64     `json:"-"`
	BusinessID     int64     `json:"-"`
	GroupMessageID int64     `json:"-"`
	IdentityID     int64     `json:"identity_id"`
	LegMessageID   *int64    `json:"message_id"`
	Refusal        string    `json:"refusal,omitempty"`
	CreatedAt      time.Time `json:"-"`
}

// AddRelayLegs records the legs of a group message and the prices of its
// queued legs in one round trip (inside the queuing transaction); the prices
// go second, as their insert locks the business's spend shard row to commit.
func (s *Store) AddRelayLegs(ctx context.Context, legs []RelayLeg, costs []MessageCost) error {
	var b pgx.Batch
	if len(legs) > 0 {
		n := len(legs)
		biz, groupMsgs, identities := make([]int64, n), make([]int64, n), make([]int64, n)
		legMsgs, refusals := make([]*int64, n), make([]string, n)
		for i, l := range legs {
			biz[i], groupMsgs[i], identities[i], legMsgs[i], refusals[i] = l.BusinessID, l.GroupMessageID, l.IdentityID, l.LegMessageID, l.Refusal
		}
		b.Queue(`INSERT INTO relay_legs (business_id, group_message_id, identity_id, leg_message_id, refusal)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[])`,
			biz, groupMsgs, identities, legMsgs, refusals)
	}
	if len(costs) > 0 {
		queueMessageCosts(&b, costs)
	}
	if b.Len() == 0 {
		return nil
	}
	return wrapErr(s.pgx().SendBatch(ctx, &b).Close(), "record %d relay legs", len(legs))
}

// RelayLegView is a leg as the group thread shows it under its message.
type RelayLegView struct {
	IdentityID int64
	Name       string
	App        string
	Refusal    string // the policy reason when nothing was sent
	Status     string // the leg message's status when it was queued
	ErrorTitle string
	// LastCustomerAt is the member's latest message to us (Meta's time), from
	// which their window is counted: "window closed 2 days ago".
	LastCustomerAt *time.Time
}

// RelayLegsFor loads the legs of the business's group messages, by message.
func (s *Store) RelayLegsFor(ctx context.Context, businessID int64, groupMessageIDs []int64) (map[int64][]RelayLegView, error) {
	out := map[int64][]RelayLegView{}
	if len(groupMessageIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		GroupMessageID int64
		RelayLegView
		DisplayName, Username, Phone, ExternalID string
	}
	err := s.Gorm(ctx).Raw(`SELECT l.group_message_id, l.identity_id, i.app, l.refusal, COALESCE(m.status, '') AS status,
			COALESCE(m.error_title, '') AS error_title, i.display_name, i.username, i.phone, i.external_id,
			e.last_at AS last_customer_at
		FROM relay_legs l JOIN identities i ON i.id = l.identity_id LEFT JOIN messages m ON m.id = l.leg_message_id
		LEFT JOIN identity_events e ON e.identity_id = l.identity_id AND e.kind = 'message'
		WHERE l.business_id = ? AND l.group_message_id IN ? ORDER BY l.group_message_id, l.id`,
		businessID, groupMessageIDs).Scan(&rows).Error
	if err != nil {
		return nil, wrapErr(err, "load relay legs")
	}
	for _, r := range rows {
		v := r.RelayLegView
		v.Name = threadTitle(&Identity{DisplayName: r.DisplayName, Username: r.Username, Phone: r.Phone, ExternalID: r.ExternalID})
		out[r.GroupMessageID] = append(out[r.GroupMessageID], v)
	}
	return out, nil
}

// LegStatusEvents turns status events of leg messages into status events of
// their group messages, for the given (open) group threads only: a leg's tick
// re-renders the group message it belongs to.
func (s *Store) LegStatusEvents(ctx context.Context, businessID int64, legMessageIDs, groupThreadIDs []int64) ([]Event, error) {
	if len(legMessageIDs) == 0 || len(groupThreadIDs) == 0 {
		return nil, nil
	}
	var rows []struct{ ID, ThreadID int64 }
	err := s.Gorm(ctx).Raw(`SELECT DISTINCT m.id, m.thread_id FROM relay_legs l JOIN messages m ON m.id = l.group_message_id
		WHERE l.business_id = ? AND l.leg_message_id IN ? AND m.thread_id IN ?`, businessID, legMessageIDs, groupThreadIDs).Scan(&rows).Error
	if err != nil {
		return nil, wrapErr(err, "find group messages of %d legs", len(legMessageIDs))
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{Type: "status", BusinessID: businessID, ThreadID: r.ThreadID, MessageID: r.ID}
	}
	return out, nil
}

// QuotedInGroup is the group message a member's message in a relay group
// quotes (a leg they received stands for its original) with its text, or 0.
func (s *Store) QuotedInGroup(ctx context.Context, messageID int64) (groupMessageID int64, text string, err error) {
	var row struct {
		ID   int64
		Text string
	}
	err = s.Gorm(ctx).Raw(`SELECT g.id, g.text FROM messages m JOIN messages q ON q.id = m.reply_to_id
		LEFT JOIN relay_legs l ON l.leg_message_id = q.id
		JOIN messages g ON g.id = COALESCE(l.group_message_id, q.id) AND g.thread_id = m.thread_id
		WHERE m.id = ?`, messageID).Scan(&row).Error
	return row.ID, row.Text, wrapErr(err, "find what message %d quotes", messageID)
}

// LegMessages maps each member a group message reached to their leg message.
func (s *Store) LegMessages(ctx context.Context, groupMessageID int64) (map[int64]int64, error) {
	var rows []struct{ IdentityID, LegMessageID int64 }
	err := s.Gorm(ctx).Raw(`SELECT identity_id, leg_message_id FROM relay_legs WHERE group_message_id = ? AND leg_message_id IS NOT NULL`,
		groupMessageID).Scan(&rows).Error
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.IdentityID] = r.LegMessageID
	}
	return out, wrapErr(err, "load legs of message %d", groupMessageID)
}

// GroupMessagesOfLegs finds, for messages that are relay legs (a member's
// copy of a group message, in their own chat), the group message each is a
// copy of; other ids are absent. A member's reaction to their copy shows on
// the group message too.
func (s *Store) GroupMessagesOfLegs(ctx context.Context, legIDs []int64) (map[int64]MessageRef, error) {
	out := map[int64]MessageRef{}
	if len(legIDs) == 0 {
		return out, nil
	}
	rows, err := s.sqlQuery(ctx, `SELECT l.leg_message_id, m.id, m.thread_id, m.business_id, m.sent_at
		FROM relay_legs l JOIN messages m ON m.id = l.group_message_id AND m.business_id = l.business_id
		WHERE l.leg_message_id = ANY($1::bigint[])`, legIDs)
	if err != nil {
		return nil, wrapErr(err, "find the group messages of %d legs", len(legIDs))
	}
	err = scanRows(rows, func(r *sql.Rows) error {
		var leg int64
		var m MessageRef
		if err := r.Scan(&leg, &m.ID, &m.ThreadID, &m.BusinessID, &m.SentAt); err != nil {
			return err
		}
		out[leg] = m
		return nil
	})
	return out, wrapErr(err, "read the group messages of legs")
}

// distinct drops repeats and non-ids, keeping the first order.
func distinct(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// MaxLeaveWords bounds a business's relay leave words; MaxLeaveWordLen each.
const (
	MaxLeaveWords   = 5
	MaxLeaveWordLen = 20 // characters
)

// ErrBadLeaveWords: leave words must be 1 to MaxLeaveWords single words.
var ErrBadLeaveWords = errors.New("models: leave words must be 1 to 5 single words of at most 20 characters")

// RelayLeaveWords are the words (lower case) with which the business's relay
// group members leave a group.
func (s *Store) RelayLeaveWords(ctx context.Context, businessID int64) ([]string, error) {
	var words StringList
	err := s.Gorm(ctx).Raw(`SELECT relay_leave_words FROM businesses WHERE id = ?`, businessID).Row().Scan(&words)
	return words, wrapErr(err, "fetch leave words of business %d", businessID)
}

// SetRelayLeaveWords replaces the business's leave words (trimmed, lower
// case, repeats dropped); ErrBadLeaveWords when they are not 1 to 5 single words.
func (s *Store) SetRelayLeaveWords(ctx context.Context, businessID int64, words []string) error {
	clean, err := CleanLeaveWords(words)
	if err != nil {
		return err
	}
	err = s.Gorm(ctx).Exec(`UPDATE businesses SET relay_leave_words = ? WHERE id = ?`, StringList(clean), businessID).Error
	return wrapErr(err, "set leave words of business %d", businessID)
}

// CleanLeaveWords normalises leave words as they are stored.
func CleanLeaveWords(words []string) ([]string, error) {
	var out []string
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		switch {
		case w == "":
			continue
		case strings.ContainsFunc(w, unicode.IsSpace) || len([]rune(w)) > MaxLeaveWordLen:
			return nil, ErrBadLeaveWords
		case !slices.Contains(out, w):
			out = append(out, w)
		}
	}
	if len(out) == 0 || len(out) > MaxLeaveWords {
		return nil, ErrBadLeaveWords
	}
	return out, nil
}
