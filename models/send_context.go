package models

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// SendContext is what the outbox needs to judge and address a send to one
// thread: the thread, its channel and every customer taking part.
type SendContext struct {
	Thread    Thread
	Channel   *Channel // nil for a relay thread spanning apps
	Customers []SendCustomer
}

// SendCustomer is one customer participant with the facts the policy engine reads.
type SendCustomer struct {
	Identity Identity
	Events   map[string]time.Time // latest event per kind, in Meta's time (identity_events)
	Tokens   []OTNTokenState      // one-time notification tokens, oldest first
}

// OTNTokenState is an OTN token without its secret. A token reserved by a
// queued message counts as used, so two queued messages never spend one token.
type OTNTokenState struct {
	ID        int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	Reserved  bool // used_by_message_id is set
}

// Used reports whether the token is spent or promised to a queued message.
func (t OTNTokenState) Used() bool { return t.UsedAt != nil || t.Reserved }

// SendContexts loads the business's threads with their channels, customer
// participants, customer events and OTN tokens: five statements for any
// number of threads, sent as one pgx batch (one round trip). Each statement
// takes the business and the thread ids and finds its own rows through the
// threads of that business, so threads of another business are simply
// absent. lockTokens takes row locks on the tokens (inside InTx) so
// concurrent sends cannot both pick one.
func (s *Store) SendContexts(ctx context.Context, businessID int64, threadIDs []int64, lockTokens bool) (map[int64]*SendContext, error) {
	out := make(map[int64]*SendContext, len(threadIDs))
	if len(threadIDs) == 0 {
		return out, nil
	}
	var b pgx.Batch
	queueSendContexts(&b, businessID, "= ANY($2)", distinct(threadIDs), lockTokens)
	br := s.pgx().SendBatch(ctx, &b)
	err := readSendContexts(br, out)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, wrapErr(err, "load threads to send to")
	}
	return out, nil
}

// queueSendContexts queues SendContexts' five statements for the
// business's threads whose id is in (a condition on the id with $2 its
// argument, arg).
func queueSendContexts(b *pgx.Batch, businessID int64, in string, arg any, lockTokens bool) {
	// Every current participant of the threads, and a direct thread's own
	// identity even if its participant row is missing: (thread_id, identity_id).
	customers := `SELECT p.thread_id, p.identity_id FROM thread_participants p JOIN threads t ON t.id = p.thread_id
			WHERE t.business_id = $1 AND t.id ` + in + ` AND p.left_at IS NULL
		UNION SELECT id, direct_identity_id FROM threads WHERE business_id = $1 AND id ` + in + ` AND direct_identity_id IS NOT NULL`
	b.Queue(`SELECT `+threadColumns+` FROM threads t WHERE t.business_id = $1 AND t.id `+in, businessID, arg)
	b.Queue(`SELECT `+channelColumns+` FROM channels c
		WHERE c.id IN (SELECT channel_id FROM threads WHERE business_id = $1 AND id `+in+`)`, businessID, arg)
	b.Queue(`SELECT x.thread_id, `+identityColumns+` FROM (`+customers+`) x
		JOIN identities i ON i.id = x.identity_id ORDER BY x.thread_id, i.id`, businessID, arg)
	b.Queue(`SELECT identity_id, kind, last_at FROM identity_events
		WHERE identity_id IN (SELECT identity_id FROM (`+customers+`) x)`, businessID, arg)
	q := `SELECT id, identity_id, created_at, expires_at, used_at, used_by_message_id IS NOT NULL FROM otn_tokens
		WHERE identity_id IN (SELECT identity_id FROM (` + customers + `) x) AND kind = 'one_time' ORDER BY created_at, id`
	if lockTokens {
		q += ` FOR UPDATE OF otn_tokens`
	}
	b.Queue(q, businessID, arg)
}

// channelColumns are the channels columns in the order scanChannel reads them.
const channelColumns = `c.id, c.business_id, c.app, c.account_id, c.name, c.waba_id, c.display_phone, c.access_token_enc,
	c.app_secret_enc, c.verify_token, c.state, c.state_reason, c.news_page, c.human_agent, c.utility_templates, c.mps,
	c.created_at, c.updated_at`

// identityColumns are the identities columns in the order identityDest lists them.
const identityColumns = `i.id, i.business_id, i.contact_id, i.channel_id, i.app, i.external_id, i.phone, i.bsuid, i.username,
	i.country, i.display_name, i.profile_pic_url, i.locale, i.blocked_at, i.reported_at, i.marketing_opt_out_at,
	i.marketing_opt_out_via, i.created_at, i.updated_at`

func identityDest(i *Identity) []any {
	return []any{&i.ID, &i.BusinessID, &i.ContactID, &i.ChannelID, &i.App, &i.ExternalID, &i.Phone, &i.BSUID, &i.Username,
		&i.Country, &i.DisplayName, &i.ProfilePicURL, &i.Locale, &i.BlockedAt, &i.ReportedAt, &i.MarketingOptOutAt,
		&i.MarketingOptOutVia, &i.CreatedAt, &i.UpdatedAt}
}

// readSendContexts reads SendContexts' five results, in queue order, into out.
func readSendContexts(br pgx.BatchResults, out map[int64]*SendContext) error {
	// threads
	rows, err := br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var t Thread
		var apps []string
		if err := rows.Scan(&t.ID, &t.BusinessID, &t.ChannelID, &t.Kind, &t.Origin, &t.DirectIdentityID,
			&t.ExternalGroupID, &t.Title, &apps, &t.Status, &t.SnoozedUntil, &t.AssigneeID, &t.LastMessageAt,
			&t.LastMessagePreview, &t.LastMessageDirection, &t.LastCustomerAt, &t.UnreadCount, &t.CreatedAt,
			&t.UpdatedAt); err != nil {
			rows.Close()
			return err
		}
		t.Apps = StringList(apps)
		out[t.ID] = &SendContext{Thread: t}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// channels
	channels := map[int64]*Channel{}
	if rows, err = br.Query(); err != nil {
		return err
	}
	for rows.Next() {
		c := &Channel{}
		if err := rows.Scan(&c.ID, &c.BusinessID, &c.App, &c.AccountID, &c.Name, &c.WABAID, &c.DisplayPhone,
			&c.AccessTokenEnc, &c.AppSecretEnc, &c.VerifyToken, &c.State, &c.StateReason, &c.NewsPage, &c.HumanAgent,
			&c.UtilityTemplates, &c.MPS, &c.CreatedAt, &c.UpdatedAt); err != nil {
			rows.Close()
			return err
		}
		channels[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sc := range out {
		if sc.Thread.ChannelID != nil {
			sc.Channel = channels[*sc.Thread.ChannelID]
		}
	}
	// customers
	if rows, err = br.Query(); err != nil {
		return err
	}
	for rows.Next() {
		var threadID int64
		var id Identity
		if err := rows.Scan(append([]any{&threadID}, identityDest(&id)...)...); err != nil {
			rows.Close()
			return err
		}
		if sc := out[threadID]; sc != nil {
			sc.Customers = append(sc.Customers, SendCustomer{Identity: id, Events: map[string]time.Time{}})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// customer events
	events := map[int64][]IdentityEvent{}
	if rows, err = br.Query(); err != nil {
		return err
	}
	for rows.Next() {
		var e IdentityEvent
		if err := rows.Scan(&e.IdentityID, &e.Kind, &e.LastAt); err != nil {
			rows.Close()
			return err
		}
		events[e.IdentityID] = append(events[e.IdentityID], e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// OTN tokens, oldest first
	tokens := map[int64][]OTNTokenState{}
	if rows, err = br.Query(); err != nil {
		return err
	}
	for rows.Next() {
		var t OTNTokenState
		var identityID int64
		if err := rows.Scan(&t.ID, &identityID, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt, &t.Reserved); err != nil {
			rows.Close()
			return err
		}
		tokens[identityID] = append(tokens[identityID], t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sc := range out {
		for i := range sc.Customers {
			c := &sc.Customers[i]
			for _, e := range events[c.Identity.ID] {
				c.Events[e.Kind] = e.LastAt
			}
			c.Tokens = tokens[c.Identity.ID]
		}
	}
	return nil
}
