package models

import (
	"context"
	"database/sql"
	"time"
)

// ParticipantStatus is how far a message sent to a native WhatsApp group got
// with one participant (Meta's statuses[].recipient_participant_id).
type ParticipantStatus struct {
	ChannelID   int64
	ExternalID  string // the group message's wamid
	Participant string
	Status      string
	At          time.Time
	Pricing     JSON
}

// GroupReceipt sums a group message's participant statuses: delivered to
// Delivered of Of, read by Read of Of.
type GroupReceipt struct {
	Of, Delivered, Read int
}

// ExpectParticipants records the participants a native group message is
// queued to, as 'queued': a receipt counts them before any status arrives.
func (s *Store) ExpectParticipants(ctx context.Context, messageID int64, participants []string, at time.Time) error {
	if len(participants) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `INSERT INTO message_participant_statuses (message_id, participant, status, at)
		SELECT $1, p, 'queued', $3 FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING`, messageID, participants, at)
	return wrapErr(err, "record participants of message %d", messageID)
}

// AdvanceParticipantStatuses moves each participant's status of a group
// message forward (never back; failed only from queued or sent) and keeps the
// first pricing a participant's statuses carry, as one statement. Replays
// change nothing. It returns the messages whose receipt changed.
func (s *Store) AdvanceParticipantStatuses(ctx context.Context, us []ParticipantStatus) ([]StatusResult, error) {
	type key struct {
		ch       int64
		ext, who string
	}
	// One row per participant and message: a statement may not update a row twice.
	merged := map[key]ParticipantStatus{}
	var order []key
	for _, u := range us {
		k := key{u.ChannelID, u.ExternalID, u.Participant}
		m, ok := merged[k]
		switch {
		case !ok:
			order = append(order, k)
			m = u
		case participantAdvances(m.Status, u.Status):
			m.Status, m.At = u.Status, u.At
		}
		if len(m.Pricing) == 0 {
			m.Pricing = u.Pricing
		}
		merged[k] = m
	}
	n := len(order)
	if n == 0 {
		return nil, nil
	}
	chs, exts, whos, sts, ats, pricing := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n), make([]*string, n)
	for i, k := range order {
		m := merged[k]
		chs[i], exts[i], whos[i], sts[i], ats[i] = m.ChannelID, m.ExternalID, m.Participant, m.Status, m.At
		if len(m.Pricing) > 0 {
			p := string(m.Pricing)
			pricing[i] = &p
		}
	}
	rows, err := s.sqlQuery(ctx, `WITH up AS (
			INSERT INTO message_participant_statuses AS p (message_id, participant, status, at, pricing)
			SELECT m.id, v.who, v.st, v.at, v.pr::jsonb
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) WITH ORDINALITY AS v(ch, ext, who, st, at, pr, ord)
			JOIN messages m ON m.channel_id = v.ch AND m.external_id = v.ext
			ORDER BY v.ord
			ON CONFLICT (message_id, participant) DO UPDATE SET
				status = CASE WHEN `+advances+` THEN EXCLUDED.status ELSE p.status END,
				at = CASE WHEN `+advances+` THEN EXCLUDED.at ELSE p.at END,
				pricing = COALESCE(p.pricing, EXCLUDED.pricing)
			WHERE `+advances+` OR (p.pricing IS NULL AND EXCLUDED.pricing IS NOT NULL)
			RETURNING p.message_id)
		SELECT DISTINCT m.id, m.thread_id, m.business_id FROM up JOIN messages m ON m.id = up.message_id`,
		chs, exts, whos, sts, ats, pricing)
	if err != nil {
		return nil, wrapErr(err, "advance %d participant statuses", n)
	}
	var out []StatusResult
	err = scanRows(rows, func(r *sql.Rows) error {
		res := StatusResult{Found: true, Changed: true}
		err := r.Scan(&res.MessageID, &res.ThreadID, &res.BusinessID)
		out = append(out, res)
		return err
	})
	return out, wrapErr(err, "read messages of participant statuses")
}

// advances is participantAdvances in SQL, for the row p and the status EXCLUDED.
const advances = `((EXCLUDED.status <> 'failed' AND p.status <> 'failed' AND message_status_rank(p.status) < message_status_rank(EXCLUDED.status))
	OR (EXCLUDED.status = 'failed' AND p.status IN ('queued', 'sent')))`

// participantAdvances says whether a participant's status moves from cur to next.
func participantAdvances(cur, next string) bool {
	if next == StatusFailed {
		return cur == StatusQueued || cur == StatusSent
	}
	return cur != StatusFailed && statusRank(cur) < statusRank(next)
}

// GroupReceipts sums the participant statuses of the business's messages
// among ids; messages without any are left out.
func (s *Store) GroupReceipts(ctx context.Context, businessID int64, ids []int64) (map[int64]GroupReceipt, error) {
	out := map[int64]GroupReceipt{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.sqlQuery(ctx, `SELECT p.message_id, count(*),
			count(*) FILTER (WHERE p.status IN ('delivered', 'read', 'played')),
			count(*) FILTER (WHERE p.status IN ('read', 'played'))
		FROM message_participant_statuses p JOIN messages m ON m.id = p.message_id
		WHERE m.business_id = $1 AND p.message_id = ANY($2::bigint[]) GROUP BY p.message_id`, businessID, ids)
	if err != nil {
		return nil, wrapErr(err, "load group receipts")
	}
	err = scanRows(rows, func(r *sql.Rows) error {
		var id int64
		var g GroupReceipt
		if err := r.Scan(&id, &g.Of, &g.Delivered, &g.Read); err != nil {
			return err
		}
		out[id] = g
		return nil
	})
	return out, wrapErr(err, "read group receipts")
}
