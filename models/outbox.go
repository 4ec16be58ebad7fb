package models

import (
	"context"
	"database/sql"
	"strconv"
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
	// ClaimedAt fences the claim: MarkLeaving and the outcome of a retry only
	// apply while the claim is still this one.
	ClaimedAt time.Time
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
	// Waiting counts queued messages that cannot be sent yet: in backoff,
	// claimed by another worker, or possibly accepted by Meta and waiting for
	// their echo or status.
	Waiting int
	// NextAt is when the first waiting message may be claimed or given up as
	// unknown (zero if none wait).
	NextAt time.Time
	// Unknown are the messages this claim gave up on: their request left, and
	// no evidence came back within the reconciliation window.
	Unknown []int64
}

// ClaimTimes are the periods a claim is judged by.
type ClaimTimes struct {
	// Lease: a claim whose request never left (no MarkLeaving) is taken over
	// after this; its worker is presumed dead, and fencing stops it if not.
	Lease time.Duration
	// Reconcile: a send whose request left without an answer waits this long
	// for its echo or status, then is marked unknown; it is never sent again
	// on its own.
	Reconcile time.Duration
	// Now is the policy clock, for status_at of messages marked unknown.
	Now time.Time
	// Job is the River job claiming: it takes its own claims back at once.
	Job int64
}

// stillQueued tests m.status = 'queued' through the schema's rank function, so
// the planner looks messages up by id instead of walking the whole queue
// through the messages_outbox index (whose statistics lag behind a campaign).
const stillQueued = `message_status_rank(m.status) = 1`

// answerable tests that Meta's answer to a send still applies: queued, or
// unknown (the answer came after the reconciliation window gave up on it).
const answerable = `message_status_rank(m.status) IN (1, 2)`

// ClaimOutbound claims the given messages that are still queued,
// have no external id (an echo or status may have reconciled one meanwhile),
// are out of backoff, and are not possibly in Meta's hands. A claim counts an
// attempt; a claim whose request left (MarkLeaving) is never claimed again:
// it waits for evidence, and past the reconciliation window becomes unknown.
// A claim that never left is taken over after the lease.
func (s *Store) ClaimOutbound(ctx context.Context, ids []int64, ct ClaimTimes) (*ClaimResult, error) {
	res := &ClaimResult{}
	var err error
	if res.Unknown, err = s.markUnknown(ctx, ids, ct.Reconcile, ct.Now); err != nil {
		return nil, err
	}
	// Concurrent claims of one message serialise on outbox_sends' key; the
	// loser's DO UPDATE sees the winner's started_at and claims nothing.
	// The claim commits without waiting for its WAL flush: a claim a crash
	// loses never left (nothing is sent before MarkLeaving, whose synchronous
	// commit flushes the claim with it), so its message is simply claimed again.
	rows, err := s.sqlQuery(ctx, `WITH relax AS (
			SELECT set_config('synchronous_commit', 'off', true)
		), c AS (
			INSERT INTO outbox_sends AS s (message_id, attempts, started_at, job_id)
			SELECT m.id, 1, clock_timestamp(), NULLIF($3::bigint, 0)
			FROM unnest($1::bigint[]) AS v(id) CROSS JOIN relax JOIN messages m ON m.id = v.id
			WHERE m.direction = 'out' AND `+stillQueued+` AND m.external_id IS NULL
			ON CONFLICT (message_id) DO UPDATE SET attempts = s.attempts + 1, started_at = clock_timestamp(), send_after = NULL,
				job_id = NULLIF($3::bigint, 0)
			WHERE s.finished_at IS NULL AND (s.send_after IS NULL OR s.send_after <= clock_timestamp()) AND s.leaving_at IS NULL
				AND (s.started_at IS NULL OR s.job_id = NULLIF($3::bigint, 0) OR s.started_at <= clock_timestamp() - $2 * interval '1 second')
			RETURNING s.message_id, s.attempts, s.started_at
		)
		SELECT m.id, m.business_id, m.thread_id, COALESCE(m.channel_id, 0), m.app, m.kind, m.text, m.details,
			m.messaging_type, m.tag, c.attempts, c.started_at, COALESCE(r.external_id, ''), COALESCE(t.external_group_id, ''),
			COALESCE(i.id, 0), COALESCE(i.external_id, ''), COALESCE(i.phone, ''), COALESCE(i.bsuid, '')
		FROM c JOIN messages m ON m.id = c.message_id
		JOIN threads t ON t.id = m.thread_id
		LEFT JOIN identities i ON i.id = t.direct_identity_id AND t.kind = 'direct'
		LEFT JOIN messages r ON r.id = m.reply_to_id
		ORDER BY m.id`, ids, ct.Lease.Seconds(), ct.Job)
	if err != nil {
		return nil, wrapErr(err, "claim %d messages", len(ids))
	}
	err = scanRows(rows, func(rows *sql.Rows) error {
		var c OutboundClaim
		var details []byte
		if err := rows.Scan(&c.ID, &c.BusinessID, &c.ThreadID, &c.ChannelID, &c.App, &c.Kind, &c.Text, &details,
			&c.MessagingType, &c.Tag, &c.Attempts, &c.ClaimedAt, &c.ReplyToExternalID, &c.GroupID,
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
	if len(res.Claimed) == len(ids) {
		return res, nil
	}
	return res, s.countWaiting(ctx, ids, res, ct)
}

// countWaiting finds the given messages that are queued but not claimable yet.
func (s *Store) countWaiting(ctx context.Context, ids []int64, res *ClaimResult, ct ClaimTimes) error {
	claimed := make([]int64, len(res.Claimed))
	for i, c := range res.Claimed {
		claimed[i] = c.ID
	}
	var next sql.NullTime
	err := s.Gorm(ctx).Raw(`SELECT count(*), min(GREATEST(COALESCE(o.send_after, '-infinity'),
			CASE WHEN o.leaving_at IS NOT NULL THEN o.leaving_at + ? * interval '1 second'
				WHEN o.job_id = NULLIF(?::bigint, 0) THEN '-infinity'
				ELSE COALESCE(o.started_at + ? * interval '1 second', '-infinity') END))
		FROM unnest(?::bigint[]) AS v(id) JOIN messages m ON m.id = v.id LEFT JOIN outbox_sends o ON o.message_id = m.id
		WHERE NOT m.id = ANY(?) AND m.direction = 'out' AND `+stillQueued+` AND m.external_id IS NULL`,
		ct.Reconcile.Seconds(), ct.Job, ct.Lease.Seconds(), Int64List(ids), Int64List(claimed)).Row().Scan(&res.Waiting, &next)
	if err != nil {
		return wrapErr(err, "count waiting messages")
	}
	if next.Valid && next.Time.Year() > 1 {
		res.NextAt = next.Time
	}
	return nil
}

// markUnknown gives up on the given messages (all of them when ids is nil)
// whose request left at least reconcile ago and that no echo or status has
// reconciled since: status unknown, never sent again on their own.
//
// Like every writer of messages and their outbox_sends rows it locks the
// messages first, in id order (lockMessages), in its own transaction: the
// UPDATE of outbox_sends … FROM messages alone would lock claim rows before
// their messages and deadlock with RecordOutcomes recording the same sends.
func (s *Store) markUnknown(ctx context.Context, ids []int64, reconcile time.Duration, at time.Time) ([]int64, error) {
	var only any // NULL: every message
	if ids != nil {
		only = Int64List(ids)
	}
	var due []int64
	if err := s.Gorm(ctx).Raw(`SELECT o.message_id FROM outbox_sends o JOIN messages m ON m.id = o.message_id
		WHERE (?::bigint[] IS NULL OR o.message_id = ANY(?::bigint[])) AND o.finished_at IS NULL
			AND o.leaving_at <= clock_timestamp() - ? * interval '1 second' AND `+stillQueued+` AND m.external_id IS NULL
		ORDER BY 1`, only, only, reconcile.Seconds()).Scan(&due).Error; err != nil {
		return nil, wrapErr(err, "find unknown sends")
	}
	if len(due) == 0 {
		return nil, nil
	}
	var unknown []int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.lockMessages(ctx, due); err != nil {
			return err
		}
		var err error
		unknown, err = tx.markDueUnknown(ctx, due, reconcile, at)
		return err
	})
	return unknown, err
}

// markDueUnknown is markUnknown's update of the given messages, locked.
func (s *Store) markDueUnknown(ctx context.Context, only []int64, reconcile time.Duration, at time.Time) ([]int64, error) {
	rows, err := s.sqlQuery(ctx, `WITH due AS (
			UPDATE outbox_sends o SET finished_at = clock_timestamp() FROM messages m
			WHERE m.id = o.message_id AND ($1::bigint[] IS NULL OR o.message_id = ANY($1)) AND o.finished_at IS NULL
				AND o.leaving_at <= clock_timestamp() - $2 * interval '1 second' AND `+stillQueued+` AND m.external_id IS NULL
			RETURNING o.message_id, o.attempts
		), upd AS (
			UPDATE messages m SET status = 'unknown', status_at = $3, attempts = due.attempts
			FROM due WHERE m.id = due.message_id AND `+stillQueued+` AND m.external_id IS NULL
			RETURNING m.id, m.thread_id, m.business_id
		), st AS (
			INSERT INTO message_statuses (message_id, status, at) SELECT id, 'unknown', $3 FROM upd ON CONFLICT DO NOTHING
		), n AS (
			SELECT pg_notify($4, json_build_object('t', 'status', 'b', business_id, 'th', thread_id, 'm', id)::text) FROM upd
		)
		SELECT id FROM upd, (SELECT count(*) FROM n) AS notified`, Int64List(only), reconcile.Seconds(), at, InboxChannel)
	if err != nil {
		return nil, wrapErr(err, "mark unknown sends")
	}
	var unknown []int64
	err = scanRows(rows, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		unknown = append(unknown, id)
		return err
	})
	return unknown, wrapErr(err, "read unknown sends")
}

// MarkUnknownSends is markUnknown over every message: the safety net for
// sends whose job was lost with its worker.
func (s *Store) MarkUnknownSends(ctx context.Context, reconcile time.Duration, at time.Time) (int, error) {
	ids, err := s.markUnknown(ctx, nil, reconcile, at)
	return len(ids), err
}

// LeavingClaim is a claimed send whose request is about to leave for Meta.
type LeavingClaim struct {
	MessageID int64
	ClaimedAt time.Time
}

// MarkLeaving records that these claimed sends are about to reach Meta,
// before their Graph calls, and returns those it marked: a claim another
// worker has taken over is not marked, and its request must not be sent.
func (s *Store) MarkLeaving(ctx context.Context, claims []LeavingClaim) (map[int64]bool, error) {
	ids, at := make([]int64, len(claims)), make([]time.Time, len(claims))
	for i, c := range claims {
		ids[i], at[i] = c.MessageID, c.ClaimedAt
	}
	rows, err := s.sqlQuery(ctx, `UPDATE outbox_sends o SET leaving_at = clock_timestamp()
		FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, claimed)
		WHERE o.message_id = v.id AND o.started_at = v.claimed AND o.leaving_at IS NULL
		RETURNING o.message_id`, ids, at)
	if err != nil {
		return nil, wrapErr(err, "mark %d sends leaving", len(claims))
	}
	marked := make(map[int64]bool, len(claims))
	err = scanRows(rows, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		marked[id] = true
		return err
	})
	return marked, wrapErr(err, "read sends marked leaving")
}

// UnclaimedOfStuckJobs finds queued messages of send jobs River has had
// "running" for longer than lease that never claimed them (their worker died
// between taking the job and claiming, e.g. waiting for a connection), and
// gives each an empty claim row so they are reported once. River would run
// those jobs again only when its rescuer finds them.
func (s *Store) UnclaimedOfStuckJobs(ctx context.Context, kind string, lease time.Duration) ([]StaleClaim, error) {
	rows, err := s.sqlQuery(ctx, `WITH stuck AS (
			SELECT DISTINCT e.id::bigint AS id FROM river_job j, jsonb_array_elements_text(j.args->'message_ids') AS e(id)
			WHERE j.kind = $1 AND j.state = 'running' AND j.attempted_at <= clock_timestamp() - $2 * interval '1 second'
		), marked AS (
			INSERT INTO outbox_sends (message_id, attempts)
			SELECT m.id, 0 FROM stuck JOIN messages m ON m.id = stuck.id
			WHERE m.direction = 'out' AND `+stillQueued+` AND m.external_id IS NULL AND m.channel_id IS NOT NULL
			ON CONFLICT (message_id) DO NOTHING
			RETURNING message_id
		)
		SELECT m.id, m.business_id, m.channel_id FROM marked JOIN messages m ON m.id = marked.message_id`, kind, lease.Seconds())
	if err != nil {
		return nil, wrapErr(err, "find unclaimed sends of stuck jobs")
	}
	out, err := scanStaleClaims(rows)
	return out, wrapErr(err, "read unclaimed sends of stuck jobs")
}

// StaleClaim is a queued message whose claim was released.
type StaleClaim struct {
	MessageID  int64
	BusinessID int64
	ChannelID  int64
}

// scanStaleClaims reads rows of (message id, business id, channel id).
func scanStaleClaims(rows *sql.Rows) ([]StaleClaim, error) {
	var out []StaleClaim
	err := scanRows(rows, func(r *sql.Rows) error {
		var c StaleClaim
		err := r.Scan(&c.MessageID, &c.BusinessID, &c.ChannelID)
		out = append(out, c)
		return err
	})
	return out, err
}

// ReleaseStaleClaims frees claims whose request never left and that their
// job has not taken back for longer than lease, past their claim and their
// backoff: their worker died (before the Graph call, or between a retry and
// its job's snooze). A new job sends them now rather than when the job queue
// rescues the dead worker's job.
func (s *Store) ReleaseStaleClaims(ctx context.Context, lease time.Duration) ([]StaleClaim, error) {
	rows, err := s.sqlQuery(ctx, `UPDATE outbox_sends o SET started_at = NULL, job_id = NULL,
			attempts = CASE WHEN o.send_after IS NULL THEN GREATEST(o.attempts - 1, 0) ELSE o.attempts END
		FROM messages m
		WHERE m.id = o.message_id AND o.finished_at IS NULL AND o.leaving_at IS NULL
			AND o.started_at <= clock_timestamp() - $1 * interval '1 second'
			AND (o.send_after IS NULL OR o.send_after <= clock_timestamp() - $1 * interval '1 second')
			AND `+stillQueued+` AND m.external_id IS NULL AND m.channel_id IS NOT NULL
		RETURNING o.message_id, m.business_id, m.channel_id`, lease.Seconds())
	if err != nil {
		return nil, wrapErr(err, "release stale claims")
	}
	out, err := scanStaleClaims(rows)
	return out, wrapErr(err, "read released claims")
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

	// Failed: Meta refused it for good, it cannot be built, or the policy
	// refuses it now (PolicyReason, the decision's reason code).
	Failed       bool
	ErrorCode    *int
	ErrorTitle   string
	PolicyReason string

	// Otherwise it is retried not before RetryAt, unless Uncertain: Meta may
	// have accepted it, so it waits for its echo or status and is never sent
	// again on its own (past the reconciliation window it becomes unknown).
	RetryAt   time.Time
	Uncertain bool
	// ClaimedAt is the claim's fence: a retry is only recorded on that claim.
	ClaimedAt time.Time
	// NotAttempted: nothing reached Meta (no rate token in time, shutdown);
	// the claim does not count as an attempt.
	NotAttempted bool

	// OTNTokenID is the token the message spends: marked used when Sent (or
	// Spent), released when it Failed without Meta consuming it.
	OTNTokenID int64
	Spent      bool
}

// RecordOutcomes writes a batch of send outcomes in one
// transaction: provider ids and status sent (forward only: a status webhook
// may have got there first), failures with Meta's code and title, backoffs,
// and OTN token use, with a live-UI notification per changed message. It
// commits without waiting for its WAL flush: the sends' leaving marks are
// durable, so outcomes a database crash loses leave them to reconciliation
// (adopted from their echo or status, else unknown), never to a resend.
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
		if err := tx.RelaxCommit(ctx); err != nil {
			return err
		}
		if err := tx.lockMessages(ctx, outcomeIDs(outcomes)); err != nil {
			return err
		}
		if len(sent.ids) > 0 {
			if err := tx.recordSent(ctx, &sent); err != nil {
				return err
			}
		}
		if len(failed.ids) > 0 {
			if _, err := tx.sqlExec(ctx, `WITH v AS (
					SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::integer[], $4::text[], $6::text[]) AS v(id, at, code, title, reason)
				), done AS (
					UPDATE outbox_sends o SET finished_at = clock_timestamp() FROM v WHERE o.message_id = v.id RETURNING o.message_id, o.attempts
				), upd AS (
					UPDATE messages m SET status = 'failed', status_at = v.at, error_code = v.code, error_title = v.title,
						policy_reason = CASE WHEN v.reason <> '' THEN v.reason ELSE m.policy_reason END,
						attempts = COALESCE(d.attempts, m.attempts)
					FROM v LEFT JOIN done d ON d.message_id = v.id
					WHERE m.id = v.id AND `+answerable+`
					RETURNING m.id, m.thread_id, m.business_id, v.at
				), st AS (
					INSERT INTO message_statuses (message_id, status, at) SELECT id, 'failed', at FROM upd ON CONFLICT DO NOTHING
				)
				`+notifyChanged(5), failed.ids, failed.at, failed.codes, failed.titles, InboxChannel, failed.reasons); err != nil {
				return wrapErr(err, "record %d failures", len(failed.ids))
			}
		}
		if len(retry.ids) > 0 {
			// Only on the claim that made the attempt: a worker whose claim was
			// taken over must not free the new owner's. The claim stays with
			// its job, which takes it back after the backoff.
			if _, err := tx.sqlExec(ctx, `UPDATE outbox_sends o SET send_after = v.after,
					leaving_at = CASE WHEN v.uncertain THEN o.leaving_at ELSE NULL END,
					attempts = CASE WHEN v.unsent THEN GREATEST(o.attempts - 1, 0) ELSE o.attempts END
				FROM unnest($1::bigint[], $2::timestamptz[], $3::boolean[], $4::boolean[], $5::timestamptz[]) AS v(id, after, uncertain, unsent, claimed)
				WHERE o.message_id = v.id AND o.started_at = v.claimed`, retry.ids, retry.retryAt, retry.uncertain, retry.unsent, retry.claimed); err != nil {
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
		return nil
	})
}

// lockMessages takes the given messages' row locks in id order, as the first
// statement of a transaction that writes them and their outbox_sends rows:
// every writer of a batch of messages (outcomes, status webhooks, a pause
// recalling its queue) locks them in one order, messages before their
// outbox_sends and campaign_recipients rows, so two batches never deadlock.
func (s *Store) lockMessages(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `SELECT id FROM messages WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids)
	return wrapErr(err, "lock %d messages", len(ids))
}

func outcomeIDs(outcomes []SendOutcome) []int64 {
	ids := make([]int64, len(outcomes))
	for i, o := range outcomes {
		ids[i] = o.MessageID
	}
	return ids
}

// notifyChanged ends a statement whose CTE upd returned changed messages
// (id, thread_id, business_id) with one NOTIFY each, shaped as Event, on the
// channel passed as parameter $n.
func notifyChanged(n int) string {
	return `SELECT pg_notify($` + strconv.Itoa(n) + `, json_build_object('t', 'status', 'b', business_id, 'th', thread_id, 'm', id)::text) FROM upd`
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
	unsent    []bool
	claimed   []time.Time
	reasons   []string
}

func (c *outcomeColumns) add(o SendOutcome) {
	c.ids, c.at = append(c.ids, o.MessageID), append(c.at, o.At)
	c.ext, c.codes, c.titles = append(c.ext, o.ExternalID), append(c.codes, o.ErrorCode), append(c.titles, o.ErrorTitle)
	c.retryAt, c.uncertain = append(c.retryAt, o.RetryAt), append(c.uncertain, o.Uncertain)
	c.unsent, c.claimed, c.reasons = append(c.unsent, o.NotAttempted), append(c.claimed, o.ClaimedAt), append(c.reasons, o.PolicyReason)
}

// recordSent sets the provider id (unless reconciliation already did) and
// moves queued messages to sent, in one statement.
func (s *Store) recordSent(ctx context.Context, c *outcomeColumns) error {
	_, err := s.sqlExec(ctx, `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS v(id, ext, at)
		), done AS (
			UPDATE outbox_sends o SET finished_at = clock_timestamp() FROM v WHERE o.message_id = v.id RETURNING o.message_id, o.attempts
		), upd AS (
			UPDATE messages m SET external_id = COALESCE(m.external_id, NULLIF(v.ext, '')), status = 'sent',
				status_at = v.at, sent_at = v.at, attempts = COALESCE(d.attempts, m.attempts)
			FROM v LEFT JOIN done d ON d.message_id = v.id
			WHERE m.id = v.id AND `+answerable+`
			RETURNING m.id, m.thread_id, m.business_id, v.at
		), st AS (
			INSERT INTO message_statuses (message_id, status, at) SELECT id, 'sent', at FROM upd ON CONFLICT DO NOTHING
		)
		`+notifyChanged(4), c.ids, c.ext, c.at, InboxChannel)
	return wrapErr(err, "record %d sends", len(c.ids))
}

// ForgetFinishedSends drops the attempt bookkeeping of sends that ended a
// minute ago or more, first marking the end of those that left the queue
// without their worker recording it (an echo or status reconciled them while
// the worker was down). The minute outlasts any claim that read the message
// as still queued.
func (s *Store) ForgetFinishedSends(ctx context.Context) (int64, error) {
	if _, err := s.sqlExec(ctx, `UPDATE outbox_sends o SET finished_at = clock_timestamp() FROM messages m
		WHERE m.id = o.message_id AND o.finished_at IS NULL AND (m.status <> 'queued' OR m.external_id IS NOT NULL)`); err != nil {
		return 0, wrapErr(err, "mark finished sends")
	}
	res, err := s.sqlExec(ctx, `DELETE FROM outbox_sends WHERE finished_at < clock_timestamp() - interval '1 minute'`)
	if err != nil {
		return 0, wrapErr(err, "forget finished sends")
	}
	n, _ := res.RowsAffected()
	return n, nil
}
