package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultStopWords stop a customer's marketing when one of them is the whole
// of their reply to a campaign (any case).
var DefaultStopWords = []string{"STOP", "basta", "annulla"}

// AttributionPass is what one pass of campaign attribution did.
type AttributionPass struct {
	Scanned   int     // inbound messages read past the watermark
	Replies   int     // recipients who replied for the first time
	Orders    int     // WhatsApp orders recorded
	OptOuts   int     // identities opted out by a stop word
	Campaigns []int64 // campaigns whose counters moved
	Watermark int64   // the watermark after the pass
	Busy      bool    // another pass held the watermark: nothing done
}

// AttributeCampaigns reads up to limit inbound messages past the watermark
// and attributes each to the campaign that reached its sender last within
// that campaign's window: the first reply, a WhatsApp order's revenue, a
// stop word. Messages younger than settle are read again next pass (an
// insert that commits late has a lower id than rows already visible); every
// effect is idempotent, so a second reading changes nothing.
func (s *Store) AttributeCampaigns(ctx context.Context, limit int, settle time.Duration) (AttributionPass, error) {
	var pass AttributionPass
	err := s.InTx(ctx, func(tx *Store) error {
		g := tx.Gorm(ctx)
		var wm []int64
		if err := g.Raw(`SELECT last_message_id FROM campaign_attribution_watermark FOR UPDATE SKIP LOCKED`).Scan(&wm).Error; err != nil {
			return err
		}
		if len(wm) == 0 {
			pass.Busy = true
			return nil
		}
		pass.Watermark = wm[0]
		var scan struct {
			Scanned int
			Settled *int64
			Young   *int64
		}
		// The settled watermark stops before the first message still too young.
		if err := g.Raw(`SELECT count(*) AS scanned,
				max(id) FILTER (WHERE created_at < now() - make_interval(secs => ?)) AS settled,
				min(id) FILTER (WHERE created_at >= now() - make_interval(secs => ?)) AS young
			FROM (SELECT id, created_at FROM messages WHERE id > ? ORDER BY id LIMIT ?) m`,
			settle.Seconds(), settle.Seconds(), pass.Watermark, limit).Scan(&scan).Error; err != nil {
			return err
		}
		pass.Scanned = scan.Scanned
		if scan.Scanned == 0 {
			return nil
		}
		hits, err := tx.attributionHits(ctx, pass.Watermark, limit)
		if err != nil {
			return err
		}
		if err := tx.applyHits(ctx, hits, &pass); err != nil {
			return err
		}
		next := pass.Watermark
		if scan.Settled != nil {
			next = *scan.Settled
		}
		if scan.Young != nil && *scan.Young-1 < next {
			next = *scan.Young - 1
		}
		if next > pass.Watermark {
			pass.Watermark = next
			return g.Exec(`UPDATE campaign_attribution_watermark SET last_message_id = ?, updated_at = now()`, next).Error
		}
		return nil
	})
	return pass, wrapErr(err, "attribute campaigns")
}

// attributionHit is one inbound message from a campaign's recipient inside
// the campaign's window.
type attributionHit struct {
	MessageID   int64
	BusinessID  int64
	IdentityID  int64
	RecipientID int64
	CampaignID  int64
	At          time.Time
	Kind        string
	Stop        bool
	OrderMicros int64  // Σ item_price × quantity over the order's items in its currency
	OrderCur    string // the order's currency (its first item's)
	Counted     bool   // the order is in the campaign's currency
}

// attributionHits finds, for the inbound messages of one pass, the campaign
// that reached each sender last before the message, if still in its window.
func (s *Store) attributionHits(ctx context.Context, after int64, limit int) ([]attributionHit, error) {
	var hits []attributionHit
	err := s.Gorm(ctx).Raw(`WITH m AS (
			SELECT id, business_id, sender_identity_id, sent_at, kind, text, details FROM messages
			WHERE id > ? ORDER BY id LIMIT ?
		)
		SELECT DISTINCT ON (m.id) m.id AS message_id, m.business_id, m.sender_identity_id AS identity_id,
			r.id AS recipient_id, r.campaign_id, m.sent_at AS at, m.kind,
			lower(btrim(m.text)) = ANY (SELECT lower(w) FROM unnest(COALESCE(b.stop_words, ?::text[])) w) AS stop,
			COALESCE(o.micros, 0) AS order_micros, COALESCE(o.currency, '') AS order_cur,
			COALESCE(o.currency, '') = c.currency AS counted
		FROM m
		JOIN campaign_recipients r ON r.identity_id = m.sender_identity_id AND r.sent_at IS NOT NULL AND r.sent_at <= m.sent_at
		JOIN campaigns c ON c.id = r.campaign_id AND c.business_id = m.business_id
		JOIN businesses b ON b.id = m.business_id
		LEFT JOIN LATERAL (
			SELECT sum(round((it->>'item_price')::numeric * 1000000) * COALESCE((it->>'quantity')::bigint, 1))::bigint AS micros,
				min(it->>'currency') AS currency
			FROM jsonb_array_elements(CASE WHEN m.kind = 'order' THEN m.details->'order'->'items' ELSE '[]'::jsonb END) it
		) o ON m.kind = 'order'
		WHERE m.sender_identity_id IS NOT NULL AND m.sent_at < r.sent_at + make_interval(days => c.attribution_days)
		ORDER BY m.id, r.sent_at DESC, r.id DESC`,
		after, limit, arrayOf(DefaultStopWords)).Scan(&hits).Error
	return hits, err
}

// applyHits records one pass's replies, orders and stops, and moves the
// counters by what changed.
func (s *Store) applyHits(ctx context.Context, hits []attributionHit, pass *AttributionPass) error {
	if len(hits) == 0 {
		return nil
	}
	g := s.Gorm(ctx)
	var rids, oRids, oCids, oMids, oMicros []int64
	var ats, oAts []time.Time
	var oCur []string
	var oCounted []bool
	moved := map[int64]bool{}
	for _, h := range hits {
		rids, ats = append(rids, h.RecipientID), append(ats, h.At)
		moved[h.CampaignID] = true
		if h.Kind == "order" {
			oRids, oCids, oMids = append(oRids, h.RecipientID), append(oCids, h.CampaignID), append(oMids, h.MessageID)
			oMicros, oAts, oCur, oCounted = append(oMicros, h.OrderMicros), append(oAts, h.At), append(oCur, h.OrderCur), append(oCounted, h.Counted)
		}
	}
	// Locked first, so the before-images read below are the rows' last word.
	if err := g.Exec(`SELECT id FROM campaign_recipients WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE`, Int64List(rids)).Error; err != nil {
		return err
	}
	// campaign_counts' trigger counts the first reply of each recipient.
	var replies int
	if err := g.Raw(`WITH h AS (
			SELECT id, min(at) AS at FROM unnest(?::bigint[], ?::timestamptz[]) AS v(id, at) GROUP BY id
		), upd AS (
			UPDATE campaign_recipients r SET replied_at = h.at FROM h, campaign_recipients old
			WHERE r.id = h.id AND old.id = h.id AND (r.replied_at IS NULL OR r.replied_at > h.at)
			RETURNING old.replied_at IS NULL AS first
		)
		SELECT count(*) FILTER (WHERE first) FROM upd`, Int64List(rids), timesOf(ats)).Scan(&replies).Error; err != nil {
		return err
	}
	pass.Replies += replies
	if len(oMids) > 0 {
		n, err := s.recordOrders(ctx, `SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::boolean[], ?::timestamptz[])
			AS v(campaign_id, recipient_id, message_id, amount_micros, currency, counted, ordered_at)`,
			[]any{Int64List(oCids), Int64List(oRids), Int64List(oMids), Int64List(oMicros), arrayOf(oCur), boolsOf(oCounted), timesOf(oAts)}, "whatsapp_order", "message_id")
		if err != nil {
			return err
		}
		pass.Orders += n
	}
	for _, h := range hits {
		if !h.Stop {
			continue
		}
		at := h.At
		if err := s.SetMarketingOptOut(ctx, h.BusinessID, h.IdentityID, &at, "stop_word"); err != nil {
			return err
		}
		pass.OptOuts++
	}
	for id := range moved {
		pass.Campaigns = append(pass.Campaigns, id)
	}
	return nil
}

// recordOrders inserts orders from rows (campaign_id, recipient_id, message_id
// or external_id, amount_micros, currency, counted, ordered_at), skipping any
// already recorded, and adds the new ones to their recipients and campaigns.
// It answers how many were new.
func (s *Store) recordOrders(ctx context.Context, rows string, args []any, source, key string) (int, error) {
	var n []int
	err := s.Gorm(ctx).Raw(`WITH ins AS (
			INSERT INTO campaign_orders (campaign_id, recipient_id, `+key+`, amount_micros, currency, counted, ordered_at, source)
			SELECT v.*, '`+source+`' FROM (`+rows+`) v
			ON CONFLICT DO NOTHING
			RETURNING campaign_id, recipient_id, amount_micros, counted, ordered_at
		), per AS (
			SELECT recipient_id, campaign_id, min(ordered_at) AS at, sum(amount_micros) FILTER (WHERE counted) AS micros
			FROM ins WHERE recipient_id IS NOT NULL GROUP BY recipient_id, campaign_id
		), rec AS (
			UPDATE campaign_recipients r SET ordered_at = LEAST(old.ordered_at, per.at),
				revenue_micros = r.revenue_micros + COALESCE(per.micros, 0)
			FROM per, campaign_recipients old WHERE r.id = per.recipient_id AND old.id = per.recipient_id
			RETURNING r.campaign_id, old.ordered_at IS NULL AS first
		), tot AS (
			SELECT campaign_id, count(*) AS orders, COALESCE(sum(amount_micros) FILTER (WHERE counted), 0) AS micros
			FROM ins GROUP BY campaign_id
		), cnt AS (
			UPDATE campaigns c SET orders_count = c.orders_count + tot.orders, revenue_micros = c.revenue_micros + tot.micros,
				ordered_count = c.ordered_count + (SELECT count(*) FROM rec WHERE rec.campaign_id = c.id AND rec.first)
			FROM tot WHERE c.id = tot.campaign_id
			RETURNING tot.orders
		)
		SELECT orders FROM cnt`, args...).Scan(&n).Error
	total := 0
	for _, v := range n {
		total += v
	}
	return total, err
}

// Conversion is a sale the shop's own system reports for a campaign.
type Conversion struct {
	CampaignID   int64
	IdentityID   int64  // or Phone
	Phone        string // E.164
	AmountMicros int64
	Currency     string
	ExternalID   string
	At           time.Time
}

// ErrNotRecipient: the conversion names nobody the campaign was sent to.
var ErrNotRecipient = errors.New("models: not a recipient of the campaign")

// ErrConversionConflict: the external id was already posted with another amount.
var ErrConversionConflict = errors.New("models: conversion already recorded differently")

// RecordConversion adds a posted conversion to the campaign's revenue once
// per external id: posting it again answers created false and changes
// nothing. The recipient is found by identity or phone among those sent to.
func (s *Store) RecordConversion(ctx context.Context, businessID int64, c Conversion) (created bool, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		g := tx.Gorm(ctx)
		var rid []int64
		if err := g.Raw(`SELECT r.id FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
			JOIN identities i ON i.id = r.identity_id
			WHERE c.business_id = ? AND c.id = ? AND r.sent_at IS NOT NULL AND (i.id = ? OR (? <> '' AND i.phone = ?))
			ORDER BY r.id LIMIT 1 FOR UPDATE OF r`,
			businessID, c.CampaignID, c.IdentityID, c.Phone, c.Phone).Scan(&rid).Error; err != nil {
			return err
		}
		if len(rid) == 0 {
			return ErrNotRecipient
		}
		var cur string
		if err := g.Raw(`SELECT currency FROM campaigns WHERE id = ?`, c.CampaignID).Scan(&cur).Error; err != nil {
			return err
		}
		at := c.At
		if at.IsZero() {
			at = time.Now()
		}
		n, err := tx.recordOrders(ctx, `SELECT ?::bigint, ?::bigint, ?::text, ?::bigint, ?::text, ?::boolean, ?::timestamptz`,
			[]any{c.CampaignID, rid[0], c.ExternalID, c.AmountMicros, c.Currency, strings.EqualFold(cur, c.Currency), at},
			"conversion", "external_id")
		if err != nil {
			return err
		}
		created = n > 0
		if !created { // the same external id again: the same sale, or a conflict
			var same []bool
			if err := g.Raw(`SELECT amount_micros = ? AND upper(currency) = upper(?) FROM campaign_orders WHERE campaign_id = ? AND external_id = ?`,
				c.AmountMicros, c.Currency, c.CampaignID, c.ExternalID).Scan(&same).Error; err != nil {
				return err
			}
			if len(same) == 1 && !same[0] {
				return ErrConversionConflict
			}
		}
		return nil
	})
	if errors.Is(err, ErrNotRecipient) || errors.Is(err, ErrConversionConflict) {
		return false, err
	}
	return created, wrapErr(err, "record conversion of campaign %d", c.CampaignID)
}

// ClickTarget is where a tracked link of one recipient leads.
type ClickTarget struct {
	BusinessID  int64
	CampaignID  int64
	RecipientID int64
	Variables   []byte // the campaign's stored variables (JSON)
}

// CampaignClickTarget loads what a click on recipientID's link needs, or nil.
func (s *Store) CampaignClickTarget(ctx context.Context, recipientID int64) (*ClickTarget, error) {
	var t ClickTarget
	ok, err := first(s.Gorm(ctx).Raw(`SELECT c.business_id, c.id AS campaign_id, r.id AS recipient_id, c.variables
		FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id WHERE r.id = ?`, recipientID), &t)
	if err != nil || !ok {
		return nil, wrapErr(err, "load click target of recipient %d", recipientID)
	}
	return &t, nil
}

// RecordCampaignClick sets the recipient's first click (campaign_counts'
// trigger counts it): a second click answers false and changes nothing.
func (s *Store) RecordCampaignClick(ctx context.Context, recipientID int64, at time.Time) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE campaign_recipients SET clicked_at = ? WHERE id = ? AND clicked_at IS NULL`, at, recipientID)
	return res.RowsAffected == 1, wrapErr(res.Error, "record click of recipient %d", recipientID)
}

// StopWords are the business's stop words, or the defaults.
func (s *Store) StopWords(ctx context.Context, businessID int64) ([]string, error) {
	var words []string
	err := s.Gorm(ctx).Raw(`SELECT unnest(COALESCE(stop_words, ?::text[])) FROM businesses WHERE id = ?`,
		arrayOf(DefaultStopWords), businessID).Scan(&words).Error
	return words, wrapErr(err, "load stop words of business %d", businessID)
}

// SetStopWords replaces the business's stop words; none restores the defaults.
func (s *Store) SetStopWords(ctx context.Context, businessID int64, words []string) error {
	var clean []string
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			clean = append(clean, w)
		}
	}
	var arg any
	if len(clean) > 0 {
		arg = arrayOf(clean)
	}
	err := s.Gorm(ctx).Exec(`UPDATE businesses SET stop_words = ?::text[] WHERE id = ?`, arg, businessID).Error
	return wrapErr(err, "set stop words of business %d", businessID)
}

// pgArray is a PostgreSQL array literal of quoted elements, for gorm
// statements (which would spread a Go slice into a row).
type pgArray []string

// Value implements driver.Valuer.
func (a pgArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(e))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

func arrayOf(ss []string) pgArray { return pgArray(ss) }

func timesOf(ts []time.Time) pgArray {
	out := make(pgArray, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return out
}

func boolsOf(bs []bool) pgArray {
	out := make(pgArray, len(bs))
	for i, b := range bs {
		out[i] = strconv.FormatBool(b)
	}
	return out
}
