package web

import (
	"context"
	"sort"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// messageContext gathers what rendering msgs needs: senders, authors,
// quoted messages, poll tallies, relay legs and native group receipts.
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
	var quoted, polls, templates []int64
	for _, m := range msgs {
		if m.ReplyToID != nil {
			quoted = append(quoted, *m.ReplyToID)
		}
		if m.Direction == "out" && m.Kind == "template" {
			templates = append(templates, m.ID)
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
	if mc.Campaigns, err = s.store.CampaignMarks(ctx, t.BusinessID, templates); err != nil { // replies sit under their campaign's message
		return mc, err
	}
	if t.Kind == "group" && t.Origin == "native" {
		var ours []int64
		for i := range msgs {
			if msgs[i].Direction == "out" {
				ours = append(ours, msgs[i].ID)
			}
		}
		if mc.Receipts, err = s.store.GroupReceipts(ctx, t.BusinessID, ours); err != nil {
			return mc, err
		}
	}
	if t.Origin == "relay" {
		ids := make([]int64, len(msgs))
		for i := range msgs {
			ids[i] = msgs[i].ID
		}
		if mc.Legs, err = s.store.RelayLegsFor(ctx, t.BusinessID, ids); err != nil {
			return mc, err
		}
	}
	return mc, nil
}

// threadView loads the open thread t (loaded with its labels): a page of
// messages with the notes of the same stretch of time, the contacts, and
// the composer. Messages, notes and contacts come in one round trip.
func (s *Server) threadView(ctx context.Context, v *Viewer, t *models.Thread, cursor string, b *businessBasics, back string) (*views.ThreadView, error) {
	rb := s.store.NewReadBatch()
	load := queueThreadView(rb, v.BusinessID, t.ID, cursor)
	if err := rb.Send(ctx); err != nil {
		return nil, err
	}
	return s.buildThreadView(ctx, load, v, t, b, back)
}

// threadViewLoad is what queueThreadView asked for, filled once its batch is sent.
type threadViewLoad struct {
	page     *models.MessagePage
	notes    *[]models.Note // nil on an older page: notes go with the latest
	contacts *[]*models.Contact
	restock  *models.RestockOptions   // the thread page's "Notify me when it's back" (queued by the page)
	canned   *[]models.CannedResponse // the composer's saved replies
}

// queueThreadView adds what the view of a thread reads to rb.
func queueThreadView(rb *models.ReadBatch, businessID, threadID int64, cursor string) threadViewLoad {
	load := threadViewLoad{page: rb.Messages(businessID, threadID, cursor, 50)}
	if cursor == "" {
		load.notes = rb.Notes(businessID, threadID)
	}
	load.contacts = rb.ThreadContacts(businessID, threadID)
	load.canned = rb.CannedResponses(businessID)
	return load
}

// buildThreadView shapes the loaded view and adds what depends on it (quoted
// messages, polls, the composer).
func (s *Server) buildThreadView(ctx context.Context, load threadViewLoad, v *Viewer, t *models.Thread, b *businessBasics, back string) (*views.ThreadView, error) {
	page := load.page
	mc, err := s.messageContext(ctx, t, page.Messages, b.names)
	if err != nil {
		return nil, err
	}
	tv := &views.ThreadView{Thread: t, Ctx: mc, Labels: b.labels, Members: b.members, Back: back, Contacts: *load.contacts}
	for i := range page.Messages {
		tv.Items = append(tv.Items, views.TimelineItem{Message: &page.Messages[i]})
	}
	if load.notes != nil {
		for i := range *load.notes {
			n := &(*load.notes)[i]
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
	if tv.Composer, err = s.composerViewWith(ctx, v.BusinessID, t, load.canned); err != nil {
		return nil, err
	}
	if err := s.relayView(ctx, t, tv); err != nil { // groups.go
		return nil, err
	}
	return tv, nil
}
