package models

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
)

// MessageCost is what one outbound WhatsApp message is expected to cost and
// what Meta says it was charged as. EstimatedMicros nil: no price known
// (unknown market or nothing in the table that day).
type MessageCost struct {
	MessageID       int64
	BusinessID      int64
	ChannelID       *int64
	Country         string
	Market          string
	Category        string
	Currency        string
	EstimatedMicros *int64
	ActualCategory  string
	ActualType      string
	ActualMicros    *int64 // set when Meta reports the message as charged (regular); a group's sums its participants
	Participants    int    // a native group message is estimated for each participant; else 1
	CreatedAt       time.Time
}

// RecordMessageCosts stores the estimates of newly queued messages (same
// transaction as the messages).
func (s *Store) RecordMessageCosts(ctx context.Context, costs []MessageCost) error {
	if len(costs) == 0 {
		return nil
	}
	var b pgx.Batch
	queueMessageCosts(&b, costs)
	return wrapErr(s.pgx().SendBatch(ctx, &b).Close(), "record %d message costs", len(costs))
}

// queueMessageCosts queues the insert of costs (one statement of arrays) on
// b; a cost without CreatedAt is dated now. Its statement trigger upserts the
// business's spend shard rows, locked until the transaction ends.
func queueMessageCosts(b *pgx.Batch, costs []MessageCost) {
	n := len(costs)
	var (
		msgs, biz                    = make([]int64, n), make([]int64, n)
		channels, est, actual        = make([]*int64, n), make([]*int64, n), make([]*int64, n)
		countries, markets, cats     = make([]string, n), make([]string, n), make([]string, n)
		currencies, actCats, actType = make([]string, n), make([]string, n), make([]string, n)
		participants                 = make([]int32, n)
		created                      = make([]*time.Time, n)
	)
	for i := range costs {
		c := &costs[i]
		msgs[i], biz[i], channels[i], est[i], actual[i] = c.MessageID, c.BusinessID, c.ChannelID, c.EstimatedMicros, c.ActualMicros
		countries[i], markets[i], cats[i], currencies[i], actCats[i], actType[i] = c.Country, c.Market, c.Category, c.Currency, c.ActualCategory, c.ActualType
		participants[i] = int32(max(c.Participants, 1))
		if !c.CreatedAt.IsZero() {
			created[i] = &c.CreatedAt
		}
	}
	b.Queue(`INSERT INTO message_costs (message_id, business_id, channel_id, country, market, category, currency,
			estimated_micros, actual_category, actual_type, actual_micros, participants, created_at)
		SELECT m, b, ch, co, mk, ca, cu, e, ac, at, a, p, COALESCE(cr, now())
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::int[], $13::timestamptz[])
			AS x(m, b, ch, co, mk, ca, cu, e, ac, at, a, p, cr)`,
		msgs, biz, channels, countries, markets, cats, currencies, est, actCats, actType, actual, participants, created)
}

// MessageCostOf loads a message's cost, or nil.
func (s *Store) MessageCostOf(ctx context.Context, businessID, messageID int64) (*MessageCost, error) {
	var c MessageCost
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND message_id = ?", businessID, messageID), &c)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch cost of message %d", messageID)
	}
	return &c, nil
}

// SpendRow is spend of one channel, market and category over a period.
type SpendRow struct {
	ChannelID       int64
	Market          string
	Category        string
	Currency        string
	Messages        int
	EstimatedMicros int64
	Charged         int
	ActualMicros    int64
	ChannelName     string `gorm:"-"` // filled by SpendMonth only
}

// Spend sums the incrementally kept spend over [from, to) (UTC days): whole
// calendar months from spend_monthly, the days either side from spend_daily.
func (s *Store) Spend(ctx context.Context, businessID int64, from, to time.Time) ([]SpendRow, error) {
	fd, td := utcDay(from), utcDay(to)
	m1 := fd
	if m1.Day() != 1 {
		m1 = time.Date(fd.Year(), fd.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	}
	m2 := time.Date(td.Year(), td.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !m1.Before(m2) { // no whole month inside: days only
		m1, m2 = td, td
	}
	var rows []SpendRow
	err := s.Gorm(ctx).Raw(`SELECT channel_id, market, category, currency, SUM(messages) AS messages,
		SUM(estimated_micros) AS estimated_micros, SUM(charged) AS charged, SUM(actual_micros) AS actual_micros
		FROM (
			SELECT channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros
			FROM spend_monthly WHERE business_id = @biz AND month >= @m1 AND month < @m2
			UNION ALL
			SELECT channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros
			FROM spend_daily WHERE business_id = @biz AND ((day >= @fd AND day < @m1) OR (day >= @m2 AND day < @td))
		) x
		GROUP BY channel_id, market, category, currency ORDER BY channel_id, market, category, currency`,
		sql.Named("biz", businessID), sql.Named("fd", day(fd)), sql.Named("td", day(td)), sql.Named("m1", day(m1)), sql.Named("m2", day(m2))).
		Scan(&rows).Error
	return rows, wrapErr(err, "sum spend")
}

// SpendDaily is Spend summed from the daily table only (the rollup's check
// and the benchmark's comparison).
func (s *Store) SpendDaily(ctx context.Context, businessID int64, from, to time.Time) ([]SpendRow, error) {
	var rows []SpendRow
	err := s.Gorm(ctx).Raw(`SELECT channel_id, market, category, currency, SUM(messages) AS messages,
		SUM(estimated_micros) AS estimated_micros, SUM(charged) AS charged, SUM(actual_micros) AS actual_micros
		FROM spend_daily WHERE business_id = ? AND day >= ? AND day < ?
		GROUP BY channel_id, market, category, currency ORDER BY channel_id, market, category, currency`,
		businessID, day(from), day(to)).Scan(&rows).Error
	return rows, wrapErr(err, "sum daily spend")
}

// utcDay is the UTC day t falls on, at midnight.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// SpendMonth is one calendar month's spend (UTC) read from spend_monthly
// alone (a few dozen rows the triggers keep, whatever the month's volume),
// with each channel's name: the Spend page's one query.
func (s *Store) SpendMonth(ctx context.Context, businessID int64, month time.Time) ([]SpendRow, error) {
	m := utcDay(month)
	m = time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)
	rows, err := s.DB.Pool.Query(ctx, `SELECT s.channel_id, s.market, s.category, s.currency, s.messages, s.estimated_micros,
			s.charged, s.actual_micros, COALESCE(ch.name, '')
		FROM spend_monthly s LEFT JOIN channels ch ON ch.id = s.channel_id AND ch.business_id = s.business_id
		WHERE s.business_id = $1 AND s.month = $2::date
		ORDER BY s.channel_id, s.market, s.category, s.currency`, businessID, day(m))
	if err != nil {
		return nil, wrapErr(err, "read spend of %s", m.Format("2006-01"))
	}
	// Scanned field by field: the struct scanners' reflection was a tenth of the page's CPU.
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SpendRow, error) {
		var x SpendRow
		err := r.Scan(&x.ChannelID, &x.Market, &x.Category, &x.Currency, &x.Messages, &x.EstimatedMicros, &x.Charged, &x.ActualMicros, &x.ChannelName)
		return x, err
	})
	return out, wrapErr(err, "read spend of %s", m.Format("2006-01"))
}
