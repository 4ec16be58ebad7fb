package web

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// contactPage shows a contact's identities and finds others to merge with.
func (s *Server) contactPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	c, err := s.store.Contact(r.Context(), v.BusinessID, id)
	if err != nil || c == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	thread := formID(r.URL.Query().Get("thread"))
	if c.MergedIntoID != nil {
		http.Redirect(w, r, contactURL(*c.MergedIntoID, thread), http.StatusSeeOther)
		return
	}
	q := r.URL.Query().Get("q")
	cands, err := s.store.SearchContacts(r.Context(), v.BusinessID, q, c.ID, 20)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ContactPage(views.ContactView{
		Page: s.page(r, c.Name, "inbox"), Contact: c, Query: q, Candidates: cands, ThreadID: thread,
		Merged: r.URL.Query().Get("merged") == "1",
	}))
}

func contactURL(id, thread int64) string {
	u := "/contacts/" + views.Itoa(id)
	if thread > 0 {
		u += "?thread=" + views.Itoa(thread)
	}
	return u
}

// contactMerge merges another contact with this one; the older one stays.
func (s *Server) contactMerge(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	other := formID(r.PostFormValue("other"))
	if !ok || other == 0 {
		s.notFound(w, r)
		return
	}
	uid := v.User.ID
	kept, err := s.store.MergeContacts(r.Context(), v.BusinessID, &uid, id, other)
	switch {
	case errors.Is(err, models.ErrMergeSelf):
		s.badRequest(w, r)
	case err != nil || kept == nil:
		s.notFoundOrError(w, r, err)
	default:
		thread := formID(r.PostFormValue("thread"))
		sep := "?"
		if thread > 0 {
			sep = "&"
		}
		seeOther(w, r, contactURL(kept.ID, thread)+sep+"merged=1")
	}
}

// identityBlock blocks or unblocks one identity of a contact.
func (s *Server) identityBlock(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	ident, err := s.store.Identity(r.Context(), v.BusinessID, id)
	if err != nil || ident == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	blocked := r.PostFormValue("blocked") == "1"
	if err := s.store.SetBlocked(r.Context(), v.BusinessID, id, blocked); err != nil {
		s.serverError(w, r, err)
		return
	}
	uid := v.User.ID
	if err := s.store.Audit(r.Context(), v.BusinessID, &uid, map[bool]string{true: "identity.block", false: "identity.unblock"}[blocked],
		"identity", id, map[string]any{"blocked": ident.BlockedAt != nil}, map[string]any{"blocked": blocked}); err != nil {
		s.serverError(w, r, err)
		return
	}
	if t := formID(r.PostFormValue("thread")); t > 0 {
		seeOther(w, r, threadURL(t))
		return
	}
	seeOther(w, r, contactURL(ident.ContactID, 0))
}
