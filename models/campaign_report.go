package models

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignOutcome is what a campaign earned, kept incrementally: recipients
// who ordered, orders and conversions recorded, revenue in the campaign's
// currency, and the attribution window.
type CampaignOutcome struct {
	AttributionDays int
	OrderedCount    int64
	OrdersCount     int64
	RevenueMicros   int64
	// Uncounted are orders in another currency than the campaign's: recorded, not in revenue.
	Uncounted int64
}

// CampaignOutcome loads the campaign's outcome counters (one row).
func (s *Store) CampaignOutcome(ctx context.Context, businessID, campaignID int64) (CampaignOutcome, error) {
	var o CampaignOutcome
	err := s.Gorm(ctx).Raw(`SELECT attribution_days, ordered_count, orders_count, revenue_micros,
			(SELECT count(*) FROM campaign_orders WHERE campaign_id = c.id AND NOT counted) AS uncounted
		FROM campaigns c WHERE business_id = ? AND id = ?`, businessID, campaignID).Scan(&o).Error
	return o, wrapErr(err, "load outcome of campaign %d", campaignID)
}

// SetAttributionDays changes how long after its send a reply or order counts.
func (s *Store) SetAttributionDays(ctx context.Context, businessID, campaignID int64, days int) (bool, error) {
	res := s.Gorm(ctx).Exec(`UPDATE campaigns SET attribution_days = ? WHERE business_id = ? AND id = ?`, days, businessID, campaignID)
	return res.RowsAffected == 1, wrapErr(res.Error, "set attribution window of campaign %d", campaignID)
}

// CampaignBucket is one step of a campaign's sends and reads over time.
type CampaignBucket struct {
	At   time.Time
	Sent int64
	Read int64
}

// CampaignTimeline counts sends and reads per bucket of width step since from.
func (s *Store) CampaignTimeline(ctx context.Context, campaignID int64, from time.Time, step time.Duration) ([]CampaignBucket, error) {
	var out []CampaignBucket
	err := s.Gorm(ctx).Raw(`SELECT to_timestamp(b * ?) AS at, sum(sent)::bigint AS sent, sum(rd)::bigint AS read FROM (
			SELECT floor(extract(epoch FROM sent_at) / ?)::bigint AS b, 1 AS sent, 0 AS rd
			FROM campaign_recipients WHERE campaign_id = ? AND sent_at >= ?
			UNION ALL
			SELECT floor(extract(epoch FROM read_at) / ?)::bigint, 0, 1
			FROM campaign_recipients WHERE campaign_id = ? AND read_at >= ?
		) x GROUP BY b ORDER BY b`,
		step.Seconds(), step.Seconds(), campaignID, from, step.Seconds(), campaignID, from).Scan(&out).Error
	return out, wrapErr(err, "load timeline of campaign %d", campaignID)
}

// CampaignMarketCost is what the messages to one market cost.
type CampaignMarketCost struct {
	Market          string
	Currency        string
	Recipients      int64
	EstimatedMicros int64
	ActualMicros    int64
}

// CampaignCostByMarket sums the estimated and actual cost of the messages
// queued so far per market (as campaign_counts sums the estimate).
func (s *Store) CampaignCostByMarket(ctx context.Context, campaignID int64) ([]CampaignMarketCost, error) {
	var out []CampaignMarketCost
	err := s.Gorm(ctx).Raw(`SELECT CASE WHEN market <> '' THEN market ELSE country END AS market, min(currency) AS currency,
			count(*) AS recipients, COALESCE(sum(price_micros), 0)::bigint AS estimated_micros,
			COALESCE(sum(actual_micros), 0)::bigint AS actual_micros
		FROM campaign_recipients WHERE campaign_id = ? AND status NOT IN ('pending', 'skipped')
		GROUP BY 1 ORDER BY estimated_micros DESC, 1 LIMIT 40`, campaignID).Scan(&out).Error
	return out, wrapErr(err, "load cost by market of campaign %d", campaignID)
}

// CampaignReason is how many recipients one skip reason or error code holds.
type CampaignReason struct {
	Reason string // a skip reason, or an error code as text
	Title  string // an error's title
	Failed bool
	N      int64
}

// CampaignReasons counts skipped recipients by reason and failed ones by error code.
func (s *Store) CampaignReasons(ctx context.Context, campaignID int64) ([]CampaignReason, error) {
	var out []CampaignReason
	err := s.Gorm(ctx).Raw(`SELECT skip_reason AS reason, '' AS title, false AS failed, count(*) AS n
			FROM campaign_recipients WHERE campaign_id = ? AND status = 'skipped' GROUP BY skip_reason
		UNION ALL
		SELECT COALESCE(error_code::text, ''), max(error_title), true, count(*)
			FROM campaign_recipients WHERE campaign_id = ? AND status = 'failed' GROUP BY error_code
		ORDER BY n DESC LIMIT 50`, campaignID, campaignID).Scan(&out).Error
	return out, wrapErr(err, "count reasons of campaign %d", campaignID)
}

// RecipientFilter narrows a campaign's recipient list.
type RecipientFilter struct {
	Status string // a recipient status, or "replied", "clicked", "ordered"
	Reason string // a skip reason or an error code
}

// RecipientRow is one line of a campaign's recipient table and CSV.
type RecipientRow struct {
	ID            int64      `db:"id"`
	IdentityID    *int64     `db:"identity_id"`
	Name          string     `db:"name"`
	Phone         string     `db:"phone"`
	Country       string     `db:"country"`
	Market        string     `db:"market"`
	Status        string     `db:"status"`
	SkipReason    string     `db:"skip_reason"`
	ErrorCode     *int32     `db:"error_code"`
	ErrorTitle    string     `db:"error_title"`
	PriceMicros   int64      `db:"price_micros"`
	ActualMicros  *int64     `db:"actual_micros"`
	Currency      string     `db:"currency"`
	QueuedAt      *time.Time `db:"queued_at"`
	SentAt        *time.Time `db:"sent_at"`
	DeliveredAt   *time.Time `db:"delivered_at"`
	ReadAt        *time.Time `db:"read_at"`
	RepliedAt     *time.Time `db:"replied_at"`
	ClickedAt     *time.Time `db:"clicked_at"`
	OrderedAt     *time.Time `db:"ordered_at"`
	FailedAt      *time.Time `db:"failed_at"`
	RevenueMicros int64      `db:"revenue_micros"`
	ThreadID      *int64     `db:"thread_id"`
}

// CampaignRecipientRows lists a campaign of the business's recipients in id
// order after afterID, with the name and number they were sent to: the page
// of ids first (an index range), then its names (pgx: the report's hot path).
func (s *Store) CampaignRecipientRows(ctx context.Context, businessID, campaignID int64, f RecipientFilter, afterID int64, limit int) ([]RecipientRow, error) {
	where, order := "", "r.id"
	args := []any{businessID, campaignID, afterID, limit}
	switch f.Status {
	case "":
	case "replied":
		where += " AND r.replied_at IS NOT NULL"
	case "clicked":
		where += " AND r.clicked_at IS NOT NULL"
	case "ordered":
		where += " AND r.ordered_at IS NOT NULL"
	default:
		args = append(args, f.Status)
		where += " AND r.status = $" + strconv.Itoa(len(args))
		order = "r.status, r.id" // the same order (one status), which only (campaign_id, status, id) gives without a sort
	}
	if f.Reason != "" {
		args = append(args, f.Reason)
		n := "$" + strconv.Itoa(len(args))
		where += " AND ((r.status = 'skipped' AND r.skip_reason = " + n + ") OR (r.status = 'failed' AND r.error_code::text = " + n + "))"
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT r.id, r.identity_id, COALESCE(NULLIF(i.display_name, ''), ct.name, '') AS name,
			COALESCE(i.phone, '') AS phone, r.country, r.market, r.status, r.skip_reason, r.error_code, r.error_title,
			r.price_micros, r.actual_micros, r.currency, r.queued_at, r.sent_at, r.delivered_at, r.read_at, r.replied_at,
			r.clicked_at, r.ordered_at, r.failed_at, r.revenue_micros, r.thread_id
		FROM (SELECT * FROM campaign_recipients r WHERE r.campaign_id = $2 AND r.id > $3`+where+` ORDER BY `+order+` LIMIT $4) r
		JOIN campaigns c ON c.id = r.campaign_id AND c.business_id = $1
		LEFT JOIN identities i ON i.id = r.identity_id
		LEFT JOIN contacts ct ON ct.id = i.contact_id
		ORDER BY r.id`, args...)
	if err != nil {
		return nil, wrapErr(err, "list recipient rows of campaign %d", campaignID)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[RecipientRow])
	return out, wrapErr(err, "read recipient rows of campaign %d", campaignID)
}

// CampaignMark names the campaign a message of ours belonged to.
type CampaignMark struct {
	CampaignID int64
	Name       string
}

// CampaignMarks finds which of the business's messages were campaign
// messages, so the thread shows where a conversation came from.
func (s *Store) CampaignMarks(ctx context.Context, businessID int64, messageIDs []int64) (map[int64]CampaignMark, error) {
	if len(messageIDs) == 0 {
		return nil, nil
	}
	var rows []struct {
		MessageID  int64
		CampaignID int64
		Name       string
	}
	err := s.Gorm(ctx).Raw(`SELECT r.message_id, c.id AS campaign_id, c.name FROM campaign_recipients r
		JOIN campaigns c ON c.id = r.campaign_id AND c.business_id = ?
		WHERE r.message_id = ANY(?::bigint[])`, businessID, Int64List(messageIDs)).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, wrapErr(err, "find campaign messages")
	}
	out := make(map[int64]CampaignMark, len(rows))
	for _, r := range rows {
		out[r.MessageID] = CampaignMark{CampaignID: r.CampaignID, Name: r.Name}
	}
	return out, nil
}
