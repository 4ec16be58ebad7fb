package web

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// RunLive listens for inbox events on one dedicated PostgreSQL connection
// and pushes them to this process's sockets until ctx ends. After a lost
// connection it reconnects with backoff and tells every socket to resync.
func (s *Server) RunLive(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	first := true
	for {
		err := s.listen(ctx, func() {
			if !first {
				s.resyncAll(ctx)
			}
			first, backoff = false, 100*time.Millisecond
		})
		s.hub.setListening(time.Time{})
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("live: listener lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Server) listen(ctx context.Context, ready func()) error {
	cfg := s.store.DB.Pool.Config().ConnConfig.Copy()
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{models.InboxChannel}.Sanitize()); err != nil {
		return err
	}
	s.hub.setListening(time.Now())
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev models.Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil || ev.BusinessID == 0 {
			s.log.Warn("live: bad event", "payload", n.Payload)
			continue
		}
		s.hub.noteEvent(ev.BusinessID, time.Now())
		s.dispatch(ctx, ev)
	}
}

// dispatch renders an event for the sockets of its business only; nothing
// is loaded when none is connected here.
func (s *Server) dispatch(ctx context.Context, ev models.Event) {
	clients := s.hub.business(ev.BusinessID)
	if len(clients) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var err error
	switch ev.Type {
	case "channel":
		err = s.pushAlerts(ctx, ev.BusinessID, clients)
	case "message", "status", "thread", "assignment", "note":
		err = s.pushThread(ctx, ev, clients)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("live: unable to push event", "type", ev.Type, "thread", ev.ThreadID, "error", err)
	}
}

// fanout renders once per distinct variant and sends the same prepared
// frame to every client of that variant.
type fanout struct {
	groups map[string][]*wsClient
	render map[string]func(ctx context.Context, buf *bytes.Buffer) error
	locale map[string]string
}

func newFanout() *fanout {
	return &fanout{groups: map[string][]*wsClient{}, render: map[string]func(context.Context, *bytes.Buffer) error{}, locale: map[string]string{}}
}

func (f *fanout) add(key string, c *wsClient, render func(ctx context.Context, buf *bytes.Buffer) error) {
	key = c.locale + "|" + key
	if _, ok := f.render[key]; !ok {
		f.render[key], f.locale[key] = render, c.locale
	}
	f.groups[key] = append(f.groups[key], c)
}

func (s *Server) send(ctx context.Context, f *fanout) error {
	var buf bytes.Buffer
	for key, clients := range f.groups {
		buf.Reset()
		if err := f.render[key](views.WithLocale(ctx, f.locale[key]), &buf); err != nil {
			return err
		}
		if buf.Len() == 0 {
			continue
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, buf.Bytes())
		if err != nil {
			return err
		}
		s.hub.deliver(pm, clients)
	}
	return nil
}

func (s *Server) pushAlerts(ctx context.Context, businessID int64, clients []*wsClient) error {
	alerts, err := s.channelAlerts(ctx, businessID)
	if err != nil {
		return err
	}
	f := newFanout()
	for _, c := range clients {
		admin := c.admin
		f.add(boolKey(admin), c, func(ctx context.Context, buf *bytes.Buffer) error {
			return views.ChannelAlertsOOB(alerts, admin).Render(ctx, buf)
		})
	}
	return s.send(ctx, f)
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// pushThread sends what changed about one thread: its row in each list
// that shows it, and to the sockets that have it open, the new message,
// note, ticks, header or policy.
func (s *Server) pushThread(ctx context.Context, ev models.Event, clients []*wsClient) error {
	t, err := s.store.Thread(ctx, ev.BusinessID, ev.ThreadID) // scoped: another business's id finds nothing
	if err != nil || t == nil {
		return err
	}
	ts := []models.Thread{*t}
	if err := s.store.LoadThreadLabels(ctx, ev.BusinessID, ts); err != nil {
		return err
	}
	t.Labels = ts[0].Labels
	b, err := s.basics(ctx, ev.BusinessID)
	if err != nil {
		return err
	}
	var msg *models.Message
	var note *models.Note
	switch ev.Type {
	case "message", "status":
		if msg, err = s.store.Message(ctx, ev.BusinessID, ev.MessageID); err != nil {
			return err
		}
		if msg != nil && msg.ThreadID != t.ID {
			msg = nil
		}
	case "note":
		if note, err = s.store.Note(ctx, ev.BusinessID, ev.MessageID); err != nil {
			return err
		}
	}
	var inThread []*wsClient
	for _, c := range clients {
		if c.view.threadID == t.ID {
			inThread = append(inThread, c)
		}
	}
	td, err := s.threadDetail(ctx, ev, t, msg, b, len(inThread) > 0)
	if err != nil {
		return err
	}
	var closing []views.ThreadRow
	f := newFanout()
	at := now()
	for _, c := range clients {
		c := c
		if c.view.closing {
			if closing == nil {
				if closing, err = s.closingRows(ctx, ev.BusinessID, b, at); err != nil {
					return err
				}
			}
			f.add("closing", c, func(ctx context.Context, buf *bytes.Buffer) error {
				return views.ThreadListOOB(closing, views.T(ctx, "list.label")).Render(ctx, buf)
			})
			continue
		}
		action := listAction(ev, t, msg, c.view)
		q := c.view.filter.Values(false).Encode()
		in := c.view.threadID == t.ID
		row := threadRow(t, b.names, c.view.threadID, q, at)
		key := action + "|" + q + "|" + boolKey(row.Current) + "|" + boolKey(in)
		f.add(key, c, func(ctx context.Context, buf *bytes.Buffer) error {
			if err := renderRow(ctx, buf, action, row); err != nil {
				return err
			}
			if in {
				return td.render(ctx, buf, note, b.names)
			}
			return nil
		})
	}
	return s.send(ctx, f)
}

// listAction says what a list with view does with thread t after ev.
func listAction(ev models.Event, t *models.Thread, msg *models.Message, view clientView) string {
	switch {
	case !matches(t, view.tf):
		if view.filter.Q != "" {
			return "none" // a search result list is never pruned by us
		}
		return "delete"
	case ev.Type == "message" && msg != nil && view.inserts:
		return "top"
	}
	return "update"
}

func renderRow(ctx context.Context, buf *bytes.Buffer, action string, row views.ThreadRow) error {
	id := "thread-row-" + views.Itoa(row.ID)
	switch action {
	case "delete":
		return views.RemoveOOB(id).Render(ctx, buf)
	case "top":
		if err := views.RemoveOOB(id).Render(ctx, buf); err != nil {
			return err
		}
		return views.InsertOOB("afterbegin", "thread-list").Render(templ.WithChildren(ctx, views.ThreadRowItem(row)), buf)
	case "update":
		row.OOB = "true"
		return views.ThreadRowItem(row).Render(ctx, buf)
	}
	return nil
}

// threadDetail is what sockets with the thread open receive, loaded once.
type threadDetail struct {
	ev       models.Event
	msg      *models.Message
	mc       views.MessageContext
	header   views.ThreadView
	composer *views.ComposerView
}

func (s *Server) threadDetail(ctx context.Context, ev models.Event, t *models.Thread, msg *models.Message, b *businessBasics, needed bool) (*threadDetail, error) {
	td := &threadDetail{ev: ev, msg: msg}
	if !needed {
		return td, nil
	}
	var err error
	if msg != nil {
		if td.mc, err = s.messageContext(ctx, t, []models.Message{*msg}, b.names); err != nil {
			return nil, err
		}
	}
	td.header = views.ThreadView{Thread: t, Labels: b.labels, Members: b.members, OOB: true}
	if ev.Type == "thread" || ev.Type == "assignment" || (msg != nil && msg.Direction == models.DirectionIn) {
		c, err := s.composerView(ctx, ev.BusinessID, t)
		if err != nil {
			return nil, err
		}
		c.OOB = true
		td.composer = &c
	}
	return td, nil
}

func (td *threadDetail) render(ctx context.Context, buf *bytes.Buffer, note *models.Note, names map[int64]string) error {
	switch {
	case td.ev.Type == "message" && td.msg != nil:
		id := "msg-" + views.Itoa(td.msg.ID)
		if err := views.RemoveOOB(id).Render(ctx, buf); err != nil {
			return err
		}
		item := views.MessageItem(*td.msg, td.mc)
		if err := views.InsertOOB("beforeend", "messages").Render(templ.WithChildren(ctx, item), buf); err != nil {
			return err
		}
	case td.ev.Type == "status" && td.msg != nil:
		mc := td.mc
		mc.OOB = true
		if err := views.MessageItem(*td.msg, mc).Render(ctx, buf); err != nil {
			return err
		}
	case td.ev.Type == "note" && note != nil:
		author := ""
		if note.AuthorUserID != nil {
			author = names[*note.AuthorUserID]
		}
		if err := views.RemoveOOB("note-"+views.Itoa(note.ID)).Render(ctx, buf); err != nil {
			return err
		}
		if err := views.InsertOOB("beforeend", "messages").Render(templ.WithChildren(ctx, views.NoteItem(*note, author)), buf); err != nil {
			return err
		}
	case td.ev.Type == "thread" || td.ev.Type == "assignment":
		if err := views.ThreadHeader(td.header).Render(ctx, buf); err != nil {
			return err
		}
	}
	if td.composer != nil {
		return views.PolicyBox(*td.composer).Render(ctx, buf)
	}
	return nil
}

func (s *Server) closingRows(ctx context.Context, businessID int64, b *businessBasics, at time.Time) ([]views.ThreadRow, error) {
	ts, err := s.store.ClosingThreads(ctx, businessID, at, 100)
	if err != nil {
		return nil, err
	}
	if err := s.store.LoadThreadLabels(ctx, businessID, ts); err != nil {
		return nil, err
	}
	rows := make([]views.ThreadRow, len(ts))
	for i := range ts {
		rows[i] = threadRow(&ts[i], b.names, 0, "", at)
		rows[i].Href = "/inbox/threads/" + views.Itoa(ts[i].ID)
	}
	return rows, nil
}

// resync sends one socket a fresh copy of everything its page shows.
func (s *Server) resync(ctx context.Context, c *wsClient) {
	if err := s.resyncClient(ctx, c); err != nil && ctx.Err() == nil {
		s.log.Error("live: resync failed", "error", err)
	}
}

func (s *Server) resyncClient(ctx context.Context, c *wsClient) error {
	ctx = views.WithLocale(ctx, c.locale)
	b, err := s.basics(ctx, c.businessID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := views.ChannelAlertsOOB(b.alerts, c.admin).Render(ctx, &buf); err != nil {
		return err
	}
	v := &Viewer{User: &models.User{ID: c.userID, Locale: c.locale}, BusinessID: c.businessID}
	switch {
	case c.view.closing:
		rows, err := s.closingRows(ctx, c.businessID, b, now())
		if err != nil {
			return err
		}
		if err := views.ThreadListOOB(rows, views.T(ctx, "list.label")).Render(ctx, &buf); err != nil {
			return err
		}
	case c.view.filter.Cursor == "":
		rows, _, err := s.inboxList(ctx, v, c.view.filter, b, c.view.threadID)
		if err != nil {
			return err
		}
		if err := views.ThreadListOOB(rows, views.T(ctx, "list.label")).Render(ctx, &buf); err != nil {
			return err
		}
	}
	if c.view.threadID != 0 {
		t, err := s.store.Thread(ctx, c.businessID, c.view.threadID)
		if err != nil {
			return err
		}
		if t != nil {
			tv, err := s.threadView(ctx, v, t, "", b, "")
			if err != nil {
				return err
			}
			tv.OOB, tv.Composer.OOB = true, true
			if err := views.MessageList(*tv, true).Render(ctx, &buf); err != nil {
				return err
			}
			if err := views.ThreadHeader(*tv).Render(ctx, &buf); err != nil {
				return err
			}
			if err := views.PolicyBox(tv.Composer).Render(ctx, &buf); err != nil {
				return err
			}
		}
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, buf.Bytes())
	if err != nil {
		return err
	}
	s.hub.deliver(pm, []*wsClient{c})
	return nil
}

// resyncAll refreshes every socket after the listener missed events.
func (s *Server) resyncAll(ctx context.Context) {
	for _, c := range s.hub.all() {
		if ctx.Err() != nil {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s.resync(rctx, c)
		cancel()
	}
}
