package models

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Poll is a question with options, sent by the business (and tallied by us)
// or a customer's own poll Meta delivers without content (Opaque).
type Poll struct {
	ID         int64
	BusinessID int64
	ThreadID   int64
	MessageID  *int64 // the poll's message in its thread
	Question   string
	Multiple   bool
	Opaque     bool
	ClosesAt   *time.Time
	ClosedAt   *time.Time
	CreatedBy  *int64
	CreatedAt  time.Time
	Options    []PollOption `gorm:"foreignKey:PollID"`
}

// Closed reports whether votes no longer count.
func (p *Poll) Closed() bool { return p.ClosedAt != nil }

// PollOption is one answer to a poll; Position counts from 1, as customers
// number their answers.
type PollOption struct {
	ID       int64
	PollID   int64
	Position int
	Text     string
}

// PollVote is an identity's current vote: one option, or several when the
// poll is Multiple.
type PollVote struct {
	PollID     int64     `gorm:"primaryKey;autoIncrement:false"`
	IdentityID int64     `gorm:"primaryKey;autoIncrement:false"`
	OptionIDs  Int64List `gorm:"column:option_ids;type:bigint[]"`
	App        string
	VotedAt    time.Time
}

// ErrPollClosed is a vote on a closed poll: kept as a message, not counted.
var ErrPollClosed = errors.New("models: the poll is closed")

// CreatePoll stores a poll and its options (Position 1..n in the given order).
func (s *Store) CreatePoll(ctx context.Context, p *Poll) error {
	for i := range p.Options {
		p.Options[i].Position = i + 1
	}
	return wrapErr(s.Gorm(ctx).Create(p).Error, "create poll")
}

// SetPollMessage ties a poll to the message that shows it in its thread
// (which is then of kind poll).
func (s *Store) SetPollMessage(ctx context.Context, pollID, messageID int64) error {
	if err := s.Gorm(ctx).Exec(`UPDATE messages SET kind = 'poll' WHERE id = ?`, messageID).Error; err != nil {
		return wrapErr(err, "mark message %d as a poll", messageID)
	}
	return wrapErr(s.Gorm(ctx).Exec(`UPDATE polls SET message_id = ? WHERE id = ?`, messageID, pollID).Error,
		"set message of poll %d", pollID)
}

// PollTally is a poll with each option's current count, in total and by app.
type PollTally struct {
	Poll
	Counts []int            // by Options index
	ByApp  []map[string]int // by Options index, then app
	Voters int
}

// Poll loads one of the business's polls with its tally, or nil.
func (s *Store) Poll(ctx context.Context, businessID, id int64) (*PollTally, error) {
	ts, err := s.tally(ctx, businessID, `p.id = $2`, id)
	if err != nil || len(ts) == 0 {
		return nil, wrapErr(err, "fetch poll %d", id)
	}
	return ts[0], nil
}

// PollsForMessages loads the polls shown by the business's messages, by message.
func (s *Store) PollsForMessages(ctx context.Context, businessID int64, messageIDs []int64) (map[int64]*PollTally, error) {
	out := map[int64]*PollTally{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	ts, err := s.tally(ctx, businessID, `p.message_id = ANY($2)`, distinct(messageIDs))
	if err != nil {
		return nil, wrapErr(err, "load polls")
	}
	for _, t := range ts {
		out[*t.MessageID] = t
	}
	return out, nil
}

// tally loads the business's polls matching where (over polls p, with $2
// its argument) with their options and the counts of their current votes:
// three statements in one round trip (a pgx batch), each finding its polls
// by the same condition, so a live tally frame costs one trip.
func (s *Store) tally(ctx context.Context, businessID int64, where string, arg any) ([]*PollTally, error) {
	polls := `FROM polls p WHERE p.business_id = $1 AND ` + where
	var b pgx.Batch
	b.Queue(`SELECT p.id, p.business_id, p.thread_id, p.message_id, p.question, p.multiple, p.opaque, p.closes_at,
		p.closed_at, p.created_by, p.created_at `+polls+` ORDER BY p.id`, businessID, arg)
	b.Queue(`SELECT o.id, o.poll_id, o.position, o.text FROM poll_options o
		WHERE o.poll_id IN (SELECT p.id `+polls+`) ORDER BY o.poll_id, o.position`, businessID, arg)
	// The counts are aggregated by the database (one row per option and
	// app), so a frame of a poll with many votes reads a handful of rows.
	b.Queue(`SELECT v.poll_id, o.option_id, v.app, count(*) AS n
		FROM poll_votes v CROSS JOIN LATERAL unnest(v.option_ids) AS o(option_id)
		WHERE v.poll_id IN (SELECT p.id `+polls+`) GROUP BY 1, 2, 3
		UNION ALL SELECT poll_id, 0, '', count(*) FROM poll_votes WHERE poll_id IN (SELECT p.id `+polls+`) GROUP BY poll_id`,
		businessID, arg)
	br := s.pgx().SendBatch(ctx, &b)
	out, err := readTally(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, wrapErr(err, "count poll votes")
	}
	return out, nil
}

// readTally reads tally's three results, in queue order.
func readTally(br pgx.BatchResults) ([]*PollTally, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var out []*PollTally
	byID := map[int64]*PollTally{}
	for rows.Next() {
		t := &PollTally{}
		p := &t.Poll
		if err := rows.Scan(&p.ID, &p.BusinessID, &p.ThreadID, &p.MessageID, &p.Question, &p.Multiple, &p.Opaque,
			&p.ClosesAt, &p.ClosedAt, &p.CreatedBy, &p.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		out, byID[p.ID] = append(out, t), t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	index := map[int64]int{} // option id → its index in its poll
	for rows.Next() {
		var o PollOption
		if err := rows.Scan(&o.ID, &o.PollID, &o.Position, &o.Text); err != nil {
			rows.Close()
			return nil, err
		}
		t := byID[o.PollID]
		index[o.ID] = len(t.Options)
		t.Options = append(t.Options, o)
		t.Counts = append(t.Counts, 0)
		t.ByApp = append(t.ByApp, map[string]int{})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = br.Query(); err != nil {
		return nil, err
	}
	for rows.Next() {
		var pollID, optionID, n int64
		var app string
		if err := rows.Scan(&pollID, &optionID, &app, &n); err != nil {
			rows.Close()
			return nil, err
		}
		t := byID[pollID]
		if optionID == 0 {
			t.Voters = int(n)
			continue
		}
		if i, ok := index[optionID]; ok && t.Options[i].PollID == pollID {
			t.Counts[i] += int(n)
			t.ByApp[i][app] += int(n)
		}
	}
	return out, rows.Err()
}

// ClosePoll stops counting votes; closed is false if it already was.
func (s *Store) ClosePoll(ctx context.Context, businessID, id int64, at time.Time) (closed bool, err error) {
	res := s.Gorm(ctx).Exec(`UPDATE polls SET closed_at = ? WHERE business_id = ? AND id = ? AND closed_at IS NULL`, at, businessID, id)
	if res.Error != nil {
		return false, wrapErr(res.Error, "close poll %d", id)
	}
	return res.RowsAffected > 0, s.notifyPoll(ctx, businessID, id)
}

// Vote is one customer's choice arriving from a chat.
type Vote struct {
	BusinessID int64
	PollID     int64
	Position   int // 1-based option number
	IdentityID int64
	App        string
	At         time.Time // Meta's time of the tap or text
}

// EventTally says a poll's tally changed (MessageID is the poll's message):
// the live path paces these to a few frames a second per poll.
const EventTally = "tally"

// CastVote counts a vote: the customer's one current vote moves to the
// option, or (Multiple) the option joins their choices. A vote older than the
// current one changes nothing (webhooks arrive out of order). ErrNotFound: no
// such poll or option of the business; ErrPollClosed: not counted. One
// statement checks the poll, records the vote and, when it changed the tally,
// queues an EventTally: a vote is one round trip.
func (s *Store) CastVote(ctx context.Context, v Vote) error {
	rows, err := s.sqlQuery(ctx, `WITH p AS (
			SELECT id, multiple, closed_at IS NOT NULL AS closed, thread_id, message_id FROM polls
			WHERE business_id = $1 AND id = $2 AND NOT opaque
		), o AS (
			SELECT po.id FROM poll_options po JOIN p ON po.poll_id = p.id AND NOT p.closed WHERE po.position = $3
		), v AS (
			INSERT INTO poll_votes AS pv (poll_id, identity_id, option_ids, app, voted_at)
			SELECT p.id, $4, ARRAY[o.id], $5, $6 FROM p, o
			ON CONFLICT (poll_id, identity_id) DO UPDATE SET
				option_ids = CASE WHEN NOT (SELECT multiple FROM p) THEN EXCLUDED.option_ids
					WHEN EXCLUDED.option_ids[1] = ANY(pv.option_ids) THEN pv.option_ids
					ELSE pv.option_ids || EXCLUDED.option_ids END,
				app = EXCLUDED.app, voted_at = GREATEST(pv.voted_at, EXCLUDED.voted_at)
			WHERE pv.voted_at <= EXCLUDED.voted_at
			RETURNING 1
		), n AS (
			SELECT pg_notify($7, json_build_object('t', $8::text, 'b', $1::bigint, 'th', p.thread_id, 'm', p.message_id)::text)
			FROM p WHERE p.message_id IS NOT NULL AND EXISTS (SELECT 1 FROM v)
		)
		SELECT (SELECT count(*) FROM p), COALESCE((SELECT closed FROM p), false), (SELECT count(*) FROM o), (SELECT count(*) FROM n)`,
		v.BusinessID, v.PollID, v.Position, v.IdentityID, v.App, v.At, InboxChannel, EventTally)
	if err != nil {
		return wrapErr(err, "record vote on poll %d", v.PollID)
	}
	var polls, options, notified int64
	var closed bool
	err = scanRows(rows, func(r *sql.Rows) error { return r.Scan(&polls, &closed, &options, &notified) })
	switch {
	case err != nil:
		return wrapErr(err, "record vote on poll %d", v.PollID)
	case polls == 0:
		return ErrNotFound
	case closed:
		return ErrPollClosed
	case options == 0:
		return ErrNotFound
	}
	return nil
}

// notifyPoll tells the live thread its poll's tally changed: a status event
// of the poll's message re-renders it.
func (s *Store) notifyPoll(ctx context.Context, businessID, pollID int64) error {
	var row struct {
		ThreadID  int64
		MessageID *int64
	}
	if err := s.Gorm(ctx).Raw(`SELECT thread_id, message_id FROM polls WHERE business_id = ? AND id = ?`, businessID, pollID).
		Scan(&row).Error; err != nil {
		return wrapErr(err, "fetch poll %d", pollID)
	}
	if row.MessageID == nil {
		return nil
	}
	return s.Notify(ctx, Event{Type: "status", BusinessID: businessID, ThreadID: row.ThreadID, MessageID: *row.MessageID})
}

// OpenPollIn is the latest open poll of the business in any of the threads
// (the one a bare number answers), with its options, or nil.
func (s *Store) OpenPollIn(ctx context.Context, businessID int64, threadIDs []int64) (*Poll, error) {
	var p Poll
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND thread_id IN ? AND closed_at IS NULL AND NOT opaque",
		businessID, threadIDs).Order("id DESC").Preload("Options"), &p)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch open poll")
	}
	return &p, nil
}

// pollRefPrefix starts the payload of a poll option we send as a quick
// reply, button or list row.
const pollRefPrefix = "poll:"

// PollChoiceRef is the payload of one option: "poll:<business>.<poll>.<n>.<mac>".
// The MAC binds all three, so a payload cannot be replayed on another poll
// or another business, nor invented.
func (c *Cipher) PollChoiceRef(businessID, pollID int64, position int) string {
	body := strconv.FormatInt(businessID, 10) + "." + strconv.FormatInt(pollID, 10) + "." + strconv.Itoa(position)
	return pollRefPrefix + body + "." + c.callbackMAC(pollRefPrefix+body)
}

// ParsePollChoiceRef reads a payload PollChoiceRef made.
func (c *Cipher) ParsePollChoiceRef(ref string) (businessID, pollID int64, position int, ok bool) {
	rest, found := strings.CutPrefix(ref, pollRefPrefix)
	if !found {
		return 0, 0, 0, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || !hmac.Equal([]byte(rest[i+1:]), []byte(c.callbackMAC(pollRefPrefix+rest[:i]))) {
		return 0, 0, 0, false
	}
	parts := strings.Split(rest[:i], ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	b, err1 := strconv.ParseInt(parts[0], 10, 64)
	p, err2 := strconv.ParseInt(parts[1], 10, 64)
	n, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, false
	}
	return b, p, n, true
}
