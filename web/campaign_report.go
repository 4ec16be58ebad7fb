package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// reportPageSize is how many recipients the report's table shows at once.
const reportPageSize = 50

// campaignReportPage is GET /campaigns/{id}: the campaign's report. The
// recipient table, the page's dearest part, is not on it: htmx loads it
// after the counters (campaignReportRows); rows=1 (the no-JavaScript link,
// filter and next page) puts it on the page.
func (s *Server) campaignReportPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	v, err := s.campaignReport(r, c, r.URL.Query().Get("rows") == "1")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if r.URL.Query().Get("notice") == "attribution" {
		v.Notice = views.T(r.Context(), "report.attribution_saved")
	}
	s.render(w, r, http.StatusOK, views.CampaignReportPage(*v))
}

// campaignReportRows is GET /campaigns/{id}/recipients: one page of the
// report's recipient table, as a fragment.
func (s *Server) campaignReportRows(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	v := &views.CampaignReportView{ID: c.ID}
	if err := s.reportRows(r, c, v); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.CampaignRecipientRows(*v))
}

// campaignAttribution is POST /campaigns/{id}/attribution: the campaign's
// attribution window, 1–30 days (audited); a bad one re-renders the report
// with the field's error.
func (s *Server) campaignAttribution(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := viewerFrom(ctx)
	raw := strings.TrimSpace(r.PostFormValue("attribution_days"))
	days, err := strconv.Atoi(raw)
	if err != nil || days < minAttributionDays || days > maxAttributionDays {
		rv, err := s.campaignReport(r, c, false)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		rv.AttributionDays, rv.AttributionError = raw, views.T(ctx, "report.attribution_bad")
		s.render(w, r, http.StatusUnprocessableEntity, views.CampaignReportPage(*rv))
		return
	}
	before, err := s.store.CampaignOutcome(ctx, v.BusinessID, c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if _, err := s.store.SetAttributionDays(ctx, v.BusinessID, c.ID, days); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(ctx, v.BusinessID, &uid, "campaign.attribution", "campaign", c.ID,
		map[string]int{"attribution_days": before.AttributionDays}, map[string]int{"attribution_days": days}); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, campaignPath(c.ID)+"?notice=attribution", http.StatusSeeOther)
}

// The attribution window an admin may set: the range (the column
// allows up to 90 for the API's conversions).
const (
	minAttributionDays = 1
	maxAttributionDays = 30
)

// reportFilter is the recipient filter of the request's query.
func reportFilter(r *http.Request) (models.RecipientFilter, int64) {
	q := r.URL.Query()
	f := models.RecipientFilter{Status: q.Get("status"), Reason: q.Get("reason")}
	if !validRecipientStatus(f.Status) {
		f.Status = ""
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	return f, after
}

// reportRows loads one page of the filter's recipients into v, with the
// next page's links (on the page and as a fragment).
func (s *Server) reportRows(r *http.Request, c *models.Campaign, v *views.CampaignReportView) error {
	f, after := reportFilter(r)
	rows, err := s.store.CampaignRecipientRows(r.Context(), viewerFrom(r.Context()).BusinessID, c.ID, f, after, reportPageSize+1)
	if err != nil {
		return err
	}
	v.RowsShown = true
	if len(rows) > reportPageSize {
		rows = rows[:reportPageSize]
		next := filterQuery(f, rows[len(rows)-1].ID)
		v.NextURL = withQuery(campaignPath(c.ID), rowsQuery(next))
		v.NextRowsURL = withQuery(campaignPath(c.ID)+"/recipients", next)
	}
	loc := campaignLocation(c)
	for _, row := range rows {
		l := recipientLine(row, loc)
		if c.DryRun && l.Status == models.RecipientQueued {
			l.Status = "dry_run" // judged, personalised and priced; a dry run sends nothing
		}
		v.Rows = append(v.Rows, l)
	}
	return nil
}

// campaignReport gathers the report: the live panel, the cached charts and,
// with withRows, a page of recipients.
func (s *Server) campaignReport(r *http.Request, c *models.Campaign, withRows bool) (*views.CampaignReportView, error) {
	ctx := r.Context()
	biz := viewerFrom(ctx).BusinessID
	live, err := s.campaignLiveOf(ctx, c)
	if err != nil {
		return nil, err
	}
	agg, err := s.campaignAggs.get(ctx, s.store, c)
	if err != nil {
		return nil, err
	}
	f, after := reportFilter(r)
	loc := campaignLocation(c)
	v := &views.CampaignReportView{
		Page: s.page(r, views.T(ctx, "report.title", c.Name), "campaigns"),
		ID:   c.ID, Name: c.Name, Live: live, Filter: views.CampaignRecipientFilter{Status: f.Status, Reason: f.Reason},
		Timeline: agg.timeline, Markets: agg.markets, Reasons: agg.reasons,
		CSVURL: withQuery(campaignPath(c.ID)+"/recipients.csv", filterQuery(f, 0)), EditURL: campaignPath(c.ID) + "/edit",
		RowsURL:        withQuery(campaignPath(c.ID)+"/recipients", filterQuery(f, after)),
		RowsPageURL:    withQuery(campaignPath(c.ID), rowsQuery(filterQuery(f, after))),
		AttributionURL: campaignPath(c.ID) + "/attribution", AttributionDays: strconv.Itoa(live.Window),
	}
	v.Channel = s.channelNames.get(ctx, s.store, biz, c.ChannelID)
	if c.TemplateName != "" {
		v.Template = c.TemplateName + " (" + c.TemplateLanguage + ")"
	}
	switch {
	case c.StartedAt != nil:
		v.Schedule = c.StartedAt.In(loc).Format("2 Jan 2006 15:04 MST")
	case c.ScheduledAt != nil:
		v.Schedule = c.ScheduledAt.In(loc).Format("2 Jan 2006 15:04 MST")
	}
	if c.Status != models.CampaignDone && c.Status != models.CampaignCancelled && c.Status != models.CampaignDraft {
		v.WSURL = campaignPath(c.ID) + "/live"
	}
	if s.opts.Campaigns != nil && retryOffered(agg.reasons) {
		v.RetryURL = campaignPath(c.ID) + "/retry"
	}
	if withRows {
		if err := s.reportRows(r, c, v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// rowsQuery adds rows=1 (the recipient table on the page) to a query.
func rowsQuery(q string) string {
	if q == "" {
		return "rows=1"
	}
	return q + "&rows=1"
}

func campaignPath(id int64) string { return "/campaigns/" + strconv.FormatInt(id, 10) }

func filterQuery(f models.RecipientFilter, after int64) string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Reason != "" {
		q.Set("reason", f.Reason)
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	return q.Encode()
}

func validRecipientStatus(st string) bool {
	for _, s := range views.CampaignRecipientStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// campaignLocation is the campaign's time zone, for the times it shows.
func campaignLocation(c *models.Campaign) *time.Location {
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

func recipientLine(r models.RecipientRow, loc *time.Location) views.CampaignRecipientLine {
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2 Jan 15:04")
	}
	l := views.CampaignRecipientLine{Name: r.Name, Phone: r.Phone, Market: r.Market, Status: r.Status,
		Sent: at(r.SentAt), Delivered: at(r.DeliveredAt), Read: at(r.ReadAt), Replied: at(r.RepliedAt),
		Clicked: at(r.ClickedAt), Ordered: at(r.OrderedAt), ErrorTitle: r.ErrorTitle}
	if l.Name == "" {
		l.Name = "—"
	}
	if l.Market == "" {
		l.Market = r.Country
	}
	if r.Status == models.RecipientSkipped {
		l.Reason = r.SkipReason
	}
	if r.ErrorCode != nil {
		l.ErrorCode = strconv.Itoa(int(*r.ErrorCode))
	}
	if r.PriceMicros > 0 {
		l.Price = money(r.Currency, r.PriceMicros)
	}
	if r.RevenueMicros > 0 {
		l.Revenue = money(r.Currency, r.RevenueMicros)
	}
	if r.ThreadID != nil {
		l.ThreadURL = "/inbox/threads/" + strconv.FormatInt(*r.ThreadID, 10)
	}
	return l
}

// campaignLiveOf is the live panel of c: counters only (kept incrementally), never a count of recipients.
func (s *Server) campaignLiveOf(ctx context.Context, c *models.Campaign) (views.CampaignLive, error) {
	counts, err := s.store.CampaignCounts(ctx, c.ID)
	if err != nil {
		return views.CampaignLive{}, err
	}
	out, err := s.store.CampaignOutcome(ctx, c.BusinessID, c.ID)
	if err != nil {
		return views.CampaignLive{}, err
	}
	return campaignLivePanel(c, counts, out, time.Now()), nil
}

// campaignLivePanel shapes the counters into the funnel, money and progress.
func campaignLivePanel(c *models.Campaign, n models.CampaignCounts, o models.CampaignOutcome, now time.Time) views.CampaignLive {
	l := views.CampaignLive{ID: c.ID, Status: c.Status, PausedReason: c.PausedReason, Total: n.Total, Pending: n.Pending,
		Queued: n.Queued, Skipped: n.Skipped, Failed: n.Failed, Orders: o.OrdersCount, Uncounted: o.Uncounted,
		Window: o.AttributionDays, Updated: now.In(campaignLocation(c)).Format("15:04:05")}
	l.Done = n.Total - n.Pending
	if n.Total > 0 {
		l.Percent = int(l.Done * 100 / n.Total)
	}
	sent := n.Sent + n.Delivered + n.Read
	steps := []struct {
		key string
		n   int64
	}{{"sent", sent}, {"delivered", n.Delivered + n.Read}, {"read", n.Read}, {"replied", n.Replied},
		{"clicked", n.Clicked}, {"ordered", o.OrderedCount}}
	for _, st := range steps {
		f := views.CampaignFunnelStep{Key: st.key, N: st.n, Percent: "—"}
		if sent > 0 {
			f.Percent = fmt.Sprintf("%.1f%%", float64(st.n)*100/float64(sent))
			f.W = int(min(st.n, sent) * 400 / sent)
		}
		l.Funnel = append(l.Funnel, f)
	}
	l.Budget = "—"
	if c.BudgetMicros > 0 {
		l.Budget = money(c.Currency, c.BudgetMicros)
	}
	l.Estimated, l.Actual, l.Revenue = money(c.Currency, n.EstimatedMicros), money(c.Currency, n.ActualMicros), money(c.Currency, o.RevenueMicros)
	finished := c.Status == models.CampaignDone || c.Status == models.CampaignCancelled
	l.ROI, l.ROIOn = roi(o.RevenueMicros, n.ActualMicros, n.EstimatedMicros, finished)
	return l
}

// roi is (revenue − cost) / cost as a percentage; "—" when there is no cost.
// Once the campaign has finished the cost is what Meta charged, when it
// reported any; while it runs Meta has reported only some messages, so the
// cost is the estimate of all of them (or the charges, once above it): a
// partial charge must not make the return look better than it is.
func roi(revenue, actual, estimated int64, finished bool) (string, string) {
	cost, on := estimated, "estimated"
	if (finished && actual > 0) || actual > estimated {
		cost, on = actual, "actual"
	}
	if cost <= 0 {
		return "—", ""
	}
	return fmt.Sprintf("%+.1f%%", float64(revenue-cost)*100/float64(cost)), on
}

// campaignAggregates caches a campaign's charts and reason counts, which
// read every recipient row: a running campaign's page is asked for far more
// often than these change, and its p99 must stay within the counters' reach.
// A stale entry is served while one background load replaces it, so no
// request waits for the recipients but the very first.
type campaignAggregates struct {
	mu         sync.Mutex
	byID       map[int64]campaignAgg
	refreshing map[int64]bool
}

type campaignAgg struct {
	at       time.Time
	timeline views.CampaignTimelineChart
	markets  []views.CampaignMarketBar
	reasons  []views.CampaignReasonOption
}

// campaignAggTTL is how stale a moving campaign's charts may be; a finished
// one's only change with late statuses, replies and orders.
const (
	campaignAggTTL     = 5 * time.Second
	campaignAggDoneTTL = time.Minute
	campaignAggMax     = 1000 // campaigns cached at most; beyond, start over
	campaignAggTimeout = 30 * time.Second
)

func (a *campaignAggregates) get(ctx context.Context, store *models.Store, c *models.Campaign) (campaignAgg, error) {
	ttl := campaignAggTTL
	if c.Status == models.CampaignDone || c.Status == models.CampaignCancelled || c.Status == models.CampaignDraft {
		ttl = campaignAggDoneTTL
	}
	a.mu.Lock()
	cached, ok := a.byID[c.ID]
	if ok && time.Since(cached.at) >= ttl && !a.refreshing[c.ID] {
		if a.refreshing == nil {
			a.refreshing = map[int64]bool{}
		}
		a.refreshing[c.ID] = true
		cc := *c
		go a.refresh(store, &cc)
	}
	a.mu.Unlock()
	if ok {
		return cached, nil
	}
	agg, err := loadCampaignAgg(ctx, store, c)
	if err == nil {
		a.put(c.ID, agg)
	}
	return agg, err
}

func (a *campaignAggregates) refresh(store *models.Store, c *models.Campaign) {
	ctx, cancel := context.WithTimeout(context.Background(), campaignAggTimeout)
	defer cancel()
	agg, err := loadCampaignAgg(ctx, store, c)
	a.mu.Lock()
	delete(a.refreshing, c.ID)
	a.mu.Unlock()
	if err == nil {
		a.put(c.ID, agg)
	}
}

func (a *campaignAggregates) put(id int64, agg campaignAgg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID == nil || len(a.byID) >= campaignAggMax {
		a.byID = map[int64]campaignAgg{}
	}
	a.byID[id] = agg
}

func loadCampaignAgg(ctx context.Context, store *models.Store, c *models.Campaign) (campaignAgg, error) {
	agg := campaignAgg{at: time.Now()}
	from := c.CreatedAt
	if c.StartedAt != nil {
		from = *c.StartedAt
	}
	until := time.Now()
	if c.FinishedAt != nil {
		until = *c.FinishedAt
	}
	step := timelineStep(until.Sub(from))
	buckets, err := store.CampaignTimeline(ctx, c.ID, from.Truncate(step), step)
	if err != nil {
		return agg, err
	}
	agg.timeline = timelineChart(buckets, step, campaignLocation(c))
	markets, err := store.CampaignCostByMarket(ctx, c.ID)
	if err != nil {
		return agg, err
	}
	agg.markets = marketBars(markets, c.Currency)
	reasons, err := store.CampaignReasons(ctx, c.ID)
	if err != nil {
		return agg, err
	}
	for _, r := range reasons {
		agg.reasons = append(agg.reasons, views.CampaignReasonOption{Value: r.Reason, Failed: r.Failed, Title: r.Title, N: r.N})
	}
	return agg, nil
}

// timelineSteps are the bucket widths a timeline picks from: at most ~48 bars.
var timelineSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour}

func timelineStep(span time.Duration) time.Duration {
	for _, st := range timelineSteps {
		if span/st <= 48 {
			return st
		}
	}
	return 7 * 24 * time.Hour
}

func stepLabel(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " d"
	case d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
}

func timelineChart(buckets []models.CampaignBucket, step time.Duration, loc *time.Location) views.CampaignTimelineChart {
	ch := views.CampaignTimelineChart{Step: stepLabel(step)}
	if len(buckets) == 0 {
		return ch
	}
	// Fill the gaps so time reads evenly left to right (bounded: ≤ 48 steps by construction, 200 at most).
	first, last := buckets[0].At, buckets[len(buckets)-1].At
	byAt := make(map[int64]models.CampaignBucket, len(buckets))
	for _, b := range buckets {
		byAt[b.At.Unix()] = b
		ch.Max = max(ch.Max, b.Sent, b.Read)
	}
	format := "15:04"
	if last.Sub(first) >= 24*time.Hour {
		format = "2 Jan 15:04"
	}
	for t, i := first, 0; !t.After(last) && i < 200; t, i = t.Add(step), i+1 {
		b := byAt[t.Unix()]
		bar := views.CampaignTimelineBar{Label: t.In(loc).Format(format), Sent: b.Sent, Read: b.Read}
		if ch.Max > 0 {
			bar.SentH, bar.ReadH = int(b.Sent*120/ch.Max), int(b.Read*120/ch.Max)
		}
		ch.Bars = append(ch.Bars, bar)
	}
	ch.First, ch.Last = ch.Bars[0].Label, ch.Bars[len(ch.Bars)-1].Label
	return ch
}

func marketBars(rows []models.CampaignMarketCost, currency string) []views.CampaignMarketBar {
	var top int64
	for _, r := range rows {
		top = max(top, r.EstimatedMicros, r.ActualMicros)
	}
	out := make([]views.CampaignMarketBar, 0, len(rows))
	for _, r := range rows {
		cur := r.Currency
		if cur == "" {
			cur = currency
		}
		b := views.CampaignMarketBar{Market: r.Market, Recipients: r.Recipients,
			Estimated: money(cur, r.EstimatedMicros), Actual: money(cur, r.ActualMicros)}
		if b.Market == "" {
			b.Market = "—"
		}
		if top > 0 {
			b.EstimatedW, b.ActualW = int(r.EstimatedMicros*300/top), int(r.ActualMicros*300/top)
		}
		out = append(out, b)
	}
	return out
}

// channelLabels caches, per replica, the name a report's header shows for
// a channel (its name, else its number): one query less per page. At most
// a minute stale after a rename; bounded.
type channelLabels struct {
	mu   sync.Mutex
	byID map[[2]int64]channelLabel
}

type channelLabel struct {
	at    time.Time
	label string
}

const (
	channelLabelTTL = time.Minute
	channelLabelMax = 1000
)

func (c *channelLabels) get(ctx context.Context, store *models.Store, businessID, channelID int64) string {
	key := [2]int64{businessID, channelID}
	c.mu.Lock()
	l, ok := c.byID[key]
	c.mu.Unlock()
	if ok && time.Since(l.at) < channelLabelTTL {
		return l.label
	}
	ch, err := store.Channel(ctx, businessID, channelID)
	if err != nil || ch == nil {
		return ""
	}
	label := ch.Name
	if label == "" {
		label = ch.DisplayPhone
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil || len(c.byID) >= channelLabelMax {
		c.byID = map[[2]int64]channelLabel{}
	}
	c.byID[key] = channelLabel{at: time.Now(), label: label}
	return label
}
