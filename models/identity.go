package models

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdentityKey names a customer on a channel as Meta does.
type IdentityKey struct {
	ChannelID  int64
	ExternalID string
}

// IdentitiesByExternal loads the identities of many (channel, external id)
// pairs in one statement, with the columns the inbound pipeline reads (ids,
// app, names, phone); missing ones are absent from the map.
func (s *Store) IdentitiesByExternal(ctx context.Context, keys []IdentityKey) (map[IdentityKey]*Identity, error) {
	chs, exts := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		chs[i], exts[i] = k.ChannelID, k.ExternalID
	}
	rows, err := s.sqlQuery(ctx, `SELECT i.id, i.business_id, i.contact_id, i.channel_id, i.app, i.external_id, i.phone,
			i.bsuid, i.username, i.country, i.display_name
		FROM unnest($1::bigint[], $2::text[]) AS v(c, e)
		JOIN identities i ON i.channel_id = v.c AND i.external_id = v.e`, chs, exts)
	if err != nil {
		return nil, wrapErr(err, "fetch %d identities by external id", len(keys))
	}
	out := make(map[IdentityKey]*Identity, len(keys))
	err = scanRows(rows, func(r *sql.Rows) error {
		var i Identity
		if err := r.Scan(&i.ID, &i.BusinessID, &i.ContactID, &i.ChannelID, &i.App, &i.ExternalID, &i.Phone,
			&i.BSUID, &i.Username, &i.Country, &i.DisplayName); err != nil {
			return err
		}
		out[IdentityKey{i.ChannelID, i.ExternalID}] = &i
		return nil
	})
	return out, wrapErr(err, "read identities by external id")
}

// CustomerRoutes says where known customers' messages go: each one's
// direct thread (absent before their first message) and whether they take
// part in an active relay group (their messages land in the group).
type CustomerRoutes struct {
	Direct map[int64]*Thread // by identity id
	Relay  map[int64]bool    // by identity id
}

// IdentitiesWithRoutes is IdentitiesByExternal with each identity's routes,
// read in the same statement.
func (s *Store) IdentitiesWithRoutes(ctx context.Context, keys []IdentityKey) (map[IdentityKey]*Identity, CustomerRoutes, error) {
	routes := CustomerRoutes{Direct: map[int64]*Thread{}, Relay: map[int64]bool{}}
	chs, exts := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		chs[i], exts[i] = k.ChannelID, k.ExternalID
	}
	rows, err := s.sqlQuery(ctx, `SELECT i.id, i.business_id, i.contact_id, i.channel_id, i.app, i.external_id, i.phone,
			i.bsuid, i.username, i.country, i.display_name, t.id, t.origin,
			EXISTS (SELECT 1 FROM thread_participants p JOIN threads g ON g.id = p.thread_id
				WHERE p.identity_id = i.id AND p.relay AND p.left_at IS NULL AND g.origin = 'relay')
		FROM unnest($1::bigint[], $2::text[]) AS v(c, e)
		JOIN identities i ON i.channel_id = v.c AND i.external_id = v.e
		LEFT JOIN threads t ON t.channel_id = i.channel_id AND t.direct_identity_id = i.id AND t.kind = 'direct'`, chs, exts)
	if err != nil {
		return nil, routes, wrapErr(err, "fetch %d identities with their threads", len(keys))
	}
	out := make(map[IdentityKey]*Identity, len(keys))
	err = scanRows(rows, func(r *sql.Rows) error {
		var i Identity
		var threadID *int64
		var origin *string
		var relay bool
		if err := r.Scan(&i.ID, &i.BusinessID, &i.ContactID, &i.ChannelID, &i.App, &i.ExternalID, &i.Phone,
			&i.BSUID, &i.Username, &i.Country, &i.DisplayName, &threadID, &origin, &relay); err != nil {
			return err
		}
		out[IdentityKey{i.ChannelID, i.ExternalID}] = &i
		if threadID != nil {
			ch, iid := i.ChannelID, i.ID
			routes.Direct[i.ID] = &Thread{ID: *threadID, BusinessID: i.BusinessID, ChannelID: &ch, DirectIdentityID: &iid,
				Kind: "direct", Origin: *origin}
		}
		if relay {
			routes.Relay[i.ID] = true
		}
		return nil
	})
	return out, routes, wrapErr(err, "read identities with their threads")
}

// CreateIdentitiesOnce adds identities (their contacts must exist) in one
// statement, skipping any whose (channel, external id) exists; it returns
// the ones it created, with their ids set.
func (s *Store) CreateIdentitiesOnce(ctx context.Context, ids []*Identity) ([]*Identity, error) {
	n := len(ids)
	var (
		biz, contacts, chs                = make([]int64, n), make([]int64, n), make([]int64, n)
		apps, exts, phones, bsuids, users = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		countries, names                  = make([]string, n), make([]string, n)
		byKey                             = make(map[IdentityKey]*Identity, n)
	)
	for i, id := range ids {
		biz[i], contacts[i], chs[i] = id.BusinessID, id.ContactID, id.ChannelID
		apps[i], exts[i], phones[i], bsuids[i], users[i] = id.App, id.ExternalID, id.Phone, id.BSUID, id.Username
		countries[i], names[i] = id.Country, id.DisplayName
		byKey[IdentityKey{id.ChannelID, id.ExternalID}] = id
	}
	rows, err := s.sqlQuery(ctx, `INSERT INTO identities (business_id, contact_id, channel_id, app, external_id, phone, bsuid,
			username, country, display_name)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[])
		ON CONFLICT (channel_id, external_id) DO NOTHING
		RETURNING id, channel_id, external_id, created_at, updated_at`,
		biz, contacts, chs, apps, exts, phones, bsuids, users, countries, names)
	if err != nil {
		return nil, wrapErr(err, "create %d identities", n)
	}
	var created []*Identity
	err = scanRows(rows, func(r *sql.Rows) error {
		var k IdentityKey
		var id int64
		var at, up time.Time
		if err := r.Scan(&id, &k.ChannelID, &k.ExternalID, &at, &up); err != nil {
			return err
		}
		if i := byKey[k]; i != nil {
			i.ID, i.CreatedAt, i.UpdatedAt = id, at, up
			created = append(created, i)
		}
		return nil
	})
	return created, wrapErr(err, "read created identities")
}

// SetIdentityDisplayNames records the names Meta sent with customers' events,
// many at once (ids and names are parallel).
func (s *Store) SetIdentityDisplayNames(ctx context.Context, ids []int64, names []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `UPDATE identities i SET display_name = v.name, updated_at = now()
		FROM unnest($1::bigint[], $2::text[]) AS v(id, name) WHERE i.id = v.id`, ids, names)
	return wrapErr(err, "name %d identities", len(ids))
}

// RecordCustomerEvents keeps the latest time (Meta's) of each kind of
// customer event, many at once; an older time never replaces a newer one.
// Each (identity, kind) must appear once.
func (s *Store) RecordCustomerEvents(ctx context.Context, evs []IdentityEvent) error {
	if len(evs) == 0 {
		return nil
	}
	ids, kinds, ats := make([]int64, len(evs)), make([]string, len(evs)), make([]time.Time, len(evs))
	for i, e := range evs {
		ids[i], kinds[i], ats[i] = e.IdentityID, e.Kind, e.LastAt
	}
	_, err := s.sqlExec(ctx, `INSERT INTO identity_events (identity_id, kind, last_at)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
		ON CONFLICT (identity_id, kind) DO UPDATE SET last_at = GREATEST(identity_events.last_at, EXCLUDED.last_at)`,
		ids, kinds, ats)
	return wrapErr(err, "record %d customer events", len(evs))
}

// LockCustomersAndFetchChannels takes the calling transaction's locks on
// the inbound pipeline's customer keys, in ascending order (pass them
// sorted), and loads the channels of accounts (ChannelsByAccounts), in one
// round trip: a processor batch's first step. Every batch that touches a
// customer's rows takes this one lock first, in one global order, so
// workers and replicas wait for each other instead of deadlocking.
func (s *Store) LockCustomersAndFetchChannels(ctx context.Context, locks []int32, accounts []AccountKey) (map[AccountKey]*Channel, error) {
	apps, accts := make([]string, len(accounts)), make([]string, len(accounts))
	for i, k := range accounts {
		apps[i], accts[i] = k.App, k.AccountID
	}
	var b pgx.Batch
	b.Queue(`SELECT count(pg_advisory_xact_lock($1::integer, k)) FROM unnest($2::integer[]) AS k`, inboundLockClass, locks)
	b.Queue(`SELECT `+channelColumns+` FROM channels c JOIN unnest($1::text[], $2::text[]) AS k(app, account)
		ON c.app = k.app AND c.account_id = k.account`, apps, accts)
	br := s.pgx().SendBatch(ctx, &b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, wrapErr(err, "lock %d customers", len(locks))
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrapErr(err, "fetch %d channels", len(accounts))
	}
	chs, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[Channel])
	if err != nil {
		return nil, wrapErr(err, "fetch %d channels", len(accounts))
	}
	out := make(map[AccountKey]*Channel, len(chs))
	for _, ch := range chs {
		out[AccountKey{ch.App, ch.AccountID}] = ch
	}
	return out, nil
}

// inboundLockClass is the advisory lock class (the first of two keys) of
// LockCustomersAndFetchChannels: the two-key space never meets single-key locks (goose, River).
const inboundLockClass = 0x5b1b
