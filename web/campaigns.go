package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/pricing"
	"github.com/switchboard-inbox/switchboard/views"
)

const campaignNotice = "campaign_notice"

// campaignTimeZones are offered in the editor (any IANA name is accepted).
var campaignTimeZones = []string{"Europe/Rome", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "UTC",
	"America/New_York", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Jakarta", "Africa/Lagos"}

// campaignPageRoutes registers the admin pages of campaigns (the report at
// /campaigns/{id} is campaign_report.go's).
func (s *Server) campaignPageRoutes(mux *http.ServeMux) {
	ui := s.sessions.LoadAndSave
	admin := func(h http.HandlerFunc) http.Handler { return ui(s.requireRole(models.RoleAdmin, h)) }
	mux.Handle("GET /campaigns", admin(s.campaignsPage))
	mux.Handle("GET /campaigns/new", admin(s.campaignNewPage))
	mux.Handle("GET /campaigns/editor", admin(s.campaignEditorFragment))
	mux.Handle("POST /campaigns/preview", admin(s.campaignPreview))
	mux.Handle("POST /campaigns", admin(s.campaignCreate))
	mux.Handle("GET /campaigns/{id}/edit", admin(s.campaignEditPage))
	mux.Handle("POST /campaigns/{id}/edit", admin(s.campaignUpdate))
	for _, a := range []string{"start", "pause", "resume", "cancel", "retry", "budget", "test"} {
		mux.Handle("POST /campaigns/{id}/"+a, admin(s.campaignAction(a)))
	}
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	biz := viewerFrom(r.Context()).BusinessID
	cs, err := s.store.Campaigns(r.Context(), biz, 200)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	chs, err := s.store.Channels(r.Context(), biz)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, ch := range chs {
		names[ch.ID] = views.T(r.Context(), "app."+ch.App) + " · " + cmpStr(ch.Name, ch.DisplayPhone, ch.AccountID)
	}
	v := views.CampaignsView{Page: s.page(r, views.T(r.Context(), "nav.campaigns"), "campaigns"),
		Notice: s.sessions.PopString(r.Context(), campaignNotice)}
	for _, c := range cs {
		n, err := s.store.CampaignCounts(r.Context(), c.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v.Rows = append(v.Rows, views.CampaignRow{Campaign: c, Counts: n, Channel: names[c.ChannelID]})
	}
	s.render(w, r, http.StatusOK, views.Campaigns(v))
}

func cmpStr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// editorBase is the editor's channels, labels and, for the form's channel,
// its approved templates and the chosen one's variable slots.
func (s *Server) editorBase(r *http.Request, v *views.CampaignEditView) error {
	ctx := r.Context()
	biz := viewerFrom(ctx).BusinessID
	chs, err := s.store.Channels(ctx, biz)
	if err != nil {
		return err
	}
	v.Channels, v.TimeZones = chs, campaignTimeZones
	if v.Labels, err = s.store.Labels(ctx, biz); err != nil {
		return err
	}
	if v.Form["channel_id"] == "" && len(chs) > 0 {
		for _, ch := range chs { // WhatsApp first: campaigns are mostly templates
			if ch.App == models.AppWhatsApp {
				v.Form["channel_id"] = strconv.FormatInt(ch.ID, 10)
				break
			}
		}
		if v.Form["channel_id"] == "" {
			v.Form["channel_id"] = strconv.FormatInt(chs[0].ID, 10)
		}
	}
	chID, _ := strconv.ParseInt(v.Form["channel_id"], 10, 64)
	for _, ch := range chs {
		if ch.ID == chID {
			v.Form["app"] = ch.App
		}
	}
	if v.Form["app"] != models.AppWhatsApp {
		return nil
	}
	if v.Templates, err = s.store.ApprovedCampaignTemplates(ctx, biz, chID); err != nil {
		return err
	}
	name, lang, _ := strings.Cut(v.Form["template"], "|")
	for i := range v.Templates {
		if v.Templates[i].Name == name && v.Templates[i].Language == lang {
			v.Template = &v.Templates[i]
		}
	}
	if v.Template == nil && v.Campaign != nil && v.Campaign.TemplateID != nil {
		if v.Template, err = s.store.TemplateByID(ctx, biz, *v.Campaign.TemplateID); err != nil {
			return err
		}
	}
	if v.Template != nil {
		n := len(v.Template.Parameters)
		if n == 0 {
			n = strings.Count(v.Template.Body, "{{")
		}
		v.Vars = make([]string, n)
		for i := range v.Vars {
			v.Vars[i] = v.Form["var_"+strconv.Itoa(i)]
		}
	}
	return nil
}

// campaignFormValues reads the editor's form (or query, for the fragment).
func campaignFormValues(r *http.Request) (map[string]string, map[string]bool) {
	_ = r.ParseForm()
	f := map[string]string{}
	for k, vs := range r.Form {
		if len(vs) > 0 {
			f[k] = strings.TrimSpace(vs[0])
		}
	}
	chosen := map[string]bool{}
	for _, l := range r.Form["labels"] {
		chosen["label:"+l] = true
	}
	for _, a := range r.Form["apps"] {
		chosen["app:"+a] = true
	}
	return f, chosen
}

// campaignInputOf turns the form into the campaign input; the error names the field.
func campaignInputOf(r *http.Request, f map[string]string) (jobs.CampaignInput, error) {
	in := jobs.CampaignInput{Name: f["name"], Text: f["text"], Budget: f["budget"], Currency: f["currency"],
		TimeZone: cmpStr(f["time_zone"], "UTC"), DryRun: f["dry_run"] == "1"}
	in.ChannelID, _ = strconv.ParseInt(f["channel_id"], 10, 64)
	in.Template.Name, in.Template.Language, _ = strings.Cut(f["template"], "|")
	for i := 0; ; i++ {
		v, ok := f["var_"+strconv.Itoa(i)]
		if !ok {
			break
		}
		in.Variables = append(in.Variables, v)
	}
	if f["rate_per_second"] != "" {
		n, err := strconv.Atoi(f["rate_per_second"])
		if err != nil {
			return in, &models.FieldError{Field: "rate_per_second", Message: "a whole number"}
		}
		in.RatePerSecond = n
	}
	if f["scheduled_at"] != "" {
		at, err := jobs.LocalSchedule(f["scheduled_at"], in.TimeZone)
		if err != nil {
			return in, err
		}
		in.ScheduledAt = &at
	}
	in.Audience.Labels = r.Form["labels"]
	in.Audience.Apps = r.Form["apps"]
	for _, c := range strings.Split(f["countries"], ",") {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			in.Audience.Countries = append(in.Audience.Countries, c)
		}
	}
	loc, err := time.LoadLocation(in.TimeZone) // a day starts at midnight where the campaign is
	if err != nil {
		loc = time.UTC // the zone's own error comes from the campaign's checks
	}
	for key, dst := range map[string]**time.Time{"after": &in.Audience.LastContactedAfter, "before": &in.Audience.LastContactedBefore} {
		if f[key] == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, f[key], loc)
		if err != nil {
			return in, &models.FieldError{Field: key, Message: "a date YYYY-MM-DD"}
		}
		*dst = &d
	}
	return in, nil
}

// formOf fills the editor's form from a saved campaign.
func formOf(c *models.Campaign) (map[string]string, map[string]bool) {
	f := map[string]string{"name": c.Name, "channel_id": strconv.FormatInt(c.ChannelID, 10), "text": c.MessageText,
		"budget": pricing.FormatAmount(c.BudgetMicros), "currency": c.Currency, "time_zone": c.TimeZone,
		"rate_per_second": strconv.Itoa(c.RatePerSecond)}
	if c.TemplateName != "" {
		f["template"] = c.TemplateName + "|" + c.TemplateLanguage
	}
	for i, v := range c.Vars() {
		f["var_"+strconv.Itoa(i)] = v
	}
	if c.DryRun {
		f["dry_run"] = "1"
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	if c.ScheduledAt != nil {
		f["scheduled_at"] = c.ScheduledAt.In(loc).Format("2006-01-02T15:04")
	}
	a := c.Filter()
	f["countries"] = strings.Join(a.Countries, ", ")
	if a.LastContactedAfter != nil {
		f["after"] = a.LastContactedAfter.In(loc).Format(time.DateOnly)
	}
	if a.LastContactedBefore != nil {
		f["before"] = a.LastContactedBefore.In(loc).Format(time.DateOnly)
	}
	chosen := map[string]bool{}
	for _, l := range a.Labels {
		chosen["label:"+l] = true
	}
	for _, x := range a.Apps {
		chosen["app:"+x] = true
	}
	return f, chosen
}

func (s *Server) campaignNewPage(w http.ResponseWriter, r *http.Request) {
	f, chosen := campaignFormValues(r)
	if f["time_zone"] == "" {
		f["time_zone"] = "Europe/Rome"
	}
	v := views.CampaignEditView{Page: s.page(r, views.T(r.Context(), "campaigns.new"), "campaigns"), Form: f, Chosen: chosen,
		PreviewIncomplete: true} // until the form names a channel and a template (the preview follows it live)
	if err := s.editorBase(r, &v); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.CampaignEdit(v))
}

// campaignEditorFragment re-renders the form's message part when the
// channel or template changes (htmx selects #campaign-message from it).
func (s *Server) campaignEditorFragment(w http.ResponseWriter, r *http.Request) {
	s.campaignNewPage(w, r)
}

func (s *Server) campaignCreate(w http.ResponseWriter, r *http.Request) {
	cm, ok := s.campaignsOrFail(w, r)
	if !ok {
		return
	}
	v := viewerFrom(r.Context())
	f, chosen := campaignFormValues(r)
	in, err := campaignInputOf(r, f)
	var c *models.Campaign
	if err == nil {
		c, err = cm.Create(r.Context(), v.BusinessID, in, &v.User.ID)
	}
	if err != nil {
		s.campaignFormError(w, r, nil, f, chosen, err)
		return
	}
	s.sessions.Put(r.Context(), campaignNotice, views.T(r.Context(), "campaign.saved"))
	seeOther(w, r, "/campaigns/"+strconv.FormatInt(c.ID, 10)+"/edit")
}

func (s *Server) campaignUpdate(w http.ResponseWriter, r *http.Request) {
	cm, ok := s.campaignsOrFail(w, r)
	if !ok {
		return
	}
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	f, chosen := campaignFormValues(r)
	in, err := campaignInputOf(r, f)
	if err == nil {
		_, err = cm.Update(r.Context(), c.BusinessID, c.ID, in)
	}
	if err != nil {
		s.campaignFormError(w, r, c, f, chosen, err)
		return
	}
	s.sessions.Put(r.Context(), campaignNotice, views.T(r.Context(), "campaign.saved"))
	seeOther(w, r, "/campaigns/"+strconv.FormatInt(c.ID, 10)+"/edit")
}

// campaignFormError re-renders the editor with the field's message (422).
// fieldMessage is a bad input's message in the reader's language, where the
// error has a catalogue key; else the error's own words.
func fieldMessage(ctx context.Context, fe *models.FieldError) string {
	if fe.Key != "" {
		return views.T(ctx, fe.Key, fe.Args...)
	}
	return fe.Message
}

// testIdentity finds the identity a test send goes to by the WhatsApp number
// an admin typed ("+39 333 123 4567", "0039…"): one that wrote to the
// campaign's channel (Meta needs the customer to have written first).
func (s *Server) testIdentity(ctx context.Context, c *models.Campaign, phone string) (int64, error) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	digits = strings.TrimPrefix(digits, "00")
	unknown := &models.FieldError{Field: "test_phone", Message: views.T(ctx, "campaign.test_unknown_phone")}
	if len(digits) < 6 {
		return 0, unknown
	}
	ident, err := s.store.IdentityByExternal(ctx, c.ChannelID, digits)
	if err != nil {
		return 0, err
	}
	if ident == nil || ident.BusinessID != c.BusinessID {
		return 0, unknown
	}
	return ident.ID, nil
}

func (s *Server) campaignFormError(w http.ResponseWriter, r *http.Request, c *models.Campaign, f map[string]string, chosen map[string]bool, err error) {
	var fe *models.FieldError
	if !errors.As(err, &fe) {
		if errors.Is(err, models.ErrCampaignState) {
			fe = &models.FieldError{Message: views.T(r.Context(), "campaign.state_conflict")}
		} else {
			s.serverError(w, r, err)
			return
		}
	}
	v := views.CampaignEditView{Page: s.page(r, views.T(r.Context(), "nav.campaigns"), "campaigns"), Campaign: c, Form: f, Chosen: chosen,
		Error: fieldMessage(r.Context(), fe), Field: fe.Field}
	if err := s.editorBase(r, &v); err != nil {
		s.serverError(w, r, err)
		return
	}
	if c != nil {
		if err := s.campaignPanels(r.Context(), &v); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusUnprocessableEntity, views.CampaignEdit(v))
}

func (s *Server) loadCampaign(w http.ResponseWriter, r *http.Request) (*models.Campaign, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return nil, false
	}
	c, err := s.store.Campaign(r.Context(), viewerFrom(r.Context()).BusinessID, id)
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	if c == nil {
		s.notFound(w, r)
		return nil, false
	}
	return c, true
}

// campaignPanels fills the estimate (drafts), preview, progress and money.
func (s *Server) campaignPanels(ctx context.Context, v *views.CampaignEditView) error {
	c := v.Campaign
	cm := s.opts.Campaigns
	v.Budget = pricing.FormatAmount(c.BudgetMicros)
	v.Spent = pricing.FormatAmount(c.SpentMicros)
	if c.Currency != "" {
		v.Budget += " " + c.Currency
		v.Spent += " " + c.Currency
	}
	var err error
	if v.Counts, err = s.store.CampaignCounts(ctx, c.ID); err != nil {
		return err
	}
	if c.Status != models.CampaignDraft {
		if v.Skipped, err = s.store.CampaignSkipReasons(ctx, c.ID); err != nil {
			return err
		}
	}
	if cm == nil {
		return nil
	}
	if c.Status == models.CampaignDraft || c.Status == models.CampaignScheduled {
		e, err := cm.Estimate(ctx, c.BusinessID, c.ID)
		if err != nil {
			return err
		}
		ev := &views.EstimateView{Recipients: e.Recipients, Skipped: views.SortedReasons(e.Skipped), Total: pricing.FormatMicros(e.TotalMicros),
			Budget: pricing.FormatMicros(e.BudgetMicros), Currency: e.Currency, Over: e.OverBudget(), Unpriced: e.Unpriced, Affordable: e.Affordable}
		for _, m := range e.ByMarket {
			ev.Markets = append(ev.Markets, views.MarketRow{Market: cmpStr(m.Market, "?"), Recipients: m.Recipients,
				Price: pricing.FormatMicros(m.PriceMicros), Total: pricing.FormatMicros(m.TotalMicros)})
		}
		v.Estimate = ev
	}
	ps, err := cm.Previews(ctx, c.BusinessID, c.ID, previewSample)
	if err != nil {
		return err
	}
	v.Previews = previewRows(ps)
	return nil
}

// previewSample is how many real recipients the editor's preview shows.
const previewSample = 3

func previewRows(ps []jobs.Preview) []views.PreviewRow {
	rows := make([]views.PreviewRow, 0, len(ps))
	for _, p := range ps {
		row := views.PreviewRow{IdentityID: p.IdentityID, Name: cmpStr(p.Name, "—"), Header: p.Header, Text: p.Text, Unfilled: p.Unfilled}
		for _, l := range p.Links {
			row.Links = append(row.Links, views.PreviewLink{Text: l.Text, URL: l.URL})
		}
		rows = append(rows, row)
	}
	return rows
}

// campaignPreview is POST /campaigns/preview: the editor's form as it
// stands, personalised for real recipients of its audience; nothing is
// saved. A form not complete enough to preview says what it needs.
func (s *Server) campaignPreview(w http.ResponseWriter, r *http.Request) {
	cm, ok := s.campaignsOrFail(w, r)
	if !ok {
		return
	}
	f, _ := campaignFormValues(r)
	v := views.CampaignEditView{PreviewIncomplete: true}
	if in, err := campaignInputOf(r, f); err == nil { // a field being typed (a date) is not an error yet
		ps, err := cm.PreviewDraft(r.Context(), viewerFrom(r.Context()).BusinessID, in, previewSample)
		var fe *models.FieldError
		var invalid *jobs.InvalidError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &invalid) {
			s.serverError(w, r, err)
			return
		}
		v.Previews, v.PreviewIncomplete = previewRows(ps), err != nil
		switch {
		case fe != nil:
			v.PreviewNeeds = fieldMessage(r.Context(), fe)
		case invalid != nil:
			v.PreviewNeeds = invalid.Message
		}
	}
	s.render(w, r, http.StatusOK, views.CampaignPreview(v))
}

func (s *Server) campaignEditPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCampaign(w, r)
	if !ok {
		return
	}
	f, chosen := formOf(c)
	v := views.CampaignEditView{Page: s.page(r, c.Name, "campaigns"), Campaign: c, Form: f, Chosen: chosen,
		Notice: s.sessions.PopString(r.Context(), campaignNotice)}
	if err := s.editorBase(r, &v); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.campaignPanels(r.Context(), &v); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.CampaignEdit(v))
}

// campaignAction runs one button of the editor and comes back to it.
func (s *Server) campaignAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cm, ok := s.campaignsOrFail(w, r)
		if !ok {
			return
		}
		c, ok := s.loadCampaign(w, r)
		if !ok {
			return
		}
		v := viewerFrom(r.Context())
		ctx, biz := r.Context(), c.BusinessID
		var err error
		var after *models.Campaign
		var notice string
		switch action {
		case "start":
			after, err = cm.Start(ctx, biz, c.ID)
			notice = "campaign.started"
			if after != nil && after.Status == models.CampaignScheduled {
				notice = "campaign.scheduled"
			}
		case "pause":
			_, err = cm.Pause(ctx, biz, c.ID)
			notice = "campaign.paused"
		case "resume":
			after, err = cm.Resume(ctx, biz, c.ID)
			notice = "campaign.resumed"
			if after != nil && after.Status == models.CampaignScheduled { // paused before its time: it waits for it again
				notice = "campaign.scheduled"
			}
		case "cancel":
			_, err = cm.Cancel(ctx, biz, c.ID)
			notice = "campaign.cancelled"
		case "budget":
			budget, _, _ := strings.Cut(strings.TrimSpace(r.PostFormValue("budget")), " ") // "100.00 EUR" as shown
			_, err = cm.SetBudget(ctx, biz, c.ID, budget)
			notice = "campaign.budget_set"
		case "retry":
			after, err = cm.RetryFailed(ctx, biz, c.ID, &v.User.ID)
			notice = "campaign.retry_created"
		case "test":
			id, _ := strconv.ParseInt(r.PostFormValue("identity_id"), 10, 64)
			if phone := strings.TrimSpace(r.PostFormValue("test_phone")); phone != "" {
				id, err = s.testIdentity(ctx, c, phone)
			}
			if err == nil {
				_, err = cm.TestSend(ctx, biz, c.ID, id)
			}
			notice = "campaign.test_sent"
		}
		if err != nil {
			var refused *jobs.RefusedError
			if errors.As(err, &refused) {
				err = &models.FieldError{Field: "identity_id", Message: views.T(ctx, "reason."+string(refused.Decision.Reason))}
			}
			f, chosen := formOf(c)
			f["test_phone"] = r.PostFormValue("test_phone") // kept as typed
			s.campaignFormError(w, r, c, f, chosen, err)
			return
		}
		s.sessions.Put(ctx, campaignNotice, views.T(ctx, notice))
		to := c.ID
		if action == "retry" && after != nil {
			to = after.ID
		}
		seeOther(w, r, "/campaigns/"+strconv.FormatInt(to, 10)+"/edit")
	}
}
