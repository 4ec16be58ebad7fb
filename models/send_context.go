package models

import (
	"context"
	"database/sql"
	"time"
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
// participants, customer events and OTN tokens, five queries for any number
// of threads. Threads of another business are simply absent. lockTokens takes
// row locks on the tokens (inside InTx) so concurrent sends cannot both pick one.
func (s *Store) SendContexts(ctx context.Context, businessID int64, threadIDs []int64, lockTokens bool) (map[int64]*SendContext, error) {
	out := make(map[int64]*SendContext, len(threadIDs))
	if len(threadIDs) == 0 {
		return out, nil
	}
	var threads []Thread
	if err := s.Gorm(ctx).Where("business_id = ? AND id IN ?", businessID, threadIDs).Find(&threads).Error; err != nil {
		return nil, wrapErr(err, "load threads to send to")
	}
	if len(threads) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(threads))
	var channelIDs []int64
	for i := range threads {
		out[threads[i].ID] = &SendContext{Thread: threads[i]}
		ids = append(ids, threads[i].ID)
		if threads[i].ChannelID != nil {
			channelIDs = append(channelIDs, *threads[i].ChannelID)
		}
	}
	if err := s.attachChannels(ctx, out, channelIDs); err != nil {
		return nil, err
	}
	identityIDs, err := s.attachCustomers(ctx, out, ids)
	if err != nil || len(identityIDs) == 0 {
		return out, err
	}
	return out, s.attachFacts(ctx, out, identityIDs, lockTokens)
}

func (s *Store) attachChannels(ctx context.Context, out map[int64]*SendContext, channelIDs []int64) error {
	if len(channelIDs) == 0 {
		return nil
	}
	var chs []Channel
	if err := s.Gorm(ctx).Where("id IN ?", channelIDs).Find(&chs).Error; err != nil {
		return wrapErr(err, "load channels to send on")
	}
	byID := make(map[int64]*Channel, len(chs))
	for i := range chs {
		byID[chs[i].ID] = &chs[i]
	}
	for _, sc := range out {
		if sc.Thread.ChannelID != nil {
			sc.Channel = byID[*sc.Thread.ChannelID]
		}
	}
	return nil
}

// attachCustomers adds every current participant, and a direct thread's own
// identity even if its participant row is missing.
func (s *Store) attachCustomers(ctx context.Context, out map[int64]*SendContext, threadIDs []int64) ([]int64, error) {
	var rows []struct {
		ThreadID int64
		Identity `gorm:"embedded"`
	}
	err := s.Gorm(ctx).Raw(`SELECT x.thread_id, i.* FROM (
			SELECT thread_id, identity_id FROM thread_participants WHERE thread_id IN ? AND left_at IS NULL
			UNION SELECT id, direct_identity_id FROM threads WHERE id IN ? AND direct_identity_id IS NOT NULL
		) x JOIN identities i ON i.id = x.identity_id ORDER BY x.thread_id, i.id`, threadIDs, threadIDs).Scan(&rows).Error
	if err != nil {
		return nil, wrapErr(err, "load customers to send to")
	}
	seen := make(map[int64]bool, len(rows))
	var ids []int64
	for _, r := range rows {
		sc := out[r.ThreadID]
		sc.Customers = append(sc.Customers, SendCustomer{Identity: r.Identity, Events: map[string]time.Time{}})
		if !seen[r.Identity.ID] {
			seen[r.Identity.ID] = true
			ids = append(ids, r.Identity.ID)
		}
	}
	return ids, nil
}

func (s *Store) attachFacts(ctx context.Context, out map[int64]*SendContext, identityIDs []int64, lockTokens bool) error {
	var evs []IdentityEvent
	if err := s.Gorm(ctx).Where("identity_id IN ?", identityIDs).Find(&evs).Error; err != nil {
		return wrapErr(err, "load customer events")
	}
	q := `SELECT id, identity_id, created_at, expires_at, used_at, used_by_message_id IS NOT NULL
		FROM otn_tokens WHERE identity_id IN ? AND kind = 'one_time' ORDER BY created_at, id`
	if lockTokens {
		q += ` FOR UPDATE`
	}
	type tokenRow struct {
		IdentityID int64
		OTNTokenState
	}
	var toks []tokenRow
	rows, err := s.Gorm(ctx).Raw(q, identityIDs).Rows()
	if err != nil {
		return wrapErr(err, "load OTN tokens")
	}
	defer rows.Close()
	for rows.Next() {
		var t tokenRow
		var used sql.NullTime
		if err := rows.Scan(&t.ID, &t.IdentityID, &t.CreatedAt, &t.ExpiresAt, &used, &t.Reserved); err != nil {
			return wrapErr(err, "read OTN token")
		}
		if used.Valid {
			t.UsedAt = &used.Time
		}
		toks = append(toks, t)
	}
	if err := rows.Err(); err != nil {
		return wrapErr(err, "read OTN tokens")
	}
	events := make(map[int64][]IdentityEvent, len(identityIDs))
	for _, e := range evs {
		events[e.IdentityID] = append(events[e.IdentityID], e)
	}
	tokens := make(map[int64][]OTNTokenState, len(toks))
	for _, t := range toks {
		tokens[t.IdentityID] = append(tokens[t.IdentityID], t.OTNTokenState)
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
