package models

import (
	"context"
	"crypto/hmac"
	"errors"
	"strconv"
	"strings"
	"time"
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
	var ps []Poll
	if err := s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id).Find(&ps).Error; err != nil {
		return nil, wrapErr(err, "fetch poll %d", id)
	}
	ts, err := s.tally(ctx, ps)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return ts[0], nil
}

// PollsForMessages loads the polls shown by the business's messages, by message.
func (s *Store) PollsForMessages(ctx context.Context, businessID int64, messageIDs []int64) (map[int64]*PollTally, error) {
	out := map[int64]*PollTally{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	var ps []Poll
	if err := s.Gorm(ctx).Where("business_id = ? AND message_id IN ?", businessID, messageIDs).Find(&ps).Error; err != nil {
		return nil, wrapErr(err, "load polls")
	}
	ts, err := s.tally(ctx, ps)
	for _, t := range ts {
		out[*t.MessageID] = t
	}
	return out, err
}

// tally loads the options and counts the current votes of the polls.
func (s *Store) tally(ctx context.Context, polls []Poll) ([]*PollTally, error) {
	if len(polls) == 0 {
		return nil, nil
	}
	out := make([]*PollTally, len(polls))
	byID := make(map[int64]*PollTally, len(polls))
	ids := make([]int64, len(polls))
	for i := range polls {
		out[i] = &PollTally{Poll: polls[i]}
		byID[polls[i].ID], ids[i] = out[i], polls[i].ID
	}
	var opts []PollOption
	if err := s.Gorm(ctx).Where("poll_id IN ?", ids).Order("poll_id, position").Find(&opts).Error; err != nil {
		return nil, wrapErr(err, "load poll options")
	}
	index := map[int64]int{} // option id → its index in its poll
	for _, o := range opts {
		t := byID[o.PollID]
		index[o.ID] = len(t.Options)
		t.Options = append(t.Options, o)
		t.Counts = append(t.Counts, 0)
		t.ByApp = append(t.ByApp, map[string]int{})
	}
	var votes []PollVote
	if err := s.Gorm(ctx).Where("poll_id IN ?", ids).Find(&votes).Error; err != nil {
		return nil, wrapErr(err, "load poll votes")
	}
	for _, v := range votes {
		t := byID[v.PollID]
		t.Voters++
		for _, oid := range v.OptionIDs {
			if i, ok := index[oid]; ok && t.Options[i].PollID == v.PollID {
				t.Counts[i]++
				t.ByApp[i][v.App]++
			}
		}
	}
	return out, nil
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

// CastVote counts a vote: the customer's one current vote moves to the
// option, or (Multiple) the option joins their choices. A vote older than the
// current one changes nothing (webhooks arrive out of order). ErrNotFound: no
// such poll or option of the business; ErrPollClosed: not counted.
func (s *Store) CastVote(ctx context.Context, v Vote) error {
	var p Poll
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ? AND NOT opaque", v.BusinessID, v.PollID), &p)
	switch {
	case err != nil:
		return wrapErr(err, "fetch poll %d", v.PollID)
	case !ok:
		return ErrNotFound
	}
	if p.Closed() {
		return ErrPollClosed
	}
	var optionID int64
	if err := s.Gorm(ctx).Raw(`SELECT id FROM poll_options WHERE poll_id = ? AND position = ?`, p.ID, v.Position).
		Scan(&optionID).Error; err != nil {
		return wrapErr(err, "fetch option %d of poll %d", v.Position, p.ID)
	}
	if optionID == 0 {
		return ErrNotFound
	}
	set := `option_ids = EXCLUDED.option_ids`
	if p.Multiple {
		set = `option_ids = CASE WHEN EXCLUDED.option_ids[1] = ANY(poll_votes.option_ids) THEN poll_votes.option_ids
			ELSE poll_votes.option_ids || EXCLUDED.option_ids END`
	}
	err = s.Gorm(ctx).Exec(`INSERT INTO poll_votes (poll_id, identity_id, option_ids, app, voted_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (poll_id, identity_id) DO UPDATE SET `+set+`, app = EXCLUDED.app,
			voted_at = GREATEST(poll_votes.voted_at, EXCLUDED.voted_at)
		WHERE poll_votes.voted_at <= EXCLUDED.voted_at`, p.ID, v.IdentityID, Int64List{optionID}, v.App, v.At).Error
	if err != nil {
		return wrapErr(err, "record vote on poll %d", p.ID)
	}
	return s.notifyPoll(ctx, v.BusinessID, p.ID)
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
