package web

import (
	"context"
	"sort"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// messageContext gathers what rendering msgs needs: senders, authors,
// quoted messages and poll tallies.
func (s *Server) messageContext(ctx context.Context, t *models.Thread, msgs []models.Message, names map[int64]string) (views.MessageContext, error) {
	mc := views.MessageContext{
		Participants: make(map[int64]models.Participant, len(t.Participants)),
		Authors:      names,
		Group:        t.Kind == "group" || len(t.Participants) > 1,
		CanRetry:     s.outbox != nil,
	}
	for _, p := range t.Participants {
		mc.Participants[p.IdentityID] = p
	}
	var quoted, polls []int64
	for _, m := range msgs {
		if m.ReplyToID != nil {
			quoted = append(quoted, *m.ReplyToID)
		}
		if m.Kind == "poll" {
			polls = append(polls, m.ID)
		}
	}
	var err error
	if mc.Quoted, err = s.store.QuotedMessages(ctx, t.BusinessID, quoted); err != nil {
		return mc, err
	}
	if mc.Polls, err = s.store.PollsForMessages(ctx, t.BusinessID, polls); err != nil {
		return mc, err
	}
	return mc, nil
}

// threadView loads the open thread: a page of messages with the notes of
// the same stretch of time, the contacts, and the composer.
func (s *Server) threadView(ctx context.Context, v *Viewer, t *models.Thread, cursor string, b *businessBasics, back string) (*views.ThreadView, error) {
	page, err := s.store.Messages(ctx, v.BusinessID, t.ID, cursor, 50)
	if err != nil {
		return nil, err
	}
	ts := []models.Thread{*t}
	if err := s.store.LoadThreadLabels(ctx, v.BusinessID, ts); err != nil {
		return nil, err
	}
	t.Labels = ts[0].Labels
	mc, err := s.messageContext(ctx, t, page.Messages, b.names)
	if err != nil {
		return nil, err
	}
	tv := &views.ThreadView{Thread: t, Ctx: mc, Labels: b.labels, Members: b.members, Back: back}
	for i := range page.Messages {
		tv.Items = append(tv.Items, views.TimelineItem{Message: &page.Messages[i]})
	}
	if cursor == "" {
		notes, err := s.store.Notes(ctx, v.BusinessID, t.ID)
		if err != nil {
			return nil, err
		}
		for i := range notes {
			n := &notes[i]
			if page.NextCursor != "" && len(page.Messages) > 0 && n.CreatedAt.Before(page.Messages[0].SentAt) {
				continue // belongs to an older page
			}
			author := ""
			if n.AuthorUserID != nil {
				author = b.names[*n.AuthorUserID]
			}
			tv.Items = append(tv.Items, views.TimelineItem{Note: n, Author: author})
		}
		sort.SliceStable(tv.Items, func(i, j int) bool { return tv.Items[i].At().Before(tv.Items[j].At()) })
	}
	if page.NextCursor != "" {
		tv.OlderURL = "/inbox/threads/" + views.Itoa(t.ID) + "?cursor=" + page.NextCursor
	}
	if tv.Contacts, err = s.threadContacts(ctx, v.BusinessID, t); err != nil {
		return nil, err
	}
	if tv.Composer, err = s.composerView(ctx, v.BusinessID, t); err != nil {
		return nil, err
	}
	return tv, nil
}

// threadContacts loads the contacts behind a thread's participants (a few at most).
func (s *Server) threadContacts(ctx context.Context, businessID int64, t *models.Thread) ([]*models.Contact, error) {
	seen := map[int64]bool{}
	var out []*models.Contact
	for _, p := range t.Participants {
		if seen[p.ContactID] || len(out) >= 8 {
			continue
		}
		seen[p.ContactID] = true
		c, err := s.store.Contact(ctx, businessID, p.ContactID)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
