package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// composerFragment re-renders the composer (htmx asks when the policy changed).
func (s *Server) composerFragment(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	c, err := s.composerView(r.Context(), v.BusinessID, t)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Composer(c))
}

// composerSend hands the agent's reply to the outbox, which checks the
// policy first: a refusal comes back with its reason and nothing is queued.
func (s *Server) composerSend(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadThread(w, r, v)
	if !ok {
		return
	}
	if t.UnreadCount > 0 {
		// An agent who replies has read the thread: what arrived while it
		// was open no longer counts as unread, in their list or anyone's.
		if err := s.store.MarkThreadRead(r.Context(), v.BusinessID, t.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		t.UnreadCount = 0
	}
	if t.Origin == "relay" && s.opts.Groups != nil {
		s.groupSend(w, r, v, t) // groups.go: one leg per member
		return
	}
	c, err := s.composerView(r.Context(), v.BusinessID, t)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if s.outbox == nil {
		s.composerResult(w, r, t, http.StatusServiceUnavailable, c)
		return
	}
	req, problem := sendRequest(r, v, t)
	if problem != "" {
		c.Text, c.Error = r.PostFormValue("text"), views.T(r.Context(), problem)
		s.composerResult(w, r, t, http.StatusUnprocessableEntity, c)
		return
	}
	_, err = s.outbox.Send(r.Context(), req)
	var refused *jobs.RefusedError
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &refused):
		c.Text, c.Error = req.Text, views.T(r.Context(), "reason."+string(refused.Decision.Reason))
		c.Decisions = append([]views.DecisionView{decisionView(refused.Decision, c.Primary().Name)}, c.Decisions[min(1, len(c.Decisions)):]...)
		s.composerResult(w, r, t, http.StatusUnprocessableEntity, c)
		return
	case errors.As(err, &invalid):
		c.Text, c.Error = req.Text, invalid.Message
		s.composerResult(w, r, t, http.StatusUnprocessableEntity, c)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if !isHTMX(r) {
		s.sessions.Put(r.Context(), "flash", "composer.sent")
		http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
		return
	}
	c.Notice = "composer.sent"
	s.render(w, r, http.StatusOK, views.Composer(c)) // the message itself arrives over the websocket
}

// composerResult shows the composer with an error: the fragment for htmx,
// the whole thread page otherwise.
func (s *Server) composerResult(w http.ResponseWriter, r *http.Request, t *models.Thread, status int, c views.ComposerView) {
	if c.OfferTemplates() && c.Template == nil { // keep the chosen template and what was typed
		f, err := s.templateForm(r.Context(), viewerFrom(r.Context()).BusinessID, t, r.PostFormValue("template"), r.PostForm["var"])
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		c.Template = f
	}
	if isHTMX(r) {
		s.render(w, r, status, views.Composer(c))
		return
	}
	s.renderThreadPage(w, r, t, status, &c)
}

// sendRequest reads the composer form; problem is a catalogue key.
func sendRequest(r *http.Request, v *Viewer, t *models.Thread) (jobs.SendRequest, string) {
	uid := v.User.ID
	req := jobs.SendRequest{
		BusinessID: v.BusinessID, ThreadID: t.ID, AuthorUserID: &uid,
		Text:       strings.TrimSpace(r.PostFormValue("text")),
		HumanAgent: r.PostFormValue("human_agent") == "1",
		UseOTN:     r.PostFormValue("use_otn") == "1",
	}
	if tpl := r.PostFormValue("template"); tpl != "" {
		name, lang, _ := strings.Cut(tpl, "|")
		vars := r.PostForm["var"]
		for len(vars) > 0 && strings.TrimSpace(vars[len(vars)-1]) == "" {
			vars = vars[:len(vars)-1]
		}
		req.Template = &jobs.TemplateRequest{Name: name, Language: lang, Variables: vars}
	}
	if u := strings.TrimSpace(r.PostFormValue("attachment_url")); u != "" {
		if _, ok := views.SafeExternalURL(u); !ok || !strings.HasPrefix(u, "https://") {
			return req, "composer.bad_url"
		}
		kind := r.PostFormValue("attachment_kind")
		switch kind {
		case "image", "video", "audio", "file":
		default:
			kind = "file"
		}
		req.Attachments = []jobs.AttachmentRequest{{Kind: kind, URL: u}}
	}
	for _, q := range strings.Split(r.PostFormValue("quick_replies"), ",") {
		if q = strings.TrimSpace(q); q != "" && len(req.QuickReplies) < 13 {
			req.QuickReplies = append(req.QuickReplies, q)
		}
	}
	if r.PostFormValue("otn_request") == "1" {
		title := strings.TrimSpace(r.PostFormValue("otn_title"))
		if title == "" {
			title = t.Title
		}
		if rs := []rune(title); len(rs) > 65 {
			title = string(rs[:65])
		}
		req.OTNRequest = &jobs.OTNRequest{Title: title, Payload: "thread:" + views.Itoa(t.ID)}
	}
	if req.Text == "" && req.Template == nil && len(req.Attachments) == 0 && req.OTNRequest == nil {
		return req, "composer.empty"
	}
	return req, ""
}
