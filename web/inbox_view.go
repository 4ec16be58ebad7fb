package web

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// businessBasics is what every inbox page shows beside its main content.
// It is shared through the business cache: read it, never change it.
type businessBasics struct {
	members []views.Member
	names   map[int64]string
	labels  []models.Label
	alerts  []views.ChannelAlert
}

// basics returns the business's members, labels and channel alerts, from
// the hub's short-lived cache when fresh.
func (s *Server) basics(ctx context.Context, businessID int64) (*businessBasics, error) {
	return s.hub.cache.basics(businessID, func() (*businessBasics, error) { return s.loadBasics(ctx, businessID) })
}

func (s *Server) loadBasics(ctx context.Context, businessID int64) (*businessBasics, error) {
	ms, err := s.store.Members(ctx, businessID)
	if err != nil {
		return nil, err
	}
	b := &businessBasics{names: make(map[int64]string, len(ms))}
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = m.Email
		}
		b.names[m.ID] = name
		if m.Role != models.RoleStaff {
			b.members = append(b.members, views.Member{ID: m.ID, Name: name, Role: m.Role})
		}
	}
	if b.labels, err = s.store.Labels(ctx, businessID); err != nil {
		return nil, err
	}
	if b.alerts, err = s.channelAlerts(ctx, businessID); err != nil {
		return nil, err
	}
	// Shared slices: an append by a reader must copy, not write into them.
	b.members, b.labels, b.alerts = slices.Clip(b.members), slices.Clip(b.labels), slices.Clip(b.alerts)
	return b, nil
}

func (s *Server) channelAlerts(ctx context.Context, businessID int64) ([]views.ChannelAlert, error) {
	chs, err := s.store.Channels(ctx, businessID)
	if err != nil {
		return nil, err
	}
	var out []views.ChannelAlert
	for _, ch := range chs {
		if ch.State == models.ChannelNeedsReauth {
			out = append(out, views.ChannelAlert{Name: ch.Name, App: ch.App, Reason: ch.StateReason})
		}
	}
	return out, nil
}

// threadRow shapes a thread for the list; listQuery keeps the filter in the row's link.
func threadRow(t *models.Thread, names map[int64]string, currentID int64, listQuery string, at time.Time) views.ThreadRow {
	r := views.ThreadRow{
		ID: t.ID, Title: t.Title, Kind: t.Kind, Apps: t.Apps, Status: t.Status, Unread: t.UnreadCount,
		Preview: t.LastMessagePreview, PreviewOut: t.LastMessageDirection == models.DirectionOut,
		LastAt: t.LastMessageAt, Labels: t.Labels, Current: t.ID == currentID,
		Window: views.ApproxWindow(t.Apps, t.LastCustomerAt, at),
		Href:   withQuery("/inbox/threads/"+strconv.FormatInt(t.ID, 10), listQuery),
	}
	if r.Title == "" && len(t.Participants) > 0 {
		r.Title = t.Participants[0].DisplayName
	}
	if t.AssigneeID != nil {
		r.Assignee = names[*t.AssigneeID]
	}
	return r
}

// inboxList loads one page of the filtered list as rows.
func (s *Server) inboxList(ctx context.Context, v *Viewer, f views.ListFilter, b *businessBasics, currentID int64) ([]views.ThreadRow, string, error) {
	rb := s.store.NewReadBatch()
	page := rb.InboxThreads(v.BusinessID, storeFilter(f, v.User.ID))
	if err := rb.Send(ctx); err != nil {
		return nil, "", err
	}
	rows, older := listRows(page, f, b, currentID)
	return rows, older, nil
}

// listRows shapes a loaded page of the list filtered by f as rows, and the
// link to the next page.
func listRows(page *models.ThreadPage, f views.ListFilter, b *businessBasics, currentID int64) ([]views.ThreadRow, string) {
	q := f.Values(false).Encode()
	rows := make([]views.ThreadRow, len(page.Threads))
	at := now()
	for i := range page.Threads {
		rows[i] = threadRow(&page.Threads[i], b.names, currentID, q, at)
	}
	older := ""
	if page.NextCursor != "" {
		vals := f.Values(false)
		vals.Set("cursor", page.NextCursor)
		older = "/inbox?" + vals.Encode()
	}
	return rows, older
}

// wsURL is the socket address of a page: its filter and open thread, and
// since when the page is current, so a (re)connect can tell what it missed.
func wsURL(f views.ListFilter, threadID int64, closing bool, rendered time.Time) string {
	vals := f.Values(true)
	if threadID > 0 {
		vals.Set("thread", strconv.FormatInt(threadID, 10))
	}
	if closing {
		vals.Set("closing", "1")
	}
	vals.Set("since", strconv.FormatInt(rendered.UnixMilli(), 10))
	return "/ws?" + vals.Encode()
}

// listURL is where "back" goes from a thread opened with filter f.
func listURL(f views.ListFilter) string {
	return withQuery("/inbox", f.Values(true).Encode())
}
