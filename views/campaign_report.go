package views

import (
	"context"
	"strconv"
)

// CampaignReportView is a campaign's report: where it stands, its funnel,
// cost and return, charts, and its recipients one page at a time.
type CampaignReportView struct {
	Page     Page
	ID       int64
	Name     string
	Channel  string
	Template string
	Schedule string // when it started or is scheduled, formatted
	WSURL    string // set while the campaign can still move
	Live     CampaignLive
	Timeline CampaignTimelineChart
	Markets  []CampaignMarketBar
	Reasons  []CampaignReasonOption
	Filter   CampaignRecipientFilter
	Rows     []CampaignRecipientLine
	NextURL  string // the next page of recipients, "" on the last
	// The recipient table loads after the counters (htmx, RowsURL); without
	// JavaScript, RowsPageURL is the page with the table (RowsShown).
	RowsShown   bool
	RowsURL     string
	RowsPageURL string
	NextRowsURL string // the next page as a fragment
	// The attribution window form: days (1–30) and its field error (translated).
	AttributionURL   string
	AttributionDays  string
	AttributionError string
	CSVURL           string
	EditURL          string // the campaign's own page (editor, estimate, controls), "" if none
	RetryURL         string // "retry failed after 24 h", "" when not offered
	Notice           string // translated
	Error            string // translated
}

// CampaignLive is the part of the report a running campaign's frames replace.
type CampaignLive struct {
	ID           int64
	Status       string
	PausedReason string
	Total        int64
	Done         int64 // no longer pending
	Percent      int   // Done of Total, 0–100
	Pending      int64
	Queued       int64
	Skipped      int64
	Failed       int64
	Funnel       []CampaignFunnelStep
	Budget       string
	Estimated    string
	Actual       string
	Revenue      string
	ROI          string // "—" when the cost is 0
	ROIOn        string // "actual" or "estimated": which cost ROI is on
	Orders       int64
	Uncounted    int64 // orders in another currency, not in revenue
	Window       int   // attribution days
	Updated      string
}

// CampaignFunnelStep is one bar of the funnel: W in SVG units of 400.
type CampaignFunnelStep struct {
	Key     string // sent, delivered, read, replied, clicked, ordered
	N       int64
	Percent string // of sent
	W       int
}

// CampaignTimelineChart is sends and reads per bucket, in SVG units.
type CampaignTimelineChart struct {
	Bars  []CampaignTimelineBar
	Max   int64
	Step  string // the bucket's width, "5 min"
	First string // label of the first bucket
	Last  string // label of the last bucket
}

// CampaignTimelineBar is one bucket: heights of 120.
type CampaignTimelineBar struct {
	Label      string
	Sent, Read int64
	SentH      int
	ReadH      int
}

// CampaignMarketBar is one market's cost: bar lengths in SVG units of 400.
type CampaignMarketBar struct {
	Market              string
	Recipients          int64
	Estimated, Actual   string
	EstimatedW, ActualW int
}

// CampaignReasonOption is one skip reason or error code of the filter.
type CampaignReasonOption struct {
	Value  string
	Failed bool
	Title  string
	N      int64
}

// CampaignRecipientFilter is the table's current filter.
type CampaignRecipientFilter struct {
	Status string
	Reason string
}

// CampaignRecipientLine is one recipient, formatted.
type CampaignRecipientLine struct {
	Name       string
	Phone      string
	ThreadURL  string // "" when no thread
	Market     string
	Status     string
	Reason     string // skip reason code
	ErrorCode  string
	ErrorTitle string
	Price      string
	Sent       string
	Delivered  string
	Read       string
	Replied    string
	Clicked    string
	Ordered    string
	Revenue    string
}

// CampaignRecipientStatuses are the table's status filters, in funnel order.
var CampaignRecipientStatuses = []string{"pending", "skipped", "queued", "unknown", "sent", "delivered", "read", "failed", "replied", "clicked", "ordered"}

// skipReasonLabel translates a skip reason, or shows its code.
func skipReasonLabel(ctx context.Context, code string) string {
	for _, key := range []string{"report.skip." + code, "reason." + code} {
		if _, ok := catalogue["en"][key]; ok {
			return T(ctx, key)
		}
	}
	return code
}

// reasonOptionLabel is a filter option: "Opted out of marketing (12)" or "131049 Per-user cap (3)".
func reasonOptionLabel(ctx context.Context, o CampaignReasonOption) string {
	label := skipReasonLabel(ctx, o.Value)
	if o.Failed {
		label = T(ctx, "report.error_code", o.Value)
		if o.Value == "" {
			label = T(ctx, "report.error_none")
		}
		if o.Title != "" {
			label += " " + o.Title
		}
	}
	return label + " (" + strconv.FormatInt(o.N, 10) + ")"
}

// funnelColor shades the funnel from grey (sent) to the accent (ordered).
func funnelColor(i int) string {
	colors := []string{"#9ca3af", "#60a5fa", "#3b82f6", "#2563eb", "#1d4ed8", "#15803d"}
	return colors[min(i, len(colors)-1)]
}

// timelineSlot is the width of one bucket in a 598-unit wide plot.
func timelineSlot(n int) int { return max(598/max(n, 1), 2) }
