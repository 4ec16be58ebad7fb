package models

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// A thread's statuses.
const (
	ThreadOpen    = "open"
	ThreadPending = "pending"
	ThreadSnoozed = "snoozed"
	ThreadClosed  = "closed"
)

// Thread is a conversation: direct (one customer) or group.
type Thread struct {
	ID                   int64      `json:"id"`
	BusinessID           int64      `json:"-"`
	ChannelID            *int64     `json:"channel_id"`
	Kind                 string     `json:"kind"`
	Origin               string     `json:"origin"`
	DirectIdentityID     *int64     `json:"-"`
	ExternalGroupID      *string    `json:"external_group_id,omitempty"`
	Title                string     `json:"title"`
	Apps                 StringList `gorm:"type:text[]" json:"apps"`
	Status               string     `json:"status"`
	SnoozedUntil         *time.Time `json:"snoozed_until,omitempty"`
	AssigneeID           *int64     `json:"assignee_id"`
	LastMessageAt        time.Time  `json:"last_message_at"`
	LastMessagePreview   string     `json:"last_message_preview"`
	LastMessageDirection string     `json:"last_message_direction"`
	LastCustomerAt       *time.Time `json:"last_customer_at,omitempty"`
	UnreadCount          int        `json:"unread_count"`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"-"`

	Participants []Participant `gorm:"-" json:"participants"`
	Labels       []Label       `gorm:"-" json:"labels,omitempty"`
}

// ThreadParticipant is an identity's membership in a thread.
type ThreadParticipant struct {
	ThreadID   int64 `gorm:"primaryKey;autoIncrement:false"`
	IdentityID int64 `gorm:"primaryKey;autoIncrement:false"`
	Role       string
	JoinedAt   time.Time
	LeftAt     *time.Time
}

// Participant is a thread participant as the contract shows it.
type Participant struct {
	IdentityID  int64  `json:"identity_id"`
	ContactID   int64  `json:"contact_id"`
	App         string `json:"app"`
	ExternalID  string `json:"external_id"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

// ThreadFilter narrows the inbox list. Zero values mean "any".
type ThreadFilter struct {
	Status     string // open, pending, snoozed, closed
	App        string
	AssigneeID int64 // -1 = unassigned
	LabelID    int64
	Unread     bool
	Query      string // full text over messages and contact names
	Cursor     string
	Limit      int
}

// ThreadPage is one page of the inbox, newest activity first.
type ThreadPage struct {
	Threads    []Thread `json:"threads"`
	NextCursor string   `json:"next_cursor"`
}

// EncodeCursor makes the keyset cursor after t.
func EncodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

// ErrBadCursor is a cursor that EncodeCursor did not make (tampered or truncated).
var ErrBadCursor = errors.New("models: bad cursor")

// DecodeCursor reads a cursor from EncodeCursor.
func DecodeCursor(c string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, ErrBadCursor
	}
	ts, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return time.Time{}, 0, ErrBadCursor
	}
	us, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, ErrBadCursor
	}
	return time.UnixMicro(us).UTC(), n, nil
}

// ListThreads returns one keyset page of a business's threads.
func (s *Store) ListThreads(ctx context.Context, businessID int64, f ThreadFilter) (*ThreadPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if pool := s.pool(); pool != nil {
		return s.listThreadsFast(ctx, pool, businessID, f, false, true)
	}
	q := s.Gorm(ctx).Where("business_id = ?", businessID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.App != "" {
		q = q.Where("apps @> ARRAY[?]::text[]", f.App)
	}
	switch {
	case f.AssigneeID > 0:
		q = q.Where("assignee_id = ?", f.AssigneeID)
	case f.AssigneeID < 0:
		q = q.Where("assignee_id IS NULL")
	}
	if f.LabelID > 0 {
		q = q.Where("EXISTS (SELECT 1 FROM thread_labels tl WHERE tl.thread_id = threads.id AND tl.label_id = ?)", f.LabelID)
	}
	if f.Unread {
		q = q.Where("unread_count > 0")
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		q = q.Where(`(to_tsvector('simple', title) @@ plainto_tsquery('simple', ?)
			OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = threads.id AND m.tsv @@ plainto_tsquery('simple', ?)))`, qs, qs)
	}
	if f.Cursor != "" {
		at, id, err := DecodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("(last_message_at, id) < (?, ?)", at, id)
	}
	var threads []Thread
	if err := q.Order("last_message_at DESC, id DESC").Limit(f.Limit + 1).Find(&threads).Error; err != nil {
		return nil, wrapErr(err, "list threads")
	}
	page := &ThreadPage{Threads: threads}
	if len(threads) > f.Limit {
		page.Threads = threads[:f.Limit]
		last := page.Threads[f.Limit-1]
		page.NextCursor = EncodeCursor(last.LastMessageAt, last.ID)
	}
	if err := s.loadParticipants(ctx, page.Threads); err != nil {
		return nil, err
	}
	return page, nil
}

// Thread loads one of the business's threads with its participants, or nil.
func (s *Store) Thread(ctx context.Context, businessID, id int64) (*Thread, error) {
	if pool := s.pool(); pool != nil {
		return s.threadFast(ctx, pool, businessID, id, false)
	}
	var t Thread
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch thread %d", id)
	}
	ts := []Thread{t}
	if err := s.loadParticipants(ctx, ts); err != nil {
		return nil, err
	}
	return &ts[0], nil
}

func (s *Store) loadParticipants(ctx context.Context, threads []Thread) error {
	if len(threads) == 0 {
		return nil
	}
	ids := make([]int64, len(threads))
	index := make(map[int64]int, len(threads))
	for i, t := range threads {
		ids[i] = t.ID
		index[t.ID] = i
		threads[i].Participants = []Participant{}
	}
	var rows []struct {
		ThreadID int64
		Participant
	}
	err := s.Gorm(ctx).Table("thread_participants tp").
		Select("tp.thread_id, tp.identity_id, i.contact_id, i.app, i.external_id, i.display_name, tp.role").
		Joins("JOIN identities i ON i.id = tp.identity_id").
		Where("tp.thread_id IN ? AND tp.left_at IS NULL", ids).Order("tp.thread_id, tp.joined_at, tp.identity_id").
		Scan(&rows).Error
	if err != nil {
		return wrapErr(err, "load participants")
	}
	for _, r := range rows {
		i := index[r.ThreadID]
		threads[i].Participants = append(threads[i].Participants, r.Participant)
	}
	return nil
}

// ThreadUpdate is what an agent may change on a thread.
type ThreadUpdate struct {
	Status       *string
	SnoozedUntil *time.Time
	AssigneeID   **int64 // set to a nil *int64 to unassign
}

// UpdateThread applies u and tells listeners.
func (s *Store) UpdateThread(ctx context.Context, businessID, id int64, u ThreadUpdate) error {
	set := map[string]any{"updated_at": time.Now()}
	if u.Status != nil {
		set["status"] = *u.Status
		if *u.Status == ThreadSnoozed {
			set["snoozed_until"] = u.SnoozedUntil
		} else {
			set["snoozed_until"] = nil
		}
	}
	if u.AssigneeID != nil {
		set["assignee_id"] = *u.AssigneeID
	}
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.Gorm(ctx).Model(&Thread{}).Where("business_id = ? AND id = ?", businessID, id).Updates(set)
		if res.Error != nil {
			return wrapErr(res.Error, "update thread %d", id)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Notify(ctx, Event{Type: "thread", BusinessID: businessID, ThreadID: id})
	})
}

// MarkThreadRead clears the unread count.
func (s *Store) MarkThreadRead(ctx context.Context, businessID, id int64) error {
	err := s.Gorm(ctx).Model(&Thread{}).Where("business_id = ? AND id = ? AND unread_count > 0", businessID, id).
		Update("unread_count", 0).Error
	return wrapErr(err, "mark thread %d read", id)
}

// WakeSnoozed reopens snoozed threads whose time has come.
func (s *Store) WakeSnoozed(ctx context.Context, now time.Time) (int64, error) {
	res := s.Gorm(ctx).Model(&Thread{}).Where("status = ? AND snoozed_until <= ?", ThreadSnoozed, now).
		Updates(map[string]any{"status": ThreadOpen, "snoozed_until": gorm.Expr("NULL")})
	return res.RowsAffected, wrapErr(res.Error, "wake snoozed threads")
}

// SetThreadTitle names one of the business's threads.
func (s *Store) SetThreadTitle(ctx context.Context, businessID, threadID int64, title string) error {
	err := s.Gorm(ctx).Exec(`UPDATE threads SET title = ?, updated_at = now() WHERE business_id = ? AND id = ?`,
		title, businessID, threadID).Error
	return wrapErr(err, "title thread %d", threadID)
}

// FreeReplyWindow is how long after the customer's last message a free-form
// reply is possible on every app.
const FreeReplyWindow = 24 * time.Hour

// ClosingThreads lists the business's open threads that can still get a
// free-form reply, the one whose window closes first first. It needs no
// index of its own: last_customer_at never exceeds last_message_at, so the
// bound on last_message_at lets threads_inbox narrow the scan to the last
// day's activity before the sort.
func (s *Store) ClosingThreads(ctx context.Context, businessID int64, now time.Time, limit int) ([]Thread, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if pool := s.pool(); pool != nil {
		return s.closingThreadsFast(ctx, pool, businessID, now, limit, false)
	}
	since := now.Add(-FreeReplyWindow)
	var ts []Thread
	err := s.Gorm(ctx).Where(`business_id = ? AND status = ? AND last_message_at > ? AND last_customer_at > ?`,
		businessID, ThreadOpen, since, since).
		Order("last_customer_at, id").Limit(limit).Find(&ts).Error
	if err != nil {
		return nil, wrapErr(err, "list closing threads")
	}
	if err := s.loadParticipants(ctx, ts); err != nil {
		return nil, err
	}
	return ts, nil
}

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

// ThreadIDs lists the ids of every thread of a business, oldest first.
func (s *Store) ThreadIDs(ctx context.Context, businessID int64) ([]int64, error) {
	ids := []int64{}
	err := s.Gorm(ctx).Model(&Thread{}).Where("business_id = ?", businessID).Order("id").Pluck("id", &ids).Error
	return ids, wrapErr(err, "list thread ids")
}
