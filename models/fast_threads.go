package models

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// The inbox's hot reads (thread lists, one thread, a thread's messages) run
// on pgx directly with hand-written SQL and manual scanning: through gorm
// and database/sql the reflection and per-column conversion cost more CPU
// than PostgreSQL spends answering. Each read is one round trip: a page of
// threads comes back with its participants (and, when asked, its labels)
// in one pgx batch.
//
// Inside InTx the Store's reads must see the transaction, which only gorm
// holds, so there the original gorm queries run (fast_test.go checks both
// paths return the same values).

// pool is the pgx pool for fast reads, or nil inside a transaction.
func (s *Store) pool() *pgxpool.Pool {
	if _, inTx := s.g.Statement.ConnPool.(gorm.TxCommitter); inTx || s.DB == nil {
		return nil
	}
	return s.DB.Pool
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

// page is the statement that picks the threads, in order.
func (q *threadQuery) page(columns, order string, limit int) string {
	s := "SELECT " + columns + " FROM threads WHERE " + q.where.String() + " ORDER BY " + order
	if limit > 0 {
		s += " LIMIT " + strconv.Itoa(limit)
	}
	return s
}

// fetch loads the page of threads with their participants (and labels)
// in one round trip; see queue.
func (q *threadQuery) fetch(ctx context.Context, pool *pgxpool.Pool, order string, limit int, labels bool) ([]Thread, error) {
	rb := &ReadBatch{pool: pool}
	out := q.queue(rb, order, limit, labels, true)
	if err := rb.Send(ctx); err != nil {
		return nil, err
	}
	return *out, nil
}

// queue adds the page of threads to rb as one statement: each thread's
// row is joined with a row per participant (in loadParticipants' order)
// and, with labels, a row per label (in LoadThreadLabels' order), which a
// LATERAL … UNION ALL gives without multiplying the two. (A per-thread
// array_agg costs PostgreSQL three times as much; a second statement for
// the labels was sometimes re-planned on every call.)
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

// ThreadsWithLabels queues ThreadWithLabels for each of ids: those of the
// business's threads among them, with participants and labels, by id.
func (rb *ReadBatch) ThreadsWithLabels(businessID int64, ids []int64) *[]Thread {
	if rb.pool == nil {
		out := new([]Thread)
		rb.slow = append(rb.slow, func(ctx context.Context) error {
			for _, id := range slices.Sorted(slices.Values(ids)) {
				t, err := rb.s.ThreadWithLabels(ctx, businessID, id)
				if err != nil {
					return err
				}
				if t != nil && (len(*out) == 0 || (*out)[len(*out)-1].ID != t.ID) {
					*out = append(*out, *t)
				}
			}
			return nil
		})
		return out
	}
	q := newThreadQuery(businessID)
	if len(ids) == 1 { // see idsCondition (fast_messages.go)
		q.and("id = $$", ids[0])
	} else {
		q.and("id = ANY($$)", ids)
	}
	return q.queue(rb, "id", 0, true, true)
}

// scanThreads reads threads joined with their participants and labels, a
// row each; expect is how many threads there may be (0: unknown).
func scanThreads(br pgx.BatchResults, businessID int64, expect int) ([]Thread, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Thread, 0, expect) // like gorm's Find: empty, not nil
	if decodable(rows) {
		return scanThreadsRaw(rows, businessID, out)
	}
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

// scanThreadsRaw is scanThreads through decodeThread and decodeExtra.
func scanThreadsRaw(rows pgx.Rows, businessID int64, out []Thread) ([]Thread, error) {
	for rows.Next() {
		v := rows.RawValues()
		if n := len(out); n == 0 || !sameThread(v, out[n-1].ID) {
			out = append(out, Thread{Participants: []Participant{}})
			if err := decodeThread(v, &out[len(out)-1]); err != nil {
				return nil, err
			}
		}
		x, err := decodeExtra(v)
		if err != nil {
			return nil, err
		}
		t := &out[len(out)-1]
		switch {
		case x.isNull:
		case x.participant:
			t.Participants = append(t.Participants, Participant{IdentityID: x.id, ContactID: x.contactID,
				App: x.app, ExternalID: x.externalID, DisplayName: x.name, Role: x.roleOrColor})
		default:
			t.Labels = append(t.Labels, Label{ID: x.id, BusinessID: businessID, Name: x.name, Color: x.roleOrColor})
		}
	}
	return out, rows.Err()
}

// listThreadsFast is ListThreads on pgx; labels also fills each thread's
// Labels, and allParticipants false loads only untitled threads' participants.
func (s *Store) listThreadsFast(ctx context.Context, pool *pgxpool.Pool, businessID int64, f ThreadFilter, labels, allParticipants bool) (*ThreadPage, error) {
	rb := &ReadBatch{pool: pool}
	page := rb.listThreads(businessID, f, labels, allParticipants)
	if err := rb.Send(ctx); err != nil {
		return nil, err
	}
	return page, nil
}

// listThreads queues a keyset page of threads (f.Limit already bounded).
func (rb *ReadBatch) listThreads(businessID int64, f ThreadFilter, labels, allParticipants bool) *ThreadPage {
	page := &ThreadPage{}
	q := newThreadQuery(businessID)
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
	if f.Cursor != "" {
		at, id, err := DecodeCursor(f.Cursor)
		if err != nil {
			rb.fail(err)
			return page
		}
		q.and("(last_message_at, id) < ($$, $$)", at, id)
	}
	threads := q.queue(rb, "last_message_at DESC, id DESC", f.Limit+1, labels, allParticipants)
	rb.reads[len(rb.reads)-1] = wrapRead(rb.reads[len(rb.reads)-1], func() error {
		page.Threads = *threads
		if len(page.Threads) > f.Limit {
			page.Threads = page.Threads[:f.Limit]
			last := page.Threads[f.Limit-1]
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

// InboxThreads queues Store.InboxThreads.
func (rb *ReadBatch) InboxThreads(businessID int64, f ThreadFilter) *ThreadPage {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if rb.pool == nil {
		page := &ThreadPage{}
		rb.slow = append(rb.slow, func(ctx context.Context) error {
			p, err := rb.s.InboxThreads(ctx, businessID, f)
			if err == nil {
				*page = *p
			}
			return err
		})
		return page
	}
	return rb.listThreads(businessID, f, true, false)
}

// ListThreadsWithLabels is ListThreads that also fills each thread's Labels
// (as LoadThreadLabels would), in the same round trip.
func (s *Store) ListThreadsWithLabels(ctx context.Context, businessID int64, f ThreadFilter) (*ThreadPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if pool := s.pool(); pool != nil {
		return s.listThreadsFast(ctx, pool, businessID, f, true, true)
	}
	page, err := s.ListThreads(ctx, businessID, f)
	if err != nil {
		return nil, err
	}
	return page, s.LoadThreadLabels(ctx, businessID, page.Threads)
}

// InboxThreads is the inbox list's page: ListThreadsWithLabels, except
// that only threads without a title have their Participants (the list
// names such a thread after its first participant); the others' are empty.
func (s *Store) InboxThreads(ctx context.Context, businessID int64, f ThreadFilter) (*ThreadPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if pool := s.pool(); pool != nil {
		return s.listThreadsFast(ctx, pool, businessID, f, true, false)
	}
	page, err := s.ListThreadsWithLabels(ctx, businessID, f)
	if err != nil {
		return nil, err
	}
	for i := range page.Threads {
		if page.Threads[i].Title != "" {
			page.Threads[i].Participants = []Participant{}
		}
	}
	return page, nil
}

// threadFast loads one thread with its participants (and labels), or nil.
func (s *Store) threadFast(ctx context.Context, pool *pgxpool.Pool, businessID, id int64, labels bool) (*Thread, error) {
	q := newThreadQuery(businessID)
	q.and("id = $$", id)
	ts, err := q.fetch(ctx, pool, "id", 0, labels)
	if err != nil || len(ts) == 0 {
		return nil, wrapErr(err, "fetch thread %d", id)
	}
	return &ts[0], nil
}

// ThreadWithLabels is Thread that also fills the thread's Labels.
func (s *Store) ThreadWithLabels(ctx context.Context, businessID, id int64) (*Thread, error) {
	if pool := s.pool(); pool != nil {
		return s.threadFast(ctx, pool, businessID, id, true)
	}
	t, err := s.Thread(ctx, businessID, id)
	if err != nil || t == nil {
		return nil, err
	}
	ts := []Thread{*t}
	if err := s.LoadThreadLabels(ctx, businessID, ts); err != nil {
		return nil, err
	}
	return &ts[0], nil
}

// closingThreadsFast is ClosingThreads on pgx, with labels.
func (s *Store) closingThreadsFast(ctx context.Context, pool *pgxpool.Pool, businessID int64, now time.Time, limit int, labels bool) ([]Thread, error) {
	since := now.Add(-FreeReplyWindow)
	q := newThreadQuery(businessID)
	q.and("status = $$ AND last_message_at > $$ AND last_customer_at > $$", ThreadOpen, since, since)
	ts, err := q.fetch(ctx, pool, "last_customer_at, id", limit, labels)
	return ts, wrapErr(err, "list closing threads")
}

// ClosingThreadsWithLabels is ClosingThreads that also fills each thread's Labels.
func (s *Store) ClosingThreadsWithLabels(ctx context.Context, businessID int64, now time.Time, limit int) ([]Thread, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if pool := s.pool(); pool != nil {
		return s.closingThreadsFast(ctx, pool, businessID, now, limit, true)
	}
	ts, err := s.ClosingThreads(ctx, businessID, now, limit)
	if err != nil {
		return nil, err
	}
	return ts, s.LoadThreadLabels(ctx, businessID, ts)
}

// loadThreadLabelsFast is LoadThreadLabels on pgx.
func loadThreadLabelsFast(ctx context.Context, pool *pgxpool.Pool, businessID int64, threads []Thread, index map[int64]int) error {
	ids := make([]int64, len(threads))
	for i := range threads {
		ids[i] = threads[i].ID
	}
	rows, err := pool.Query(ctx, `SELECT tl.thread_id, l.id, l.name, l.color FROM thread_labels tl
		JOIN labels l ON l.id = tl.label_id WHERE tl.thread_id = ANY($1) AND l.business_id = $2 ORDER BY l.name`, ids, businessID)
	if err != nil {
		return err
	}
	var threadID int64
	l := Label{BusinessID: businessID}
	_, err = pgx.ForEachRow(rows, []any{&threadID, &l.ID, &l.Name, &l.Color}, func() error {
		t := &threads[index[threadID]]
		t.Labels = append(t.Labels, l)
		return nil
	})
	return err
}
