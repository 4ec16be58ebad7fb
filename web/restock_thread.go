package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// restockAction is the side panel's "Notify me when it's back" for a direct
// thread; nil for groups and relays.
func (s *Server) restockAction(t *models.Thread, o *models.RestockOptions) *views.RestockAction {
	if t.Kind != "direct" || t.DirectIdentityID == nil || t.ChannelID == nil || o == nil {
		return nil
	}
	return &views.RestockAction{ThreadID: t.ID, Products: o.Products, Waiting: o.Waiting, Ask: restockAskOn(o.App, o.OTN)}
}

// restockAsk is how the customer can be asked on this thread's app: the OTN
// request where the Page has One-Time Notifications, otherwise a "Notify me"
// quick reply (a reply button on WhatsApp) whose payload is restock:<SKU>.
// The agent can always add them directly instead.
func (s *Server) restockAsk(ctx context.Context, businessID int64, t *models.Thread) (string, error) {
	ch, err := s.store.Channel(ctx, businessID, *t.ChannelID)
	if err != nil || ch == nil {
		return "", err
	}
	on := false
	if ch.App == models.AppMessenger {
		if on, err = s.store.ChannelOTN(ctx, businessID, ch.ID); err != nil {
			return "", err
		}
	}
	return restockAskOn(ch.App, on), nil
}

// restockAskOn is restockAsk for a channel of app with (Messenger) or
// without One-Time Notifications.
func restockAskOn(app string, otn bool) string {
	switch app {
	case models.AppMessenger:
		if otn {
			return views.AskOTN
		}
		return views.AskQuickReply
	case models.AppInstagram, models.AppWhatsApp:
		return views.AskQuickReply
	}
	return ""
}

// threadRestock is the agent's "Notify me when it's back": ask the customer
// (the policy decides whether that may go now) or add them directly.
func (s *Server) threadRestock(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	if t.Kind != "direct" || t.DirectIdentityID == nil {
		s.notFound(w, r)
		return
	}
	p, err := s.store.Product(r.Context(), v.BusinessID, r.PostFormValue("sku"))
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	back := "/inbox/threads/" + views.Itoa(t.ID)
	notice, problem := "", ""
	if r.PostFormValue("mode") == "ask" {
		notice, problem, err = s.restockAskSend(r, v, t, p)
	} else {
		notice, err = s.restockAdd(r.Context(), v, t, p)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if problem != "" {
		s.sessions.Put(r.Context(), "flash_error", problem)
	} else {
		s.sessions.Put(r.Context(), "flash", notice)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// restockAdd puts the customer on the waitlist with a line in the thread.
func (s *Server) restockAdd(ctx context.Context, v *Viewer, t *models.Thread, p *models.Product) (string, error) {
	notice := "restock.added"
	err := s.store.InTx(ctx, func(tx *models.Store) error {
		_, created, err := tx.JoinWaitlist(ctx, models.Join{BusinessID: v.BusinessID, ProductID: p.ID, IdentityID: *t.DirectIdentityID,
			ThreadID: &t.ID, Source: "agent", CreatedBy: &v.User.ID})
		if err != nil || !created {
			notice = "restock.already"
			return err
		}
		n := models.RestockNote{Event: "waiting", Product: p.Name, SKU: p.SKU}
		return tx.AddRestockLine(ctx, v.BusinessID, t.ID, t.ChannelID, firstApp(t), n, "Waiting for "+p.Name, time.Now())
	})
	return notice, err
}

func firstApp(t *models.Thread) string {
	if len(t.Apps) > 0 {
		return t.Apps[0]
	}
	return ""
}

// restockAskSend sends "Notify me" with the payload restock:<SKU> through
// the outbox; problem is a catalogue key when the policy or the app refuses.
func (s *Server) restockAskSend(r *http.Request, v *Viewer, t *models.Thread, p *models.Product) (notice, problem string, err error) {
	if s.outbox == nil {
		return "", "restock.reason.channel_unauthorised", nil
	}
	ask, err := s.restockAsk(r.Context(), v.BusinessID, t)
	if err != nil {
		return "", "", err
	}
	lang, err := s.customerLanguage(r.Context(), v.BusinessID, t)
	if err != nil {
		return "", "", err
	}
	payload := inbound.RestockPrefix + p.SKU
	uid := v.User.ID
	req := jobs.SendRequest{BusinessID: v.BusinessID, ThreadID: t.ID, AuthorUserID: &uid}
	switch ask {
	case views.AskOTN:
		req.OTNRequest = &jobs.OTNRequest{Title: jobs.RestockOTNTitle(lang, p.Name), Payload: payload}
	case views.AskQuickReply:
		// The tap comes back as a quick-reply (or WhatsApp button) payload,
		// which inbound turns into the waitlist entry.
		req.Text = jobs.RestockText(lang, "ask", p.Name)
		req.QuickReplies = []string{jobs.RestockText(lang, "button")}
		req.ChoiceIDs = []string{payload}
	default:
		return "", "restock.reason.channel_unauthorised", nil
	}
	_, err = s.outbox.Send(r.Context(), req)
	var refused *jobs.RefusedError
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &refused):
		return "", "reason." + string(refused.Decision.Reason), nil
	case errors.As(err, &invalid):
		return "", "error.bad_input", nil
	case err != nil:
		return "", "", err
	}
	return "restock.asked", "", nil
}

// customerLanguage is the language the thread's customer is written to in
// (jobs.CustomerLanguage: profile locale, number's country, the business's).
func (s *Server) customerLanguage(ctx context.Context, businessID int64, t *models.Thread) (string, error) {
	biz, err := s.store.BusinessLocale(ctx, businessID)
	if err != nil || t.DirectIdentityID == nil {
		return jobs.CustomerLanguage(nil, biz), err
	}
	id, err := s.store.Identity(ctx, businessID, *t.DirectIdentityID)
	if err != nil {
		return "", err
	}
	return jobs.CustomerLanguage(id, biz), nil
}
