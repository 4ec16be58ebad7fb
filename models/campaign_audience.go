package models

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"
	"time"
)

// AudienceGroup is a count of a campaign audience's people sharing a skip
// reason ("" = sendable), a dialling prefix (the first six digits of their
// number: enough to place it in Meta's market) and a stored country. Phone
// is one of their numbers, to place the prefix by.
type AudienceGroup struct {
	Reason  string
	Prefix  string
	Country string
	Phone   string
	N       int
}

// audienceSQL selects the people the filter matches among the business's
// contacts, one row per person: their identity on the campaign's channel
// (none: no_whatsapp), the first identity of a person and of a number
// (the others: duplicate), then blocked and opted out. Set-based: one
// statement for any number of recipients. Parameters: @b business, @ch
// channel, @marketing, and the filter's.
func audienceSQL(f AudienceFilter, k AudienceKind) string {
	// Only the filters in use are written into the statement: a
	// "@unset OR EXISTS (…)" form lets the planner pick a plan that walks
	// every contact through every subquery.
	var where strings.Builder
	if len(f.Countries) > 0 {
		where.WriteString(` AND (c.country = ANY(@countries) OR EXISTS (SELECT 1 FROM identities x
				WHERE x.contact_id = c.id AND x.country = ANY(@countries)))`)
	}
	if len(f.Apps) > 0 {
		where.WriteString(` AND EXISTS (SELECT 1 FROM identities x WHERE x.contact_id = c.id AND x.app = ANY(@apps))`)
	}
	if len(f.IdentityIDs) > 0 {
		where.WriteString(` AND EXISTS (SELECT 1 FROM identities x WHERE x.contact_id = c.id AND x.id = ANY(@ids))`)
	}
	if len(f.Labels) > 0 {
		where.WriteString(` AND EXISTS (SELECT 1 FROM identities x JOIN threads t ON t.direct_identity_id = x.id AND t.kind = 'direct'
				JOIN thread_labels tl ON tl.thread_id = t.id JOIN labels l ON l.id = tl.label_id
				WHERE x.contact_id = c.id AND l.business_id = @b AND l.name = ANY(@labels))`)
	}
	if f.LastContactedAfter != nil || f.LastContactedBefore != nil {
		where.WriteString(` AND EXISTS (SELECT 1 FROM identities x JOIN threads t ON t.direct_identity_id = x.id AND t.kind = 'direct'
				WHERE x.contact_id = c.id GROUP BY x.contact_id
				HAVING max(t.last_message_at) >= @after AND max(t.last_message_at) < @before)`)
	}
	window := "false"
	if k.Window {
		window = `EXISTS (SELECT 1 FROM identity_events e WHERE e.identity_id = i.id
				AND e.kind IN ('message', 'postback', 'quick_reply', 'referral', 'optin') AND e.last_at > CAST(@now AS timestamptz) - interval '24 hours')`
	}
	return `WITH persons AS (
		SELECT c.id AS contact_id FROM contacts c
		WHERE c.business_id = @b AND c.merged_into_id IS NULL` + where.String() + `
	), cand AS (
		SELECT p.contact_id, i.id AS identity_id, i.phone, i.country, i.blocked_at, i.marketing_opt_out_at, i.external_id,
			row_number() OVER (PARTITION BY p.contact_id ORDER BY i.id) AS per_contact, ` + window + ` AS window_open
		FROM persons p LEFT JOIN identities i ON i.contact_id = p.contact_id AND i.channel_id = @ch AND i.business_id = @b
	), ranked AS (
		SELECT *, row_number() OVER (PARTITION BY identity_id IS NULL, COALESCE(NULLIF(phone, ''), external_id, contact_id::text)
			ORDER BY contact_id, identity_id) AS per_number
		FROM cand
	), audience AS (
		SELECT contact_id, identity_id, COALESCE(phone, '') AS phone, COALESCE(country, '') AS country,
			left(COALESCE(phone, ''), 7) AS prefix,
			CASE WHEN identity_id IS NULL THEN ` + map[bool]string{true: "'no_identity'", false: "'no_whatsapp'"}[k.Window] + `
			     WHEN per_contact > 1 OR per_number > 1 THEN 'duplicate'
			     WHEN blocked_at IS NOT NULL THEN 'blocked'
			     WHEN ` + map[bool]string{true: "marketing_opt_out_at IS NOT NULL", false: "false"}[k.Marketing] + ` THEN 'marketing_opted_out'
			     WHEN ` + map[bool]string{true: "NOT window_open", false: "false"}[k.Window] + ` THEN 'window_closed'
			     ELSE '' END AS reason
		FROM ranked
	)`
}

// AudienceKind says which exclusions apply: marketing (opt-outs, the
// paused regions) and window (Messenger/Instagram: only open 24-hour windows).
type AudienceKind struct {
	Marketing bool
	Window    bool
	Now       time.Time // the policy clock the window is measured at
}

func audienceArgs(businessID, channelID int64, f AudienceFilter, k AudienceKind) map[string]any {
	after, before := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if f.LastContactedAfter != nil {
		after = *f.LastContactedAfter
	}
	if f.LastContactedBefore != nil {
		before = *f.LastContactedBefore
	}
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	ids := f.IdentityIDs
	if ids == nil {
		ids = []int64{}
	}
	now := k.Now
	if now.IsZero() {
		now = time.Now()
	}
	return map[string]any{"b": businessID, "ch": channelID, "now": now,
		"countries": textArray(nz(f.Countries)), "apps": textArray(nz(f.Apps)), "ids": Int64List(ids),
		"labels": textArray(nz(f.Labels)), "after": after, "before": before}
}

// audiencePlan runs fn (one audience statement) in a transaction whose
// planner settings suit a statement that reads every contact of the
// business:
//
//   - enable_nestloop off: right after contacts are added in bulk (an
//     import, the benchmark's seed) and before autovacuum has analysed
//     them, the planner takes the business for a handful of contacts and
//     nests a scan of all its identities inside the scan of its contacts
//     (10,000 contacts: 10^8 rows compared, 85 s; 100,000: hours). With
//     statistics it picks merge or hash joins anyway, and a small audience
//     costs little either way.
//   - work_mem 32MB: the dedupe's two sorts of 100,000 people take 10 and
//     13 MB; at the default 4 MB they spill to disk (external merges).
//     Local to this transaction; larger audiences still spill.
func (s *Store) audiencePlan(ctx context.Context, fn func(tx *Store) error) error {
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.Gorm(ctx).Exec(`SET LOCAL enable_nestloop = off`).Error; err != nil {
			return wrapErr(err, "plan audience")
		}
		if err := tx.Gorm(ctx).Exec(`SET LOCAL work_mem = '32MB'`).Error; err != nil {
			return wrapErr(err, "plan audience")
		}
		return fn(tx)
	})
}

// AudienceGroups counts the filter's audience on a channel by skip reason,
// dialling prefix and country; nothing is written.
func (s *Store) AudienceGroups(ctx context.Context, businessID, channelID int64, f AudienceFilter, k AudienceKind) ([]AudienceGroup, error) {
	var gs []AudienceGroup
	err := s.audiencePlan(ctx, func(tx *Store) error {
		return tx.Gorm(ctx).Raw(audienceSQL(f, k)+`
		SELECT reason, prefix, country, min(phone) AS phone, count(*) AS n FROM audience GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
			audienceArgs(businessID, channelID, f, k)).Scan(&gs).Error
	})
	return gs, wrapErr(err, "count audience of channel %d", channelID)
}

// PrefixPlace is where a dialling prefix is priced and whether marketing to
// it is paused (the +1 US pause).
type PrefixPlace struct {
	Prefix  string
	Country string
	Market  string
	Paused  bool
}

// AddCampaignAudience writes a campaign's recipients once (at its start):
// every person of the audience, pending or skipped with the reason, their
// country and market placed by prefix. A second call adds nobody: the
// (campaign, identity) key holds, and people without an identity are only
// written when the campaign has no recipient yet. Returns how many it wrote.
func (s *Store) AddCampaignAudience(ctx context.Context, c *Campaign, k AudienceKind, places []PrefixPlace) (int64, error) {
	n := len(places)
	prefixes, countries, markets, paused := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, p := range places {
		prefixes[i], countries[i], markets[i], paused[i] = p.Prefix, p.Country, p.Market, strconv.FormatBool(p.Paused)
	}
	args := audienceArgs(c.BusinessID, c.ChannelID, c.Filter(), k)
	args["campaign"], args["prefixes"], args["pcountries"], args["markets"], args["paused"] =
		c.ID, textArray(prefixes), textArray(countries), textArray(markets), textArray(paused)
	var wrote int64
	err := s.audiencePlan(ctx, func(tx *Store) error {
		res := tx.Gorm(ctx).Exec(audienceSQL(c.Filter(), k)+`, places AS (
			SELECT * FROM unnest(CAST(@prefixes AS text[]), CAST(@pcountries AS text[]), CAST(@markets AS text[]), CAST(@paused AS boolean[])) AS p(prefix, country, market, paused)
		)
		INSERT INTO campaign_recipients (campaign_id, identity_id, contact_id, thread_id, country, market, status, skip_reason)
		SELECT @campaign, a.identity_id, a.contact_id, t.id, COALESCE(NULLIF(a.country, ''), p.country, ''), COALESCE(p.market, ''),
			CASE WHEN a.reason = '' AND NOT COALESCE(p.paused, false) THEN 'pending' ELSE 'skipped' END,
			CASE WHEN a.reason = '' AND COALESCE(p.paused, false) THEN 'marketing_paused_region' ELSE a.reason END
		FROM audience a LEFT JOIN places p ON p.prefix = a.prefix
		LEFT JOIN threads t ON t.channel_id = @ch AND t.direct_identity_id = a.identity_id AND t.kind = 'direct'
		WHERE NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = @campaign)
		ORDER BY a.contact_id
		ON CONFLICT (campaign_id, identity_id) DO NOTHING`, args)
		wrote = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, wrapErr(err, "write audience of campaign %d", c.ID)
	}
	err = s.Gorm(ctx).Exec(`UPDATE campaigns SET planned = (SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?) WHERE id = ?`,
		c.ID, c.ID).Error
	return wrote, wrapErr(err, "plan campaign %d", c.ID)
}

// AddFollowUpAudience copies into a follow-up campaign the recipients of its
// original that failed with one of the codes (131049: Meta's per-user
// marketing cap), as pending, except those already in another follow-up of
// the original that was not cancelled. Returns how many.
func (s *Store) AddFollowUpAudience(ctx context.Context, followUp, parentID int64, codes []int) (int64, error) {
	res := s.Gorm(ctx).Exec(`INSERT INTO campaign_recipients (campaign_id, identity_id, contact_id, thread_id, country, market, status)
		SELECT ?, r.identity_id, r.contact_id, r.thread_id, r.country, r.market, 'pending' FROM campaign_recipients r
		WHERE r.campaign_id = ? AND r.status = 'failed' AND r.error_code = ANY(?) AND r.identity_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM campaigns f JOIN campaign_recipients fr ON fr.campaign_id = f.id
				WHERE f.parent_id = r.campaign_id AND f.id <> ? AND f.status <> 'cancelled' AND fr.identity_id = r.identity_id)
		ORDER BY r.id
		ON CONFLICT (campaign_id, identity_id) DO NOTHING`, followUp, parentID, Int64List(intsTo64(codes)), followUp)
	if res.Error != nil {
		return 0, wrapErr(res.Error, "copy failed recipients of campaign %d", parentID)
	}
	err := s.Gorm(ctx).Exec(`UPDATE campaigns SET planned = (SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?) WHERE id = ?`,
		followUp, followUp).Error
	return res.RowsAffected, wrapErr(err, "plan campaign %d", followUp)
}

// FailedWithCodes counts a campaign's recipients failed with one of the codes.
func (s *Store) FailedWithCodes(ctx context.Context, campaignID int64, codes []int) (int, error) {
	var n int
	err := s.Gorm(ctx).Raw(`SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND status = 'failed' AND error_code = ANY(?)`,
		campaignID, Int64List(intsTo64(codes))).Scan(&n).Error
	return n, wrapErr(err, "count failures of campaign %d", campaignID)
}

// EnsureRecipientThreads gives the recipients without a direct thread on the
// campaign's channel one (with the identity as participant), set-based, and
// records it on them; call in the batch's transaction before queueing.
func (s *Store) EnsureRecipientThreads(ctx context.Context, businessID, channelID int64, recipientIDs []int64) error {
	if len(recipientIDs) == 0 {
		return nil
	}
	_, err := s.sqlExec(ctx, `WITH need AS (
			SELECT r.id, i.id AS identity_id, i.app, COALESCE(NULLIF(i.display_name, ''), NULLIF(i.phone, ''), i.external_id) AS title
			FROM campaign_recipients r JOIN identities i ON i.id = r.identity_id
			WHERE r.id = ANY($1) AND r.thread_id IS NULL
		), made AS (
			INSERT INTO threads (business_id, channel_id, kind, origin, direct_identity_id, title, apps, status, last_message_at)
			SELECT $2, $3, 'direct', 'native', identity_id, title, ARRAY[app], 'open', now() FROM need ORDER BY identity_id
			ON CONFLICT (channel_id, direct_identity_id) WHERE kind = 'direct' DO NOTHING
			RETURNING id, direct_identity_id
		), parts AS (
			INSERT INTO thread_participants (thread_id, identity_id, role, joined_at)
			SELECT id, direct_identity_id, 'customer', now() FROM made ON CONFLICT DO NOTHING
		)
		UPDATE campaign_recipients r SET thread_id = COALESCE(m.id, t.id)
		FROM need n LEFT JOIN made m ON m.direct_identity_id = n.identity_id
		LEFT JOIN threads t ON t.channel_id = $3 AND t.direct_identity_id = n.identity_id AND t.kind = 'direct'
		WHERE r.id = n.id`, Int64List(recipientIDs), businessID, channelID)
	return wrapErr(err, "give %d recipients a thread", len(recipientIDs))
}

func intsTo64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// textArray is a PostgreSQL text[] of any strings (spaces, quotes, empty).
type textArray []string

// Value implements driver.Valuer.
func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// AudienceSample is up to n sendable people of the audience (identity id in
// ID), with the fields their variables read, for the editor's live preview.
func (s *Store) AudienceSample(ctx context.Context, businessID, channelID int64, f AudienceFilter, k AudienceKind, n int) ([]RecipientFacts, error) {
	var rows []RecipientFacts
	args := audienceArgs(businessID, channelID, f, k)
	args["n"] = n
	err := s.audiencePlan(ctx, func(tx *Store) error {
		return tx.Gorm(ctx).Raw(audienceSQL(f, k)+`
		SELECT a.identity_id AS id, COALESCE(NULLIF(c.name, ''), i.display_name, '') AS name, a.phone,
			COALESCE(NULLIF(a.country, ''), c.country, '') AS country
		FROM audience a JOIN identities i ON i.id = a.identity_id JOIN contacts c ON c.id = a.contact_id
		WHERE a.reason = '' ORDER BY a.contact_id LIMIT @n`, args).Scan(&rows).Error
	})
	return rows, wrapErr(err, "sample audience of channel %d", channelID)
}
