package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/views"
)

// Groups runs relay groups (implemented by jobs.Relay).
type Groups interface {
	CreateGroup(ctx context.Context, businessID int64, userID *int64, title string, identityIDs []int64) (*models.Thread, error)
	AddMember(ctx context.Context, businessID, groupID, identityID int64, userID *int64) error
	RemoveMember(ctx context.Context, businessID, groupID, identityID int64, userID *int64) error
	// Post is an agent's message in a group: one leg per member.
	Post(ctx context.Context, businessID, groupID int64, userID *int64, text string) (*models.Message, error)
	// Reach is, per member, whether a message can reach them now.
	Reach(ctx context.Context, businessID, groupID int64) ([]jobs.Reach, error)
}

// newGroupPage picks customers on any app for a new relay group, or (with
// ?group=) one more member for an existing one.
func (s *Server) newGroupPage(w http.ResponseWriter, r *http.Request) {
	s.renderNewGroup(w, r, http.StatusOK, "")
}

func (s *Server) renderNewGroup(w http.ResponseWriter, r *http.Request, status int, problem string) {
	v := viewerFrom(r.Context())
	q := strings.TrimSpace(r.FormValue("q"))
	ids, err := s.store.SearchIdentities(r.Context(), v.BusinessID, q, 50)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	nv := views.NewGroupView{Page: s.page(r, views.T(r.Context(), "group.new"), "groups"), Q: q,
		Title: r.PostFormValue("title"), Candidates: ids, Selected: map[int64]bool{}}
	nv.AddTo, _ = strconv.ParseInt(r.FormValue("group"), 10, 64)
	for _, id := range formIDs(r, "identity_id") {
		nv.Selected[id] = true
	}
	if problem != "" {
		nv.Error = views.T(r.Context(), problem)
	}
	s.render(w, r, status, views.NewGroup(nv))
}

// groupCreate opens the relay group and shows it.
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if s.opts.Groups == nil {
		s.notFound(w, r)
		return
	}
	uid := v.User.ID
	t, err := s.opts.Groups.CreateGroup(r.Context(), v.BusinessID, &uid, r.PostFormValue("title"), formIDs(r, "identity_id"))
	if key, ok := groupProblem(err); ok {
		s.renderNewGroup(w, r, http.StatusUnprocessableEntity, key)
		return
	}
	if err != nil {
		s.notFoundOrError(w, r, ignoreNotFound(err))
		return
	}
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
}

// memberAdd adds a customer to a relay group.
func (s *Server) memberAdd(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadGroup(w, r, v)
	if !ok {
		return
	}
	ids := formIDs(r, "identity_id")
	uid := v.User.ID
	for _, id := range ids {
		err := s.opts.Groups.AddMember(r.Context(), v.BusinessID, t.ID, id, &uid)
		if key, ok := groupProblem(err); ok {
			s.sessions.Put(r.Context(), "flash_error", key)
			break
		}
		if err != nil {
			s.notFoundOrError(w, r, ignoreNotFound(err))
			return
		}
	}
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
}

// memberRemove takes a customer out of a relay group (they are told).
func (s *Server) memberRemove(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	t, ok := s.loadGroup(w, r, v)
	if !ok {
		return
	}
	identityID, ok := pathID(r, "identity")
	if !ok {
		s.notFound(w, r)
		return
	}
	uid := v.User.ID
	if err := s.opts.Groups.RemoveMember(r.Context(), v.BusinessID, t.ID, identityID, &uid); err != nil {
		s.notFoundOrError(w, r, ignoreNotFound(err))
		return
	}
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
}

// groupSend is the composer of a relay group: the agent's message to all.
func (s *Server) groupSend(w http.ResponseWriter, r *http.Request, v *Viewer, t *models.Thread) {
	uid := v.User.ID
	_, err := s.opts.Groups.Post(r.Context(), v.BusinessID, t.ID, &uid, r.PostFormValue("text"))
	var invalid *jobs.InvalidError
	switch {
	case errors.As(err, &invalid):
		s.sessions.Put(r.Context(), "flash_error", "composer.empty")
	case err != nil:
		s.notFoundOrError(w, r, ignoreNotFound(err))
		return
	default:
		s.sessions.Put(r.Context(), "flash", "group.sent")
	}
	http.Redirect(w, r, "/inbox/threads/"+views.Itoa(t.ID), http.StatusSeeOther)
}

// loadGroup loads the path's relay group, answering 404 for anything else.
func (s *Server) loadGroup(w http.ResponseWriter, r *http.Request, v *Viewer) (*models.Thread, bool) {
	t, ok := s.loadThread(w, r, v)
	if ok && (t.Origin != "relay" || s.opts.Groups == nil) {
		s.notFound(w, r)
		return nil, false
	}
	return t, ok
}

// relayView adds a relay group's members and reach to its thread view, or a
// member's pointer to their group to their direct thread.
func (s *Server) relayView(ctx context.Context, t *models.Thread, tv *views.ThreadView) error {
	if s.opts.Groups == nil {
		return nil
	}
	if t.Origin != "relay" {
		if t.Kind != "direct" || len(t.Participants) == 0 {
			return nil
		}
		g, err := s.store.RelayGroupOf(ctx, t.Participants[0].IdentityID)
		tv.InGroup = g
		return err
	}
	reach, err := s.opts.Groups.Reach(ctx, t.BusinessID, t.ID)
	if err != nil {
		return err
	}
	tv.Group = &views.GroupView{ThreadID: t.ID}
	for _, rc := range reach {
		m := views.GroupMember{IdentityID: rc.Member.ID, Name: rc.Member.Name(), App: rc.Member.App,
			Reachable: rc.Relay.Allowed, Reason: string(rc.Relay.Reason), Until: rc.Relay.ExpiresAt}
		if !rc.Relay.Allowed && rc.Agent.Allowed && rc.Agent.Tag == policy.TagHumanAgent {
			m.AgentTag = string(rc.Agent.Tag)
		}
		tv.Group.Members = append(tv.Group.Members, m)
	}
	return nil
}

// groupProblem is the catalogue key of a relay group request a person can fix.
func groupProblem(err error) (string, bool) {
	switch {
	case errors.Is(err, models.ErrTooFewMembers):
		return "group.too_few", true
	case errors.Is(err, models.ErrInAnotherGroup):
		return "group.in_another", true
	}
	return "", false
}

// ignoreNotFound turns "missing" into nil so notFoundOrError answers 404.
func ignoreNotFound(err error) error {
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrNotRelayGroup) {
		return nil
	}
	return err
}

// formIDs reads repeated positive ids of a form field.
func formIDs(r *http.Request, name string) []int64 {
	_ = r.ParseForm()
	var ids []int64
	for _, raw := range r.Form[name] {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// legEvents adds, for a burst's status events, a status event of each group
// message whose leg changed, when that group is open on a socket (one query,
// none without open threads).
func (s *Server) legEvents(ctx context.Context, businessID int64, events []models.Event) ([]models.Event, error) {
	events = lastStatusOnly(s.paceTallies(businessID, events))
	if s.opts.Groups == nil {
		return events, nil
	}
	var legs []int64
	for _, ev := range events {
		// A poll's own message is never a leg (its legs are other
		// messages): its tally frames skip the lookup.
		if ev.Type == "status" && ev.MessageID != 0 && !s.tallies.isPoll(ev.MessageID) {
			legs = append(legs, ev.MessageID)
		}
	}
	open := s.hub.openThreads(businessID)
	if len(legs) == 0 || len(open) == 0 {
		return events, nil
	}
	threads := make([]int64, 0, len(open))
	for id := range open {
		threads = append(threads, id)
	}
	more, err := s.store.LegStatusEvents(ctx, businessID, legs, threads)
	return append(events, more...), err
}

// lastStatusOnly keeps one status event per message of a burst, the last: a
// status event re-renders the message as it is now, so earlier ones of the
// same message (a poll's votes, a leg's ticks) would render the same frame.
func lastStatusOnly(events []models.Event) []models.Event {
	last := map[int64]int{}
	for i, ev := range events {
		if ev.Type == "status" {
			last[ev.MessageID] = i
		}
	}
	if len(last) == 0 {
		return events
	}
	out := events[:0:0]
	for i, ev := range events {
		if ev.Type != "status" || last[ev.MessageID] == i {
			out = append(out, ev)
		}
	}
	return out
}
