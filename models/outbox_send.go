package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// OutboundClaim is a queued message a worker has claimed, with everything
// needed to address and build it.
type OutboundClaim struct {
	ID                int64
	BusinessID        int64
	ThreadID          int64
	ChannelID         int64
	App               string
	Kind              string
	Text              string
	Details           JSON
	MessagingType     string
	Tag               string
	Attempts          int // including this one
	ReplyToExternalID string
	GroupID           string // a group thread's external id; empty for direct threads
	Recipient         OutboundRecipient
	Attachments       []Attachment
}

// OutboundRecipient is a direct thread's customer as Meta addresses them.
type OutboundRecipient struct {
	IdentityID int64
	ExternalID string // PSID, IGSID, wa_id or BSUID
	Phone      string
	BSUID      string
}

// ClaimResult is what ClaimOutbound found among the ids it was given.
type ClaimResult struct {
	Claimed []OutboundClaim
	// Waiting counts queued messages that cannot be sent yet: in backoff, or
	// possibly accepted by Meta and waiting for reconciliation.
	Waiting int
	// NextAt is when the first waiting message may be claimed (zero if none wait).
	NextAt time.Time
}

// ClaimOutbound claims the given messages that are still queued, have no
// external id (an echo or status may have reconciled one meanwhile), are out
// of backoff, and are not possibly in Meta's hands: claimed less than
// reconcileAfter ago by an attempt that never recorded an outcome. A claimed
// message counts an attempt and is marked as possibly sent until RecordOutcomes
// says otherwise, so a duplicate job or a restarted worker never sends it twice.
func (s *Store) ClaimOutbound(ctx context.Context, ids []int64, reconcileAfter time.Duration) (*ClaimResult, error) {
	if err := s.adoptEchoes(ctx, ids); err != nil {
		return nil, err
	}
	rows, err := s.sqlQuery(ctx, `WITH c AS (
			UPDATE messages SET attempts = attempts + 1, send_started_at = clock_timestamp(), send_after = NULL
			WHERE id = ANY($1) AND direction = 'out' AND status = 'queued' AND external_id IS NULL
				AND (send_after IS NULL OR send_after <= clock_timestamp())
				AND (send_started_at IS NULL OR send_started_at <= clock_timestamp() - $2 * interval '1 second')
			RETURNING id, business_id, thread_id, channel_id, app, kind, text, details, messaging_type, tag, attempts, reply_to_id
		)
		SELECT c.id, c.business_id, c.thread_id, COALESCE(c.channel_id, 0), c.app, c.kind, c.text, c.details,
			c.messaging_type, c.tag, c.attempts, COALESCE(r.external_id, ''), COALESCE(t.external_group_id, ''),
			COALESCE(i.id, 0), COALESCE(i.external_id, ''), COALESCE(i.phone, ''), COALESCE(i.bsuid, '')
		FROM c JOIN threads t ON t.id = c.thread_id
		LEFT JOIN identities i ON i.id = t.direct_identity_id AND t.kind = 'direct'
		LEFT JOIN messages r ON r.id = c.reply_to_id
		ORDER BY c.id`, ids, reconcileAfter.Seconds())
	if err != nil {
		return nil, wrapErr(err, "claim %d messages", len(ids))
	}
	res := &ClaimResult{}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var c OutboundClaim
		var details []byte
		if err := rows.Scan(&c.ID, &c.BusinessID, &c.ThreadID, &c.ChannelID, &c.App, &c.Kind, &c.Text, &details,
			&c.MessagingType, &c.Tag, &c.Attempts, &c.ReplyToExternalID, &c.GroupID,
			&c.Recipient.IdentityID, &c.Recipient.ExternalID, &c.Recipient.Phone, &c.Recipient.BSUID); err != nil {
			return err
		}
		c.Details = JSON(details)
		res.Claimed = append(res.Claimed, c)
		return nil
	})
	if err != nil {
		return nil, wrapErr(err, "read claimed messages")
	}
	if err := s.claimAttachments(ctx, res.Claimed); err != nil {
		return nil, err
	}
	claimed := make([]int64, len(res.Claimed))
	for i, c := range res.Claimed {
		claimed[i] = c.ID
	}
	var next sql.NullTime
	err = s.Gorm(ctx).Raw(`SELECT count(*), min(GREATEST(COALESCE(send_after, '-infinity'),
			COALESCE(send_started_at + ? * interval '1 second', '-infinity')))
		FROM messages WHERE id = ANY(?) AND NOT id = ANY(?) AND direction = 'out' AND status = 'queued' AND external_id IS NULL`,
		reconcileAfter.Seconds(), Int64List(ids), Int64List(claimed)).Row().Scan(&res.Waiting, &next)
	if err != nil {
		return nil, wrapErr(err, "count waiting messages")
	}
	if next.Valid && next.Time.Year() > 1 {
		res.NextAt = next.Time
	}
	return res, nil
}

func (s *Store) claimAttachments(ctx context.Context, claims []OutboundClaim) error {
	var ids []int64
	index := map[int64]int{}
	for i, c := range claims {
		switch c.Kind {
		case "image", "video", "audio", "file", "sticker":
			ids = append(ids, c.ID)
			index[c.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var atts []Attachment
	if err := s.Gorm(ctx).Where("message_id IN ?", ids).Order("id").Find(&atts).Error; err != nil {
		return wrapErr(err, "load attachments to send")
	}
	for _, a := range atts {
		c := &claims[index[a.MessageID]]
		c.Attachments = append(c.Attachments, a)
	}
	return nil
}

func scanRows(rows *sql.Rows, fn func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SendOutcome is what one claimed send came to.
type SendOutcome struct {
	MessageID int64
	At        time.Time // when it happened, on the policy clock (sent_at, status_at)

	// Sent: Meta accepted it with this id (mid or wamid).
	Sent       bool
	ExternalID string

	// Failed: Meta refused it for good, or it cannot be built.
	Failed     bool
	ErrorCode  *int
	ErrorTitle string

	// Otherwise it is retried: not before RetryAt, and, when Uncertain (Meta may
	// have accepted it), not before the reconciliation period of its claim.
	RetryAt   time.Time
	Uncertain bool

	// OTNTokenID is the token the message spends: marked used when Sent (or
	// Spent), released when it Failed without Meta consuming it.
	OTNTokenID int64
	Spent      bool
}

// RecordOutcomes writes a batch of send outcomes in one transaction: provider
// ids and status sent (forward only: a status webhook may have got there
// first), failures with Meta's code and title, backoffs, and OTN token use.
func (s *Store) RecordOutcomes(ctx context.Context, outcomes []SendOutcome) error {
	var sent, failed, retry outcomeColumns
	var tokUsed, tokMsg, relTok, relMsg []int64
	var tokAt []time.Time
	for _, o := range outcomes {
		switch {
		case o.Sent:
			sent.add(o)
		case o.Failed:
			failed.add(o)
		default:
			retry.add(o)
		}
		if o.OTNTokenID != 0 {
			if o.Sent || o.Spent {
				tokUsed, tokMsg, tokAt = append(tokUsed, o.OTNTokenID), append(tokMsg, o.MessageID), append(tokAt, o.At)
			} else if o.Failed {
				relTok, relMsg = append(relTok, o.OTNTokenID), append(relMsg, o.MessageID)
			}
		}
	}
	return s.InTx(ctx, func(tx *Store) error {
		var changed []int64
		if len(sent.ids) > 0 {
			ids, err := tx.recordSent(ctx, &sent)
			if err != nil {
				return err
			}
			changed = append(changed, ids...)
		}
		if len(failed.ids) > 0 {
			ids, err := tx.recordFailed(ctx, &failed)
			if err != nil {
				return err
			}
			changed = append(changed, ids...)
		}
		if len(retry.ids) > 0 {
			if _, err := tx.sqlExec(ctx, `UPDATE messages m SET send_after = v.after,
					send_started_at = CASE WHEN v.uncertain THEN m.send_started_at ELSE NULL END
				FROM unnest($1::bigint[], $2::timestamptz[], $3::boolean[]) AS v(id, after, uncertain)
				WHERE m.id = v.id AND m.status = 'queued'`, retry.ids, retry.retryAt, retry.uncertain); err != nil {
				return wrapErr(err, "schedule %d retries", len(retry.ids))
			}
		}
		if len(tokUsed) > 0 {
			if _, err := tx.sqlExec(ctx, `UPDATE otn_tokens o SET used_at = COALESCE(o.used_at, v.at), used_by_message_id = v.msg
				FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS v(id, msg, at) WHERE o.id = v.id`,
				tokUsed, tokMsg, tokAt); err != nil {
				return wrapErr(err, "mark %d OTN tokens used", len(tokUsed))
			}
		}
		if len(relTok) > 0 {
			if _, err := tx.sqlExec(ctx, `UPDATE otn_tokens o SET used_by_message_id = NULL
				FROM unnest($1::bigint[], $2::bigint[]) AS v(id, msg)
				WHERE o.id = v.id AND o.used_at IS NULL AND o.used_by_message_id = v.msg`, relTok, relMsg); err != nil {
				return wrapErr(err, "release %d OTN tokens", len(relTok))
			}
		}
		return tx.notifyStatuses(ctx, changed)
	})
}

// outcomeColumns holds one kind of outcome as parallel arrays for unnest.
type outcomeColumns struct {
	ids       []int64
	at        []time.Time
	ext       []string
	codes     []*int
	titles    []string
	retryAt   []time.Time
	uncertain []bool
}

func (c *outcomeColumns) add(o SendOutcome) {
	c.ids, c.at = append(c.ids, o.MessageID), append(c.at, o.At)
	c.ext, c.codes, c.titles = append(c.ext, o.ExternalID), append(c.codes, o.ErrorCode), append(c.titles, o.ErrorTitle)
	c.retryAt, c.uncertain = append(c.retryAt, o.RetryAt), append(c.uncertain, o.Uncertain)
}

// recordSent sets the provider id (unless reconciliation already did) and
// moves queued messages to sent. An Instagram echo carries no metadata, so
// ingest may have stored our own send as a message of its own: that copy is
// merged into ours first.
func (s *Store) recordSent(ctx context.Context, c *outcomeColumns) ([]int64, error) {
	pairs, err := s.echoPairs(ctx, `SELECT o.id, d.id FROM unnest($1::bigint[], $2::text[]) AS v(id, ext)
		JOIN messages o ON o.id = v.id
		JOIN messages d ON d.channel_id = o.channel_id AND d.external_id = v.ext AND d.id <> o.id
		WHERE o.external_id IS NULL AND d.direction = 'out' AND d.author_user_id IS NULL AND d.status <> 'queued'`, c.ids, c.ext)
	if err != nil {
		return nil, err
	}
	if err := s.mergeEchoes(ctx, pairs); err != nil {
		return nil, err
	}
	var ids []int64
	for _, p := range pairs {
		ids = append(ids, p[0])
	}
	rows, err := s.sqlQuery(ctx, `UPDATE messages m SET external_id = COALESCE(m.external_id, NULLIF(v.ext, '')),
			status = 'sent', status_at = v.at, sent_at = v.at, send_started_at = NULL, send_after = NULL
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS v(id, ext, at)
		WHERE m.id = v.id AND m.status = 'queued'
		RETURNING m.id, v.at`, c.ids, c.ext, c.at)
	if err != nil {
		return nil, wrapErr(err, "record %d sends", len(c.ids))
	}
	var ats []time.Time
	merged := len(ids)
	if err := scanRows(rows, func(r *sql.Rows) error {
		var id int64
		var at time.Time
		if err := r.Scan(&id, &at); err != nil {
			return err
		}
		ids, ats = append(ids, id), append(ats, at)
		return nil
	}); err != nil {
		return nil, wrapErr(err, "read recorded sends")
	}
	_, err = s.sqlExec(ctx, `INSERT INTO message_statuses (message_id, status, at)
		SELECT id, 'sent', at FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, at) ON CONFLICT DO NOTHING`, ids[merged:], ats)
	return ids, wrapErr(err, "record sent statuses")
}

// recordFailed fails messages still queued, with Meta's code and title.
func (s *Store) recordFailed(ctx context.Context, c *outcomeColumns) ([]int64, error) {
	rows, err := s.sqlQuery(ctx, `UPDATE messages m SET status = 'failed', status_at = v.at,
			error_code = v.code, error_title = v.title, send_started_at = NULL, send_after = NULL
		FROM unnest($1::bigint[], $2::timestamptz[], $3::integer[], $4::text[]) AS v(id, at, code, title)
		WHERE m.id = v.id AND m.status = 'queued'
		RETURNING m.id, v.at`, c.ids, c.at, c.codes, c.titles)
	if err != nil {
		return nil, wrapErr(err, "record %d failures", len(c.ids))
	}
	var ids []int64
	var ats []time.Time
	if err := scanRows(rows, func(r *sql.Rows) error {
		var id int64
		var at time.Time
		if err := r.Scan(&id, &at); err != nil {
			return err
		}
		ids, ats = append(ids, id), append(ats, at)
		return nil
	}); err != nil {
		return nil, wrapErr(err, "read recorded failures")
	}
	_, err = s.sqlExec(ctx, `INSERT INTO message_statuses (message_id, status, at)
		SELECT id, 'failed', at FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, at) ON CONFLICT DO NOTHING`, ids, ats)
	return ids, wrapErr(err, "record failed statuses")
}

// adoptEchoes ties Instagram sends whose answer was lost to the echo ingest
// stored as a message of its own (Instagram echoes carry no metadata to match
// on): same thread, kind and text, stored after the send began. Claiming skips
// them from then on: the customer has the message.
func (s *Store) adoptEchoes(ctx context.Context, ids []int64) error {
	pairs, err := s.echoPairs(ctx, `SELECT DISTINCT ON (m.id) m.id, e.id
		FROM messages m JOIN messages e ON e.thread_id = m.thread_id AND e.id > m.id AND e.direction = 'out'
			AND e.author_user_id IS NULL AND e.external_id IS NOT NULL AND e.status <> 'queued'
			AND e.kind = m.kind AND e.text = m.text AND e.created_at >= m.send_started_at - interval '1 minute'
		WHERE m.id = ANY($1) AND m.app = 'instagram' AND m.direction = 'out' AND m.status = 'queued'
			AND m.external_id IS NULL AND m.send_started_at IS NOT NULL
		ORDER BY m.id, e.id`, ids)
	if err != nil || len(pairs) == 0 {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.mergeEchoes(ctx, pairs); err != nil {
			return err
		}
		ours := make([]int64, len(pairs))
		for i, p := range pairs {
			ours[i] = p[0]
		}
		return tx.notifyStatuses(ctx, ours)
	})
}

func (s *Store) echoPairs(ctx context.Context, q string, args ...any) ([][2]int64, error) {
	rows, err := s.sqlQuery(ctx, q, args...)
	if err != nil {
		return nil, wrapErr(err, "find echoed copies of sends")
	}
	var pairs [][2]int64
	err = scanRows(rows, func(r *sql.Rows) error {
		var p [2]int64
		if err := r.Scan(&p[0], &p[1]); err != nil {
			return err
		}
		pairs = append(pairs, p)
		return nil
	})
	return pairs, wrapErr(err, "read echoed copies of sends")
}

// mergeEchoes folds each echo copy [ours, echo] into our message: its
// provider id, its statuses, and its status when further along.
func (s *Store) mergeEchoes(ctx context.Context, pairs [][2]int64) error {
	for _, p := range pairs {
		ours, echo := p[0], p[1]
		var e struct {
			ExternalID string
			Status     string
			StatusAt   time.Time
		}
		if err := s.Gorm(ctx).Raw(`SELECT external_id, status, status_at FROM messages WHERE id = ?`, echo).Scan(&e).Error; err != nil {
			return wrapErr(err, "load echo %d", echo)
		}
		if err := s.Gorm(ctx).Exec(`INSERT INTO message_statuses (message_id, status, at, pricing)
			SELECT ?, status, at, pricing FROM message_statuses WHERE message_id = ? ON CONFLICT DO NOTHING`, ours, echo).Error; err != nil {
			return wrapErr(err, "move statuses of echo %d", echo)
		}
		if err := s.Gorm(ctx).Exec(`DELETE FROM messages WHERE id = ?`, echo).Error; err != nil {
			return wrapErr(err, "drop echo %d", echo)
		}
		if err := s.Gorm(ctx).Exec(`UPDATE messages SET external_id = ?, send_started_at = NULL, send_after = NULL,
				status = CASE WHEN message_status_rank(?) > message_status_rank('sent') THEN ? ELSE 'sent' END, status_at = ?
			WHERE id = ? AND status = 'queued'`, e.ExternalID, e.Status, e.Status, e.StatusAt, ours).Error; err != nil {
			return wrapErr(err, "adopt echo %d into message %d", echo, ours)
		}
		if err := s.Gorm(ctx).Exec(`INSERT INTO message_statuses (message_id, status, at) VALUES (?, 'sent', ?)
			ON CONFLICT DO NOTHING`, ours, e.StatusAt).Error; err != nil {
			return wrapErr(err, "record adopted send %d", ours)
		}
	}
	return nil
}

// notifyStatuses tells the live UI that these messages changed.
func (s *Store) notifyStatuses(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var rows []struct{ ID, ThreadID, BusinessID int64 }
	if err := s.Gorm(ctx).Raw(`SELECT id, thread_id, business_id FROM messages WHERE id = ANY(?)`, Int64List(ids)).
		Scan(&rows).Error; err != nil {
		return wrapErr(err, "load changed messages")
	}
	payloads := make([]string, len(rows))
	for i, r := range rows {
		b, _ := json.Marshal(Event{Type: "status", BusinessID: r.BusinessID, ThreadID: r.ThreadID, MessageID: r.ID})
		payloads[i] = string(b)
	}
	return s.notifyAll(ctx, payloads)
}
