package models

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// RawWebhook is a payload exactly as Meta posted it.
type RawWebhook struct {
	ID          int64
	App         string
	Body        []byte
	Signature   string
	SignedBy    string    // app or channel (see WebhookSigner)
	Signers     Int64List `gorm:"column:signer_channel_ids"`
	BusinessIDs Int64List `gorm:"column:business_ids"`
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Outcome     string
	Error       string
	Attempts    int
}

// WebhookSigner is which secret verified a webhook POST: the deployment's
// Meta app secret (trusted for every entry), or the app secrets of these
// channels (trusted only for entries that route to one of them).
type WebhookSigner struct {
	App      bool
	Channels []int64
}

// Trusts reports whether an entry routed to channelID may be applied.
func (s WebhookSigner) Trusts(channelID int64) bool {
	if s.App {
		return true
	}
	for _, id := range s.Channels {
		if id == channelID {
			return true
		}
	}
	return false
}

func (s WebhookSigner) column() string {
	if s.App {
		return "app"
	}
	return "channel"
}

// NewRawWebhook is one verified POST to journal.
type NewRawWebhook struct {
	App       string
	Signature string
	Signer    WebhookSigner
	Body      []byte
	Lane      int16 // the processor lane that applies it (see inbound.LaneOf)
}

// AppendRawWebhooks stores verified payloads in one INSERT (the journal's
// group commit); they are pending until the processor applies them.
func (s *Store) AppendRawWebhooks(ctx context.Context, batch []NewRawWebhook) error {
	apps := make([]string, len(batch))
	sigs := make([]string, len(batch))
	signedBy := make([]string, len(batch))
	signers := make([]string, len(batch))
	bodies := make([][]byte, len(batch))
	lanes := make([]int16, len(batch))
	for i, r := range batch {
		apps[i], sigs[i], signedBy[i], bodies[i], lanes[i] = r.App, r.Signature, r.Signer.column(), r.Body, r.Lane
		v, _ := Int64List(r.Signer.Channels).Value()
		signers[i] = v.(string) // one bigint[] literal per row: unnest cannot take a 2-D ragged array
	}
	// No NOTIFY here: PostgreSQL holds one database-wide lock from a
	// notifying transaction's pre-commit until its commit is flushed, so a
	// NOTIFY in this durable commit would serialise every journal flush and
	// every processor commit behind each fsync. WakeRawWebhookListeners
	// follows the commit instead.
	_, err := s.DB.Pool.Exec(ctx, `INSERT INTO raw_webhooks (app, signature, signed_by, signer_channel_ids, body, lane)
		SELECT a, s, b, c::bigint[], d, l
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::smallint[]) AS u(a, s, b, c, d, l)`,
		apps, sigs, signedBy, signers, bodies, lanes)
	return wrapErr(err, "store webhooks")
}

// WakeRawWebhookListeners tells every replica's processor that raw webhooks
// were stored. Its own transaction commits without waiting for a WAL flush
// (a lost wake costs nothing the next one does not redo), so it holds
// PostgreSQL's notify lock only for an instant.
func (s *Store) WakeRawWebhookListeners(ctx context.Context) error {
	_, err := s.DB.Pool.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, RawWebhookChannel)
	return wrapErr(err, "wake raw webhook listeners")
}

// RawWebhookChannel is the NOTIFY channel that says raw webhooks are pending.
const RawWebhookChannel = "switchboard_raw_webhooks"

// ListenRawWebhooks calls wake once listening and then on every notification
// that raw webhooks were stored (by any replica), until ctx ends or the
// connection fails.
func (s *Store) ListenRawWebhooks(ctx context.Context, wake func()) error {
	conn, err := s.DB.Pool.Acquire(ctx)
	if err != nil {
		return wrapErr(err, "acquire a listening connection")
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+RawWebhookChannel); err != nil {
		return wrapErr(err, "listen for raw webhooks")
	}
	// A listening session is not given back to the pool: it is closed.
	defer func() { _ = conn.Conn().Close(context.WithoutCancel(ctx)) }()
	wake() // what was stored before we listened
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return wrapErr(err, "wait for raw webhooks")
		}
		wake()
	}
}

// PendingWebhook is a stored payload waiting to be applied.
type PendingWebhook struct {
	ID         int64
	App        string
	Body       []byte
	SignedBy   string
	Signers    Int64List `gorm:"column:signer_channel_ids"`
	ReceivedAt time.Time // when the journal stored it
}

// Signer is the secret that verified the payload.
func (p *PendingWebhook) Signer() WebhookSigner {
	return WebhookSigner{App: p.SignedBy == "app", Channels: p.Signers}
}

// ProcessWebhooks runs one batch of the processor in a transaction of its
// own: it claims up to limit pending payloads of lane (oldest first; every
// lane if lane < 0; payloads other workers hold are skipped), lets apply
// write what they say, and records the outcomes apply returns with the
// events for the browsers (as FinishWebhooks does). The claim carries the
// transaction's relaxed commit in the same round trip: its rows derive
// from durable payloads, which a crash that loses them leaves pending, so
// they are simply redone. apply is not called when nothing is pending; an
// error from it rolls everything back. It reports how many payloads it
// claimed.
//
// BEGIN and COMMIT stay round trips of their own: River's inserts (a relay
// leg's job) need the transaction as database/sql's *sql.Tx.
func (s *Store) ProcessWebhooks(ctx context.Context, lane int16, limit int,
	apply func(tx *Store, rows []PendingWebhook) ([]WebhookOutcome, []Event, error)) (int, error) {
	var claim pgx.Batch
	claim.Queue(`SET LOCAL synchronous_commit = off`)
	const cols = `SELECT id, app, body, signed_by, signer_channel_ids, received_at FROM raw_webhooks WHERE outcome = 'pending'`
	if lane < 0 {
		claim.Queue(cols+` ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	} else {
		claim.Queue(cols+` AND lane = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, lane, limit)
	}
	n := 0
	err := s.InTx(ctx, func(tx *Store) error {
		rows, err := readClaim(tx.pgx().SendBatch(ctx, &claim))
		if err != nil {
			return err
		}
		if n = len(rows); n == 0 {
			return nil
		}
		outs, notify, err := apply(tx, rows)
		if err != nil {
			return err
		}
		return tx.FinishWebhooks(ctx, outs, notify)
	})
	return n, wrapErr(err, "process webhooks of lane %d", lane)
}

// readClaim reads ProcessWebhooks' claim and closes its results.
func readClaim(br pgx.BatchResults) ([]PendingWebhook, error) {
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, wrapErr(err, "relax commit")
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrapErr(err, "claim pending webhooks")
	}
	defer rows.Close()
	var out []PendingWebhook
	for rows.Next() {
		var w PendingWebhook
		var signers []int64
		if err := rows.Scan(&w.ID, &w.App, &w.Body, &w.SignedBy, &signers, &w.ReceivedAt); err != nil {
			return nil, wrapErr(err, "read pending webhook")
		}
		w.Signers = signers
		out = append(out, w)
	}
	return out, wrapErr(rows.Err(), "claim pending webhooks")
}

// FoldWebhookLanes moves pending payloads journaled into a lane at or past
// lanes (by a build with more of them) into lane % lanes, so they are not
// left without a worker.
func (s *Store) FoldWebhookLanes(ctx context.Context, lanes int16) error {
	err := s.Gorm(ctx).Exec(`UPDATE raw_webhooks SET lane = lane % ? WHERE outcome = 'pending' AND lane >= ?`, lanes, lanes).Error
	return wrapErr(err, "fold webhook lanes into %d", lanes)
}

// Webhook outcomes.
const (
	WebhookProcessed      = "processed"
	WebhookFailed         = "failed"
	WebhookUnknownAccount = "unknown_account"
	WebhookRejected       = "rejected" // every entry was signed by a secret that does not own it
)

// Kinds of webhook problems.
const (
	ProblemFailed           = "failed"            // the event could not be applied
	ProblemForeignSignature = "foreign_signature" // signed by a secret other than its channel's or the app's
	ProblemUnknownAccount   = "unknown_account"   // no channel for the account
	ProblemUnreadable       = "unreadable"        // the payload (or part of it) could not be parsed
	ProblemUnresolved       = "unresolved"        // kept, but names no customer we can address yet
)

// WebhookProblem is one event (or unreadable payload) that was not applied.
// BusinessID is nil when no channel matched: only the operator sees it.
type WebhookProblem struct {
	RawWebhookID int64
	BusinessID   *int64
	ChannelID    *int64
	App          string
	AccountID    string
	Kind         string
	EventType    string
	EventKey     string
	Error        string
}

// WebhookOutcome is what processing one payload found.
type WebhookOutcome struct {
	ID          int64
	Outcome     string
	Error       string
	BusinessIDs []int64
	Problems    []WebhookProblem
}

// FinishWebhooks records the outcomes of a processed batch, replacing the
// problems an earlier attempt (a replay) recorded for the same payloads,
// and queues notify as NotifyEvents does: one round trip for all of it.
func (s *Store) FinishWebhooks(ctx context.Context, outs []WebhookOutcome, notify []Event) error {
	n := len(outs)
	ids, outcomes, errs, businesses := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	var problems []WebhookProblem
	for i, o := range outs {
		ids[i], outcomes[i], errs[i] = o.ID, o.Outcome, o.Error
		v, _ := Int64List(o.BusinessIDs).Value()
		businesses[i] = v.(string)
		problems = append(problems, o.Problems...)
	}
	payloads, err := notifyPayloads(notify)
	if err != nil {
		return err
	}
	var b pgx.Batch
	b.Queue(`UPDATE raw_webhooks r SET outcome = u.outcome, error = u.error, business_ids = u.b::bigint[],
			processed_at = clock_timestamp(), attempts = attempts + 1
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, outcome, error, b) WHERE r.id = u.id`,
		ids, outcomes, errs, businesses)
	b.Queue(`DELETE FROM webhook_problems WHERE raw_webhook_id = ANY($1)`, ids)
	if len(problems) > 0 {
		p := len(problems)
		raw, biz, chs := make([]int64, p), make([]*int64, p), make([]*int64, p)
		apps, accts, kinds, types, keys, msgs := make([]string, p), make([]string, p), make([]string, p), make([]string, p), make([]string, p), make([]string, p)
		for i, pr := range problems {
			raw[i], biz[i], chs[i] = pr.RawWebhookID, pr.BusinessID, pr.ChannelID
			apps[i], accts[i], kinds[i], types[i] = pr.App, StripNUL(pr.AccountID), pr.Kind, pr.EventType
			keys[i], msgs[i] = StripNUL(pr.EventKey), StripNUL(pr.Error)
		}
		b.Queue(`INSERT INTO webhook_problems (raw_webhook_id, business_id, channel_id, app, account_id, kind, event_type, event_key, error)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
			raw, biz, chs, apps, accts, kinds, types, keys, msgs)
	}
	if len(payloads) > 0 {
		b.Queue(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, InboxChannel, payloads)
	}
	br := s.pgx().SendBatch(ctx, &b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return wrapErr(err, "record %d webhook outcomes", n)
		}
	}
	return wrapErr(br.Close(), "record %d webhook outcomes", n)
}

// StripNUL removes the NUL characters PostgreSQL text cannot hold.
func StripNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// WebhookLogEntry is one line of a business's webhook log.
type WebhookLogEntry struct {
	ID           int64
	RawWebhookID int64
	App          string
	Kind         string
	EventType    string
	EventKey     string
	Error        string
	CreatedAt    time.Time
	Attempts     int
	// Body is the payload as text, only when every entry in it is this
	// business's own; a payload shared with other tenants is never shown.
	Body    string
	RawBody []byte `gorm:"column:raw_body"`
}

// Replayable reports whether an admin may apply the payload again after a fix.
func (e *WebhookLogEntry) Replayable() bool { return e.Kind == ProblemFailed }

// WebhookLog lists the business's latest webhook problems: events that failed
// and entries refused because another tenant's secret signed them.
func (s *Store) WebhookLog(ctx context.Context, businessID int64, limit int) ([]WebhookLogEntry, error) {
	var rows []WebhookLogEntry
	err := s.Gorm(ctx).Raw(`SELECT p.id, p.raw_webhook_id, p.app, p.kind, p.event_type, p.event_key, p.error, p.created_at, r.attempts,
			CASE WHEN r.business_ids = ARRAY[p.business_id] THEN substring(r.body for 4000) END AS raw_body
		FROM webhook_problems p JOIN raw_webhooks r ON r.id = p.raw_webhook_id
		WHERE p.business_id = ?
		ORDER BY p.created_at DESC, p.id DESC LIMIT ?`, businessID, limit).Scan(&rows).Error
	for i := range rows {
		rows[i].Body = strings.ToValidUTF8(string(rows[i].RawBody), "\uFFFD")
		rows[i].RawBody = nil
	}
	return rows, wrapErr(err, "list webhook log")
}

// OperatorWebhookLog lists problems no business can see (unknown accounts,
// unreadable payloads), for the deployment's operator.
func (s *Store) OperatorWebhookLog(ctx context.Context, limit int) ([]WebhookLogEntry, error) {
	var rows []WebhookLogEntry
	err := s.Gorm(ctx).Raw(`SELECT p.id, p.raw_webhook_id, p.app, p.kind, p.event_type, p.event_key, p.error, p.created_at, r.attempts
		FROM webhook_problems p JOIN raw_webhooks r ON r.id = p.raw_webhook_id
		WHERE p.business_id IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT ?`, limit).Scan(&rows).Error
	return rows, wrapErr(err, "list operator webhook log")
}

// ReplayWebhook puts a payload with an event of the business that failed back
// in the queue; applying is idempotent, so what already landed stays once.
func (s *Store) ReplayWebhook(ctx context.Context, businessID, rawID int64) error {
	res := s.Gorm(ctx).Exec(`UPDATE raw_webhooks SET outcome = 'pending', processed_at = NULL
		WHERE id = ? AND outcome <> 'pending' AND EXISTS (SELECT 1 FROM webhook_problems p
			WHERE p.raw_webhook_id = raw_webhooks.id AND p.business_id = ? AND p.kind = 'failed')`, rawID, businessID)
	if res.Error != nil {
		return wrapErr(res.Error, "replay webhook %d", rawID)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// PendingWebhookCount is how many journalled payloads, of every business,
// still wait for the processor; operators and the benchmarks watch it drain.
func (s *Store) PendingWebhookCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.Gorm(ctx).Model(&RawWebhook{}).Where("outcome = 'pending'").Count(&n).Error
	return n, wrapErr(err, "count pending webhooks")
}
