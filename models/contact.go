package models

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"
)

// Contact is a person; they reach us through one Identity per app account.
type Contact struct {
	ID           int64      `json:"id"`
	BusinessID   int64      `json:"business_id"`
	Name         string     `json:"name"`
	Phone        string     `json:"phone"`
	Country      string     `json:"country"`
	Email        string     `json:"email"`
	MergedIntoID *int64     `json:"merged_into_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Identities   []Identity `gorm:"foreignKey:ContactID" json:"identities,omitempty"`
}

// Identity is a contact on one app account: a PSID, IGSID, wa_id or BSUID.
type Identity struct {
	ID                 int64      `json:"id"`
	BusinessID         int64      `json:"business_id"`
	ContactID          int64      `json:"contact_id"`
	ChannelID          int64      `json:"channel_id"`
	App                string     `json:"app"`
	ExternalID         string     `json:"external_id"`
	Phone              string     `json:"phone"`
	BSUID              string     `gorm:"column:bsuid" json:"bsuid"`
	Username           string     `json:"username"`
	Country            string     `json:"country"`
	DisplayName        string     `json:"display_name"`
	ProfilePicURL      string     `json:"profile_pic_url"`
	Locale             string     `json:"locale"` // Meta's profile locale (it_IT), when known
	BlockedAt          *time.Time `json:"blocked_at"`
	ReportedAt         *time.Time `json:"reported_at"`
	MarketingOptOutAt  *time.Time `json:"marketing_opt_out_at"`
	MarketingOptOutVia string     `json:"marketing_opt_out_via"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// IdentityEvent is the customer's latest event of one kind, in Meta's time.
type IdentityEvent struct {
	IdentityID int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind       string `gorm:"primaryKey"`
	LastAt     time.Time
}

// Contact loads one of the business's contacts with its identities, or nil.
func (s *Store) Contact(ctx context.Context, businessID, id int64) (*Contact, error) {
	var c Contact
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch contact %d", id)
	}
	if err := s.Gorm(ctx).Where("business_id = ? AND contact_id = ?", businessID, id).Order("app, id").
		Find(&c.Identities).Error; err != nil {
		return nil, wrapErr(err, "load identities of contact %d", id)
	}
	return &c, nil
}

// CreateContact adds a person.
func (s *Store) CreateContact(ctx context.Context, c *Contact) error {
	return wrapErr(s.Gorm(ctx).Create(c).Error, "create contact")
}

// Identity loads one of the business's identities, or nil.
func (s *Store) Identity(ctx context.Context, businessID, id int64) (*Identity, error) {
	var i Identity
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &i)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch identity %d", id)
	}
	return &i, nil
}

// CreateIdentity adds an identity; its contact must exist.
func (s *Store) CreateIdentity(ctx context.Context, i *Identity) error {
	return wrapErr(s.Gorm(ctx).Create(i).Error, "create identity")
}

// CreateIdentityOnce adds an identity unless (channel, external id) exists;
// created says which happened.
func (s *Store) CreateIdentityOnce(ctx context.Context, i *Identity) (created bool, err error) {
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(i)
	return res.RowsAffected > 0, wrapErr(res.Error, "create identity")
}

// IdentityByExternal finds the identity of an external id on a channel, or nil.
func (s *Store) IdentityByExternal(ctx context.Context, channelID int64, externalID string) (*Identity, error) {
	var i Identity
	ok, err := first(s.Gorm(ctx).Where("channel_id = ? AND external_id = ?", channelID, externalID), &i)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch identity by external id")
	}
	return &i, nil
}

// RecordCustomerEvent keeps the latest time (Meta's) of a kind of customer
// event; an older time never replaces a newer one.
func (s *Store) RecordCustomerEvent(ctx context.Context, identityID int64, kind string, at time.Time) error {
	err := s.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "identity_id"}, {Name: "kind"}},
		DoUpdates: clause.Set{{Column: clause.Column{Name: "last_at"}, Value: clause.Expr{SQL: "GREATEST(identity_events.last_at, EXCLUDED.last_at)"}}},
	}).Create(&IdentityEvent{IdentityID: identityID, Kind: kind, LastAt: at}).Error
	return wrapErr(err, "record %s event of identity %d", kind, identityID)
}

// CustomerEvents returns the identity's latest event time by kind.
func (s *Store) CustomerEvents(ctx context.Context, identityID int64) (map[string]time.Time, error) {
	var evs []IdentityEvent
	if err := s.Gorm(ctx).Where("identity_id = ?", identityID).Find(&evs).Error; err != nil {
		return nil, wrapErr(err, "load events of identity %d", identityID)
	}
	out := make(map[string]time.Time, len(evs))
	for _, e := range evs {
		out[e.Kind] = e.LastAt
	}
	return out, nil
}

// SetBlocked blocks or unblocks an identity.
func (s *Store) SetBlocked(ctx context.Context, businessID, identityID int64, blocked bool) error {
	var at any
	if blocked {
		at = time.Now()
	}
	err := s.Gorm(ctx).Model(&Identity{}).Where("business_id = ? AND id = ?", businessID, identityID).
		Updates(map[string]any{"blocked_at": at, "updated_at": time.Now()}).Error
	return wrapErr(err, "set blocked on identity %d", identityID)
}

// SetMarketingOptOut records a marketing stop (at != nil) or resume (nil),
// and how it was given.
func (s *Store) SetMarketingOptOut(ctx context.Context, businessID, identityID int64, at *time.Time, via string) error {
	// A decision taken now is newer than any preference Meta may still retry.
	err := s.Gorm(ctx).Exec(`UPDATE identities SET marketing_opt_out_at = ?, marketing_opt_out_via = ?, updated_at = now(),
			marketing_pref_at = GREATEST(marketing_pref_at, now()) WHERE business_id = ? AND id = ?`,
		at, via, businessID, identityID).Error
	return wrapErr(err, "set marketing opt-out on identity %d", identityID)
}

// ApplyMarketingPreference records a customer's own stop or resume as Meta
// timestamped it; one older than the preference already applied changes
// nothing (WhatsApp retries webhooks for days, out of order).
func (s *Store) ApplyMarketingPreference(ctx context.Context, businessID, identityID int64, stop bool, at time.Time, via string) (bool, error) {
	var optOut *time.Time
	if stop {
		optOut = &at
	}
	res := s.Gorm(ctx).Exec(`UPDATE identities SET marketing_opt_out_at = ?, marketing_opt_out_via = ?, marketing_pref_at = ?, updated_at = now()
		WHERE business_id = ? AND id = ? AND (marketing_pref_at IS NULL OR marketing_pref_at <= ?)`,
		optOut, via, at, businessID, identityID, at)
	return res.RowsAffected > 0, wrapErr(res.Error, "apply marketing preference of identity %d", identityID)
}

// OptOutRecipientOf records a marketing opt-out for the customer a message of
// ours was addressed to (Meta refused it with 131050).
func (s *Store) OptOutRecipientOf(ctx context.Context, channelID, messageID int64, at time.Time, via string) error {
	err := s.Gorm(ctx).Exec(`UPDATE identities i SET marketing_opt_out_at = COALESCE(i.marketing_opt_out_at, ?),
			marketing_opt_out_via = CASE WHEN i.marketing_opt_out_at IS NULL THEN ? ELSE i.marketing_opt_out_via END,
			marketing_pref_at = GREATEST(i.marketing_pref_at, ?), updated_at = now()
		FROM messages m JOIN threads t ON t.id = m.thread_id
		WHERE m.id = ? AND m.channel_id = ? AND i.id = t.direct_identity_id AND i.business_id = m.business_id`,
		at, via, at, messageID, channelID).Error
	return wrapErr(err, "opt out recipient of message %d", messageID)
}

// SetIdentityProfile records a customer's name from Meta's profile API and
// uses it for their contact and direct thread where those still show an id.
func (s *Store) SetIdentityProfile(ctx context.Context, id *Identity, name, username, picture string) error {
	return s.InTx(ctx, func(tx *Store) error {
		g := tx.Gorm(ctx)
		if err := g.Model(&Identity{}).Where("id = ?", id.ID).Updates(map[string]any{"display_name": name,
			"username": username, "profile_pic_url": picture, "updated_at": time.Now()}).Error; err != nil {
			return wrapErr(err, "set profile of identity %d", id.ID)
		}
		if err := g.Exec(`UPDATE contacts SET name = ?, updated_at = now() WHERE id = ? AND name = ''`, name, id.ContactID).Error; err != nil {
			return wrapErr(err, "name contact %d", id.ContactID)
		}
		var threadIDs []int64
		if err := g.Raw(`UPDATE threads SET title = ?, updated_at = now() WHERE direct_identity_id = ? AND title IN (?, '')
			RETURNING id`, name, id.ID, id.ExternalID).Scan(&threadIDs).Error; err != nil {
			return wrapErr(err, "title threads of identity %d", id.ID)
		}
		for _, t := range threadIDs {
			if err := tx.Notify(ctx, Event{Type: "thread", BusinessID: id.BusinessID, ThreadID: t}); err != nil {
				return err
			}
		}
		return nil
	})
}

// SearchIdentities finds the business's customers on any app by name,
// username or phone (all of them when q is empty), newest first.
func (s *Store) SearchIdentities(ctx context.Context, businessID int64, q string, limit int) ([]Identity, error) {
	db := s.Gorm(ctx).Where("business_id = ?", businessID)
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
		db = db.Where("lower(display_name) LIKE ? OR lower(username) LIKE ? OR phone LIKE ?", like, like, like)
	}
	var ids []Identity
	err := db.Order("updated_at DESC, id DESC").Limit(limit).Find(&ids).Error
	return ids, wrapErr(err, "search identities")
}

// SetIdentityDisplayName records the name Meta sent with a customer's event.
func (s *Store) SetIdentityDisplayName(ctx context.Context, id *Identity, name string) error {
	err := s.Gorm(ctx).Model(id).Updates(map[string]any{"display_name": name, "updated_at": time.Now()}).Error
	id.DisplayName = name
	return wrapErr(err, "name identity %d", id.ID)
}

// ContactByPhone is the business's unmerged contact with that number, or nil.
func (s *Store) ContactByPhone(ctx context.Context, businessID int64, phone string) (*Contact, error) {
	var c Contact
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND phone = ? AND merged_into_id IS NULL", businessID, phone).Order("id"), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch contact by phone")
	}
	return &c, nil
}

// DeleteContact removes a contact (one created in a race another worker won).
func (s *Store) DeleteContact(ctx context.Context, id int64) error {
	return wrapErr(s.Gorm(ctx).Delete(&Contact{}, id).Error, "delete contact %d", id)
}

// MoveIdentityNumber points a WhatsApp identity at its new number; its history stays.
func (s *Store) MoveIdentityNumber(ctx context.Context, id *Identity, waID, phone, country string) error {
	err := s.Gorm(ctx).Model(id).Updates(map[string]any{"external_id": waID, "phone": phone, "country": country,
		"updated_at": time.Now()}).Error
	return wrapErr(err, "move identity %d to its new number", id.ID)
}

// NamelessIdentity is a Messenger or Instagram customer still shown by id.
type NamelessIdentity struct {
	Identity
	AccountID string
}

// NamelessIdentities lists up to limit recent nameless identities on active channels.
func (s *Store) NamelessIdentities(ctx context.Context, limit int) ([]NamelessIdentity, error) {
	var rows []NamelessIdentity
	err := s.Gorm(ctx).Raw(`SELECT i.*, c.account_id FROM identities i JOIN channels c ON c.id = i.channel_id
		WHERE i.app IN ('messenger', 'instagram') AND i.display_name = '' AND c.state = 'active'
		AND i.created_at > now() - interval '7 days' ORDER BY i.id DESC LIMIT ?`, limit).Scan(&rows).Error
	return rows, wrapErr(err, "list nameless identities")
}

// SetIdentityLocale records the customer's language from Meta's profile
// (Messenger/Instagram `locale`, e.g. it_IT).
func (s *Store) SetIdentityLocale(ctx context.Context, businessID, identityID int64, locale string) error {
	err := s.Gorm(ctx).Exec(`UPDATE identities SET locale = ?, updated_at = now() WHERE business_id = ? AND id = ?`,
		locale, businessID, identityID).Error
	return wrapErr(err, "set locale of identity %d", identityID)
}

// BusinessLocale is the business's language: its first admin's (else first
// member's) UI language; "en" when it has none.
func (s *Store) BusinessLocale(ctx context.Context, businessID int64) (string, error) {
	var locale string
	err := s.Gorm(ctx).Raw(`SELECT u.locale FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.business_id = ? ORDER BY (m.role = 'admin') DESC, m.created_at, u.id LIMIT 1`, businessID).Scan(&locale).Error
	if locale == "" {
		locale = "en"
	}
	return locale, wrapErr(err, "read language of business %d", businessID)
}

// ContactPhone is a business's phone number, for ContactsByPhone.
type ContactPhone struct {
	BusinessID int64
	Phone      string
}

// ContactsByPhone finds, for each (business, phone), the business's oldest
// unmerged contact with that number, as ContactByPhone does, in one statement.
func (s *Store) ContactsByPhone(ctx context.Context, keys []ContactPhone) (map[ContactPhone]*Contact, error) {
	biz, phones := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		biz[i], phones[i] = k.BusinessID, k.Phone
	}
	var rows []Contact
	err := s.Gorm(ctx).Raw(`SELECT DISTINCT ON (c.business_id, c.phone) c.* FROM unnest(?::bigint[], ?::text[]) AS v(b, p)
		JOIN contacts c ON c.business_id = v.b AND c.phone = v.p AND c.merged_into_id IS NULL
		ORDER BY c.business_id, c.phone, c.id`, Int64List(biz), StringArray(phones)).Scan(&rows).Error
	if err != nil {
		return nil, wrapErr(err, "fetch %d contacts by phone", len(keys))
	}
	out := make(map[ContactPhone]*Contact, len(rows))
	for i := range rows {
		out[ContactPhone{rows[i].BusinessID, rows[i].Phone}] = &rows[i]
	}
	return out, nil
}

// CreateContacts adds people in one statement, in order, setting their ids.
func (s *Store) CreateContacts(ctx context.Context, cs []*Contact) error {
	if len(cs) == 0 {
		return nil
	}
	rows, err := s.sqlQuery(ctx, `SELECT nextval(pg_get_serial_sequence('contacts', 'id')) FROM generate_series(1, $1)`, len(cs))
	if err != nil {
		return wrapErr(err, "allocate %d contact ids", len(cs))
	}
	i := 0
	if err := scanRows(rows, func(r *sql.Rows) error { err := r.Scan(&cs[i].ID); i++; return err }); err != nil {
		return wrapErr(err, "read contact ids")
	}
	n := len(cs)
	ids, biz := make([]int64, n), make([]int64, n)
	names, phones, countries := make([]string, n), make([]string, n), make([]string, n)
	now := time.Now()
	for i, c := range cs {
		ids[i], biz[i], names[i], phones[i], countries[i] = c.ID, c.BusinessID, c.Name, c.Phone, c.Country
		c.CreatedAt, c.UpdatedAt = now, now
	}
	_, err = s.sqlExec(ctx, `INSERT INTO contacts (id, business_id, name, phone, country, created_at, updated_at)
		SELECT id, b, n, p, c, $6, $6 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS v(id, b, n, p, c)`,
		ids, biz, names, phones, countries, now)
	return wrapErr(err, "create %d contacts", n)
}

// DeleteContacts removes contacts created in a race another writer won.
func (s *Store) DeleteContacts(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `DELETE FROM contacts WHERE id = ANY($1::bigint[])`, ids)
	return wrapErr(err, "delete %d contacts", len(ids))
}

// SearchContacts finds a business's live (not merged away) contacts by name
// words or phone, at most limit.
func (s *Store) SearchContacts(ctx context.Context, businessID int64, q string, excludeID int64, limit int) ([]Contact, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	var cs []Contact
	err := s.Gorm(ctx).Where(`business_id = ? AND merged_into_id IS NULL AND id <> ? AND
			(to_tsvector('simple', name) @@ plainto_tsquery('simple', ?) OR (phone <> '' AND phone = ?))`,
		businessID, excludeID, q, q).Order("name, id").Limit(limit).Find(&cs).Error
	return cs, wrapErr(err, "search contacts")
}

// ThreadContacts queues the contacts behind a thread's current
// participants, each once, in participant order, at most 8 (a group's panel
// shows the first few): Store.Contact for each, with identities. The ids
// come from the thread itself: a statement with an id array parameter is
// re-planned on every call (its plan depends on the array's length).
func (rb *ReadBatch) ThreadContacts(businessID, threadID int64) *[]*Contact {
	out := new([]*Contact)
	const ids = `SELECT i.contact_id, min(p.n) AS n FROM (
			SELECT tp.identity_id, row_number() OVER (ORDER BY tp.joined_at, tp.identity_id) AS n
			FROM thread_participants tp JOIN threads t ON t.id = tp.thread_id
			WHERE t.business_id = $1 AND tp.thread_id = $2 AND tp.left_at IS NULL) p
		JOIN identities i ON i.id = p.identity_id
		GROUP BY i.contact_id ORDER BY n LIMIT 8`
	rb.batch.Queue(`SELECT c.id, c.business_id, c.name, c.phone, c.country, c.email, c.merged_into_id, c.created_at, c.updated_at
		FROM (`+ids+`) x JOIN contacts c ON c.id = x.contact_id WHERE c.business_id = $1 ORDER BY x.n`, businessID, threadID)
	rb.batch.Queue(`SELECT i.id, i.business_id, i.contact_id, i.channel_id, i.app, i.external_id, i.phone, i.bsuid, i.username,
			i.country, i.display_name, i.profile_pic_url, i.blocked_at, i.reported_at, i.marketing_opt_out_at,
			i.marketing_opt_out_via, i.created_at, i.updated_at
		FROM (`+ids+`) x JOIN identities i ON i.contact_id = x.contact_id WHERE i.business_id = $1 ORDER BY i.app, i.id`, businessID, threadID)
	rb.reads = append(rb.reads, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return wrapErr(err, "fetch contacts of thread %d", threadID)
		}
		byID := map[int64]*Contact{}
		for rows.Next() {
			c := &Contact{Identities: []Identity{}}
			if err := rows.Scan(&c.ID, &c.BusinessID, &c.Name, &c.Phone, &c.Country, &c.Email, &c.MergedIntoID,
				&c.CreatedAt, &c.UpdatedAt); err != nil {
				rows.Close()
				return wrapErr(err, "fetch contacts of thread %d", threadID)
			}
			byID[c.ID] = c
			*out = append(*out, c)
		}
		if err := rows.Err(); err != nil {
			return wrapErr(err, "fetch contacts of thread %d", threadID)
		}
		if rows, err = br.Query(); err != nil {
			return wrapErr(err, "load identities of contacts")
		}
		for rows.Next() {
			var i Identity
			if err := rows.Scan(&i.ID, &i.BusinessID, &i.ContactID, &i.ChannelID, &i.App, &i.ExternalID, &i.Phone,
				&i.BSUID, &i.Username, &i.Country, &i.DisplayName, &i.ProfilePicURL, &i.BlockedAt, &i.ReportedAt,
				&i.MarketingOptOutAt, &i.MarketingOptOutVia, &i.CreatedAt, &i.UpdatedAt); err != nil {
				rows.Close()
				return wrapErr(err, "load identities of contacts")
			}
			if c := byID[i.ContactID]; c != nil {
				c.Identities = append(c.Identities, i)
			}
		}
		return wrapErr(rows.Err(), "load identities of contacts")
	})
	return out
}
