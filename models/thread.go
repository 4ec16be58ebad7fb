package models

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The thread reads (the inbox list, one thread, the closing list, a live
// event's threads) are one mechanism: SQL on pgx, each page with its
// participants (and, when asked, its labels) in one statement of a
// ReadBatch, scanned with pgx's Scan. Inside InTx they run on the
// transaction's connection. gorm's reflection costs more CPU than
// PostgreSQL spends answering these; the writes below stay on gorm.

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

// Page sizes: a request for none or more than the most gets the default.
const (
	defaultPage    = 50
	maxThreadPage  = 200
	maxMessagePage = 500
)

// pageLimit is the page size to use for a request of n rows, at most max.
func pageLimit(n, max int) int {
	if n <= 0 || n > max {
		return defaultPage
	}
	return n
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
func (s *Store) ListThreads(ctx context.Context, businessID int64, f ThreadFilter) (page *ThreadPage, err error) {
	return page, s.read(ctx, func(rb *ReadBatch) { page = rb.listThreads(businessID, f, false, true) })
}

// ListThreadsWithLabels is ListThreads that also fills each thread's
// Labels (as LoadThreadLabels would), in the same round trip.
func (s *Store) ListThreadsWithLabels(ctx context.Context, businessID int64, f ThreadFilter) (page *ThreadPage, err error) {
	return page, s.read(ctx, func(rb *ReadBatch) { page = rb.listThreads(businessID, f, true, true) })
}

// InboxThreads is the inbox list's page: ListThreadsWithLabels, except
// that only threads without a title have their Participants (the list
// names such a thread after its first participant); the others' are empty.
func (s *Store) InboxThreads(ctx context.Context, businessID int64, f ThreadFilter) (page *ThreadPage, err error) {
	return page, s.read(ctx, func(rb *ReadBatch) { page = rb.InboxThreads(businessID, f) })
}

// InboxThreads queues Store.InboxThreads.
func (rb *ReadBatch) InboxThreads(businessID int64, f ThreadFilter) *ThreadPage {
	return rb.listThreads(businessID, f, true, false)
}

// Thread loads one of the business's threads with its participants, or nil.
func (s *Store) Thread(ctx context.Context, businessID, id int64) (*Thread, error) {
	return s.threadByID(ctx, businessID, id, false)
}

// ThreadWithLabels is Thread that also fills the thread's Labels.
func (s *Store) ThreadWithLabels(ctx context.Context, businessID, id int64) (*Thread, error) {
	return s.threadByID(ctx, businessID, id, true)
}

func (s *Store) threadByID(ctx context.Context, businessID, id int64, labels bool) (*Thread, error) {
	var ts *[]Thread
	err := s.read(ctx, func(rb *ReadBatch) {
		q := newThreadQuery(businessID)
		q.and("id = $$", id)
		ts = q.queue(rb, "id", 0, labels, true)
	})
	if err != nil || len(*ts) == 0 {
		return nil, wrapErr(err, "fetch thread %d", id)
	}
	return &(*ts)[0], nil
}

// ThreadsWithLabels queues ThreadWithLabels for each of ids: those of the
// business's threads among them, with participants and labels, by id.
func (rb *ReadBatch) ThreadsWithLabels(businessID int64, ids []int64) *[]Thread {
	q := newThreadQuery(businessID)
	if len(ids) == 1 { // see idsCondition (message.go)
		q.and("id = $$", ids[0])
	} else {
		q.and("id = ANY($$)", ids)
	}
	return q.queue(rb, "id", 0, true, true)
}

// closingThreads lists the open threads that can still get a free-form
// reply, the one whose window closes first first (see ClosingThreads).
func (s *Store) closingThreads(ctx context.Context, businessID int64, now time.Time, limit int, labels bool) ([]Thread, error) {
	since := now.Add(-FreeReplyWindow)
	var ts *[]Thread
	err := s.read(ctx, func(rb *ReadBatch) {
		q := newThreadQuery(businessID)
		q.and("status = $$ AND last_message_at > $$ AND last_customer_at > $$", ThreadOpen, since, since)
		ts = q.queue(rb, "last_customer_at, id", pageLimit(limit, maxThreadPage), labels, true)
	})
	if err != nil {
		return nil, wrapErr(err, "list closing threads")
	}
	return *ts, nil
}

// ClosingThreadsWithLabels is ClosingThreads that also fills each thread's Labels.
func (s *Store) ClosingThreadsWithLabels(ctx context.Context, businessID int64, now time.Time, limit int) ([]Thread, error) {
	return s.closingThreads(ctx, businessID, now, limit, true)
}

// threadColumns are the threads columns in the order scanThreads reads them.
const threadColumns = `t.id, t.business_id, t.channel_id, t.kind, t.origin, t.direct_identity_id, t.external_group_id,
	t.title, t.apps, t.status, t.snoozed_until, t.assignee_id, t.last_message_at, t.last_message_preview,
	t.last_message_direction, t.last_customer_at, t.unread_count, t.created_at, t.updated_at`

// threadQuery is a threads query being built: $1 is the business id.
type threadQuery struct {
	where strings.Builder
	args  []any
}

func newThreadQuery(businessID int64) *threadQuery {
	q := &threadQuery{args: []any{businessID}}
	q.where.WriteString("business_id = $1")
	return q
}

// and adds a condition; each "$$" in cond takes the next of args.
func (q *threadQuery) and(cond string, args ...any) {
	q.where.WriteString(" AND ")
	for _, a := range args {
		i := strings.Index(cond, "$$")
		q.args = append(q.args, a)
		q.where.WriteString(cond[:i])
		q.where.WriteString("$" + strconv.Itoa(len(q.args)))
		cond = cond[i+2:]
	}
	q.where.WriteString(cond)
}

// filter adds f's conditions (not its cursor): the one place they are written.
func (q *threadQuery) filter(f ThreadFilter) {
	if f.Status != "" {
		q.and("status = $$", f.Status)
	}
	if f.App != "" {
		q.and("apps @> ARRAY[$$]::text[]", f.App)
	}
	switch {
	case f.AssigneeID > 0:
		q.and("assignee_id = $$", f.AssigneeID)
	case f.AssigneeID < 0:
		q.and("assignee_id IS NULL")
	}
	if f.LabelID > 0 {
		q.and("EXISTS (SELECT 1 FROM thread_labels tl WHERE tl.thread_id = threads.id AND tl.label_id = $$)", f.LabelID)
	}
	if f.Unread {
		q.and("unread_count > 0")
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		q.and(`(to_tsvector('simple', title) @@ plainto_tsquery('simple', $$)
			OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = threads.id AND m.tsv @@ plainto_tsquery('simple', $$)))`, qs, qs)
	}
}

// page is the statement that picks the threads, in order.
func (q *threadQuery) page(columns, order string, limit int) string {
	s := "SELECT " + columns + " FROM threads WHERE " + q.where.String() + " ORDER BY " + order
	if limit > 0 {
		s += " LIMIT " + strconv.Itoa(limit)
	}
	return s
}

// queue adds the page of threads to rb as one statement: each thread's
// row is joined with a row per participant (in join order) and, with
// labels, a row per label (by name), which a LATERAL … UNION ALL gives
// without multiplying the two. (A per-thread array_agg costs PostgreSQL
// three times as much; a second statement for the labels was sometimes
// re-planned on every call.)
//
// With allParticipants false, only threads without a title get theirs (the
// inbox list shows the first one's name in place of a title), which spares
// PostgreSQL two index probes per thread: OFFSET 0 keeps the subquery from
// being flattened, so the title test runs before the probes.
func (q *threadQuery) queue(rb *ReadBatch, order string, limit int, labels, allParticipants bool) *[]Thread {
	out := new([]Thread)
	var sql strings.Builder
	sql.WriteString(`SELECT ` + threadColumns + `, x.participant, x.id, x.contact_id, x.app, x.external_id, x.name, x.extra
		FROM (` + q.page("*", order, limit) + `) t
		LEFT JOIN LATERAL (
			(SELECT true AS participant, tp.identity_id AS id, i.contact_id, i.app, i.external_id, i.display_name AS name,
				tp.role AS extra, tp.joined_at AS sort_at, NULL::text AS sort_name
			FROM thread_participants tp JOIN identities i ON i.id = tp.identity_id
			WHERE tp.thread_id = t.id AND tp.left_at IS NULL`)
	if !allParticipants {
		sql.WriteString(` AND t.title = ''`)
	}
	sql.WriteString(` OFFSET 0)`)
	if labels {
		sql.WriteString(`
			UNION ALL
			SELECT false, l.id, NULL, NULL, NULL, l.name, l.color, NULL, l.name
			FROM thread_labels tl JOIN labels l ON l.id = tl.label_id
			WHERE tl.thread_id = t.id AND l.business_id = $1`)
	}
	sql.WriteString(`) x ON true
		ORDER BY t.` + strings.ReplaceAll(order, ", ", ", t.") + `, x.participant DESC, x.sort_at, x.sort_name, x.id`)
	rb.batch.Queue(sql.String(), q.args...)
	businessID := q.args[0].(int64)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		threads, err := scanThreads(br, businessID, limit)
		*out = threads
		return err
	})
	return out
}

// scanThreads reads threads joined with their participants and labels, a
// row each; expect is how many threads there may be (0: unknown).
func scanThreads(br pgx.BatchResults, businessID int64, expect int) ([]Thread, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Thread, 0, expect) // empty, not nil: the API writes []
	var (
		row                        Thread
		apps                       []string
		participant                pgtype.Bool
		id, contact                pgtype.Int8
		app, external, name, extra pgtype.Text
	)
	dest := []any{&row.ID, &row.BusinessID, &row.ChannelID, &row.Kind, &row.Origin, &row.DirectIdentityID,
		&row.ExternalGroupID, &row.Title, &apps, &row.Status, &row.SnoozedUntil, &row.AssigneeID, &row.LastMessageAt,
		&row.LastMessagePreview, &row.LastMessageDirection, &row.LastCustomerAt, &row.UnreadCount, &row.CreatedAt,
		&row.UpdatedAt, &participant, &id, &contact, &app, &external, &name, &extra}
	for rows.Next() {
		row, apps = Thread{}, nil // fresh pointers and slices: earlier threads keep theirs
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != row.ID {
			row.Apps = StringList(apps)
			row.Participants = []Participant{}
			out = append(out, row)
		}
		t := &out[len(out)-1]
		switch {
		case !participant.Valid: // neither
		case participant.Bool:
			t.Participants = append(t.Participants, Participant{IdentityID: id.Int64, ContactID: contact.Int64,
				App: app.String, ExternalID: external.String, DisplayName: name.String, Role: extra.String})
		default:
			t.Labels = append(t.Labels, Label{ID: id.Int64, BusinessID: businessID, Name: name.String, Color: extra.String})
		}
	}
	return out, rows.Err()
}

// listThreads queues a keyset page of threads; labels also fills each
// thread's Labels, and allParticipants false loads only untitled threads'
// participants.
func (rb *ReadBatch) listThreads(businessID int64, f ThreadFilter, labels, allParticipants bool) *ThreadPage {
	page := &ThreadPage{Threads: []Thread{}}
	limit := pageLimit(f.Limit, maxThreadPage)
	q := newThreadQuery(businessID)
	q.filter(f)
	if f.Cursor != "" {
		at, id, err := DecodeCursor(f.Cursor)
		if err != nil {
			rb.fail(err)
			return page
		}
		q.and("(last_message_at, id) < ($$, $$)", at, id)
	}
	threads := q.queue(rb, "last_message_at DESC, id DESC", limit+1, labels, allParticipants)
	rb.reads[len(rb.reads)-1] = wrapRead(rb.reads[len(rb.reads)-1], func() error {
		page.Threads = *threads
		if len(page.Threads) > limit {
			page.Threads = page.Threads[:limit]
			last := page.Threads[limit-1]
			page.NextCursor = EncodeCursor(last.LastMessageAt, last.ID)
		}
		return nil
	}, "list threads")
	return page
}

// wrapRead runs then after read succeeds, and wraps read's error.
func wrapRead(read func(pgx.BatchResults) error, then func() error, what string) func(pgx.BatchResults) error {
	return func(br pgx.BatchResults) error {
		if err := read(br); err != nil {
			return wrapErr(err, what)
		}
		return then()
	}
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

// MarkThreadRead clears the unread count and tells every open inbox of the
// business (a "thread" event: the row shows read for every agent, not only
// the one who opened it), in one statement.
func (s *Store) MarkThreadRead(ctx context.Context, businessID, id int64) error {
	ev, err := json.Marshal(Event{Type: "thread", BusinessID: businessID, ThreadID: id, Read: true})
	if err != nil {
		return err
	}
	_, err = s.sqlExec(ctx, `WITH r AS (
			UPDATE threads SET unread_count = 0 WHERE business_id = $1 AND id = $2 AND unread_count > 0 RETURNING id)
		SELECT pg_notify($3, $4) FROM r`, businessID, id, InboxChannel, string(ev))
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
	return s.closingThreads(ctx, businessID, now, limit, false)
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
