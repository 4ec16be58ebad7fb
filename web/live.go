package web

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

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
	pushers := s.pushers(ctx)
	defer pushers.wait()
	return s.store.ListenInbox(ctx, func() {
		s.hub.setListening(time.Now())
		ready()
	}, func(payload string) error {
		evs, err := models.DecodeEvents(payload)
		if err != nil {
			s.log.Warn("live: bad event", "payload", payload)
			return nil
		}
		at := time.Now()
		for _, ev := range evs {
			if err := s.receive(ctx, ev, at, pushers); err != nil {
				return err
			}
		}
		return nil
	})
}

// receive handles one event of a notification: access, restock and
// waitlist events at once, the rest queued for their business's pusher.
func (s *Server) receive(ctx context.Context, ev models.Event, at time.Time, pushers *livePushers) error {
	if ev.BusinessID == 0 {
		s.log.Warn("live: event without a business", "type", ev.Type)
		return nil
	}
	switch ev.Type {
	case models.EventAccess: // nothing to render: forget cached roles, then end the sockets
		s.hub.cache.invalidate(ev.BusinessID)
		s.hub.revoke(ev.BusinessID, ev.UserID, ev.Session)
		return nil
	case models.EventRestock:
		s.publishRestock(ctx, ev) // product pages only, paced by the run
		return nil
	case models.EventWaitlist:
		s.publishWaitlist(ev.BusinessID, ev.ProductID) // product pages only, coalesced
		return nil
	case "status":
		s.publishAlertStatus(ev) // a restock alert's fate, for its product's page
	}
	s.hub.noteEvent(ev.BusinessID, at, !ev.Read)
	if ev.Type == "channel" {
		s.hub.cache.invalidate(ev.BusinessID) // a channel's state shows on every page
	}
	return pushers.add(ctx, liveEvent{ev, at})
}

// liveEvent is an event and when it arrived.
type liveEvent struct {
	models.Event
	at time.Time
}

// fanout renders once per distinct frame and sends the same prepared
// frame to every client that gets it; at is when the earliest event of
// the frames arrived.
type fanout struct {
	at     time.Time
	order  []string
	groups map[string][]*wsClient
	render map[string]func(ctx context.Context, buf *bytes.Buffer) error
	locale map[string]string
}

func newFanout(at time.Time) *fanout {
	return &fanout{at: at, groups: map[string][]*wsClient{}, render: map[string]func(context.Context, *bytes.Buffer) error{}, locale: map[string]string{}}
}

// add sends the frame render makes (in locale) to clients.
func (f *fanout) add(key, locale string, clients []*wsClient, render func(ctx context.Context, buf *bytes.Buffer) error) {
	key = locale + "|" + key
	if _, ok := f.render[key]; !ok {
		f.render[key], f.locale[key] = render, locale
		f.order = append(f.order, key)
	}
	f.groups[key] = append(f.groups[key], clients...)
}

func (s *Server) send(ctx context.Context, f *fanout) error {
	var buf bytes.Buffer
	for _, key := range f.order {
		buf.Reset()
		if err := f.render[key](views.WithLocale(ctx, f.locale[key]), &buf); err != nil {
			return err
		}
		if buf.Len() == 0 {
			continue
		}
		if err := s.hub.deliver(buf.Bytes(), f.at, f.groups[key]); err != nil {
			return err
		}
	}
	return nil
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// burst is one business's events of a dispatch, with what they need
// loaded in one round trip.
type burst struct {
	events    []models.Event
	threads   map[int64]*models.Thread  // by id; another business's ids find nothing
	messages  map[int64]*models.Message // by id, only those of their event's thread
	notes     map[int64]*models.Note
	alerts    bool                          // a channel event: every socket's alert bar
	row       map[int64]int                 // thread id → its last event that changes its row
	top       map[int64]bool                // thread id → it got a message: lists showing new activity move it up
	policy    map[int64]bool                // thread id → its composer's policy may have changed
	details   map[int]*threadDetail         // by event index, for sockets with the thread open
	composers map[int64]*views.ComposerView // by thread id, where policy changed and a socket has it open
	closing   []views.ThreadRow             // the "reply before it closes" list, loaded when a socket shows it
	basics    *businessBasics
}

// audience is what decides a socket's frame: sockets alike get one.
type audience struct {
	view   clientView
	locale string
	admin  bool
}

// pushBusiness sends one business's events: each socket gets one frame
// with what changed for its page — the rows its list shows (once per
// thread, however many events it had), and with a thread open, each new
// message, note and tick (once per message, however many events it had),
// its header and policy. Sockets showing the same page in the same locale
// and role are one audience: their frame is worked out and rendered once.
// at is when the earliest of events arrived.
func (s *Server) pushBusiness(ctx context.Context, businessID int64, events []models.Event, clients []*wsClient, at time.Time) error {
	events, err := s.legEvents(ctx, businessID, events) // groups.go: a leg's tick refreshes its group message
	if err != nil {
		return err
	}
	b, err := s.loadBurst(ctx, businessID, events)
	if err != nil {
		return err
	}
	now := now()
	var alerts []views.ChannelAlert
	if b.alerts {
		if alerts, err = s.channelAlerts(ctx, businessID); err != nil {
			return err
		}
	}
	if len(b.row) > 0 && slices.ContainsFunc(clients, func(c *wsClient) bool { return c.view.closing }) {
		if b.closing, err = s.closingRows(ctx, businessID, b.basics, now); err != nil {
			return err
		}
	}
	var order []audience
	audiences := map[audience][]*wsClient{}
	for _, c := range clients {
		a := audience{view: c.view, locale: c.locale, admin: c.admin}
		if _, ok := audiences[a]; !ok {
			order = append(order, a)
		}
		audiences[a] = append(audiences[a], c)
	}
	// Each audience's frame is a list of pieces; audiences with the same
	// list share one render and one prepared frame.
	type piece struct {
		key    string
		render func(ctx context.Context, buf *bytes.Buffer) error
	}
	f := newFanout(at)
	rendered := map[string][]byte{}
	var pieces []piece
	var key strings.Builder
	for _, a := range order {
		view := a.view
		pieces = pieces[:0]
		if b.alerts {
			admin := a.admin
			pieces = append(pieces, piece{"alerts" + boolKey(admin), func(ctx context.Context, buf *bytes.Buffer) error {
				return views.ChannelAlertsOOB(alerts, admin).Render(ctx, buf)
			}})
		}
		if view.closing && len(b.row) > 0 {
			pieces = append(pieces, piece{"closing", func(ctx context.Context, buf *bytes.Buffer) error {
				return views.ThreadListOOB(b.closing, views.T(ctx, "list.label"), false).Render(ctx, buf)
			}})
		}
		q, qDone := "", false // the audience's list filter, as its rows link it
		for i, ev := range b.events {
			t := b.threads[ev.ThreadID]
			if t == nil {
				continue
			}
			if last, ok := b.row[t.ID]; ok && last == i && !view.closing {
				if !qDone {
					q, qDone = view.filter.Values(false).Encode(), true
				}
				action := rowAction(t, b.top[t.ID], view)
				row := threadRow(t, b.basics.names, view.threadID, q, now)
				pieces = append(pieces, piece{"row" + views.Itoa(t.ID) + "|" + action + "|" + q + "|" + boolKey(row.Current),
					func(ctx context.Context, buf *bytes.Buffer) error { return renderRow(ctx, buf, action, row) }})
			}
			if view.threadID == t.ID {
				if td := b.details[i]; td != nil {
					pieces = append(pieces, piece{"detail" + strconv.Itoa(i), func(ctx context.Context, buf *bytes.Buffer) error {
						return td.render(ctx, buf, b.basics.names)
					}})
				}
			}
		}
		if composer := b.composers[view.threadID]; composer != nil {
			pieces = append(pieces, piece{"policy", func(ctx context.Context, buf *bytes.Buffer) error {
				return views.PolicyBox(*composer).Render(ctx, buf)
			}})
		}
		if len(pieces) == 0 {
			continue
		}
		key.Reset()
		for _, p := range pieces {
			key.WriteString(p.key)
			key.WriteByte(0)
		}
		own := slices.Clone(pieces)
		f.add(key.String(), a.locale, audiences[a], func(ctx context.Context, buf *bytes.Buffer) error {
			for _, p := range own {
				// A piece shared by frames of several audiences is rendered once.
				k := views.Locale(ctx) + "|" + p.key
				if b, ok := rendered[k]; ok {
					buf.Write(b)
					continue
				}
				start := buf.Len()
				if err := p.render(ctx, buf); err != nil {
					return err
				}
				rendered[k] = bytes.Clone(buf.Bytes()[start:]) // buf is reused for the next frame
			}
			return nil
		})
	}
	return s.send(ctx, f)
}

// loadBurst loads the threads, messages and notes of a business's events
// and what sockets with a thread open need.
func (s *Server) loadBurst(ctx context.Context, businessID int64, events []models.Event) (*burst, error) {
	b := &burst{events: events, threads: map[int64]*models.Thread{}, messages: map[int64]*models.Message{},
		notes: map[int64]*models.Note{}, row: map[int64]int{}, top: map[int64]bool{}, policy: map[int64]bool{},
		details: map[int]*threadDetail{}, composers: map[int64]*views.ComposerView{}}
	var threadIDs, messageIDs []int64
	for _, ev := range events {
		switch ev.Type {
		case "channel":
			b.alerts = true
		case "message", "status":
			threadIDs = append(threadIDs, ev.ThreadID)
			messageIDs = append(messageIDs, ev.MessageID)
		case "thread", "assignment", "note":
			threadIDs = append(threadIDs, ev.ThreadID)
		}
	}
	var err error
	if b.basics, err = s.basics(ctx, businessID); err != nil {
		return nil, err
	}
	if len(threadIDs) == 0 {
		return b, nil
	}
	rb := s.store.NewReadBatch().ReusePlans() // ids vary in number: without it each push re-plans its reads
	slices.Sort(threadIDs)
	slices.Sort(messageIDs)
	threads := rb.ThreadsWithLabels(businessID, slices.Compact(threadIDs)) // scoped: another business's id finds nothing
	msgs := rb.MessagesByID(businessID, slices.Compact(messageIDs))
	if err := rb.Send(ctx); err != nil {
		return nil, err
	}
	for i := range *threads {
		t := &(*threads)[i]
		b.threads[t.ID] = t
	}
	for i := range *msgs {
		m := &(*msgs)[i]
		b.messages[m.ID] = m
	}
	for i, ev := range events {
		t := b.threads[ev.ThreadID]
		if t == nil {
			continue
		}
		msg := b.messages[ev.MessageID]
		if msg != nil && msg.ThreadID != t.ID {
			msg = nil
		}
		switch ev.Type {
		case "message":
			b.row[t.ID], b.top[t.ID] = i, b.top[t.ID] || msg != nil
			b.policy[t.ID] = b.policy[t.ID] || (msg != nil && msg.Direction == models.DirectionIn)
		case "thread", "assignment":
			b.row[t.ID], b.policy[t.ID] = i, true
		case "note":
			if b.notes[ev.MessageID], err = s.store.Note(ctx, businessID, ev.MessageID); err != nil {
				return nil, err
			}
		}
		// A status tick or a note changes nothing in a row: only open threads hear of them.
	}
	// What sockets with a thread open need, loaded once per event (and one
	// composer per thread) only when such a socket exists.
	open := s.hub.openThreads(businessID)
	shown := detailEvents(events)
	for i, ev := range events {
		t := b.threads[ev.ThreadID]
		if t == nil || !open[t.ID] || !shown[i] {
			continue
		}
		msg := b.messages[ev.MessageID]
		if msg != nil && msg.ThreadID != t.ID {
			msg = nil
		}
		if b.details[i], err = s.threadDetail(ctx, ev, t, msg, b.notes[ev.MessageID], b.basics); err != nil {
			return nil, err
		}
	}
	for threadID, changed := range b.policy {
		if !changed || !open[threadID] {
			continue
		}
		c, err := s.composerView(ctx, businessID, b.threads[threadID])
		if err != nil {
			return nil, err
		}
		c.OOB = true
		b.composers[threadID] = &c
	}
	return b, nil
}

// detailEvents picks, of a burst's events, those whose fragments an open
// thread shows: one per message (its arrival if the burst has it, since
// the message is loaded once, as it is now: later ticks add nothing),
// one per note and the last header change of each thread.
func detailEvents(events []models.Event) map[int]bool {
	type target struct {
		kind byte
		id   int64
	}
	pick := map[target]int{}
	for i, ev := range events {
		var k target
		switch ev.Type {
		case "message", "status":
			k = target{'m', ev.MessageID}
		case "note":
			k = target{'n', ev.MessageID}
		case "thread", "assignment":
			k = target{'h', ev.ThreadID}
		default:
			continue
		}
		if j, ok := pick[k]; ok && events[j].Type == "message" {
			continue // the arrival renders the message whole: it stays the one
		}
		pick[k] = i
	}
	out := make(map[int]bool, len(pick))
	for _, i := range pick {
		out[i] = true
	}
	return out
}

// rowAction says what a list with view does with thread t: remove it, move
// it to the top (it got a message and the list shows new activity first)
// or update it in place.
func rowAction(t *models.Thread, gotMessage bool, view clientView) string {
	switch {
	case !matches(t, view.tf):
		if view.filter.Q != "" {
			return "none" // a search result list is never pruned by us
		}
		return "delete"
	case gotMessage && view.inserts:
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

// threadDetail is what an event shows sockets with its thread open,
// loaded once for all of them.
type threadDetail struct {
	ev     models.Event
	msg    *models.Message
	note   *models.Note
	mc     views.MessageContext
	header views.ThreadView
}

func (s *Server) threadDetail(ctx context.Context, ev models.Event, t *models.Thread, msg *models.Message, note *models.Note, b *businessBasics) (*threadDetail, error) {
	td := &threadDetail{ev: ev, msg: msg, note: note}
	var err error
	if msg != nil {
		if td.mc, err = s.messageContext(ctx, t, []models.Message{*msg}, b.names); err != nil {
			return nil, err
		}
	}
	td.header = views.ThreadView{Thread: t, Labels: b.labels, Members: b.members, OOB: true}
	return td, nil
}

func (td *threadDetail) render(ctx context.Context, buf *bytes.Buffer, names map[int64]string) error {
	switch {
	case td.ev.Type == "message" && td.msg != nil:
		id := "msg-" + views.Itoa(td.msg.ID)
		if err := views.RemoveOOB(id).Render(ctx, buf); err != nil {
			return err
		}
		item := views.MessageItem(*td.msg, td.mc)
		return views.InsertOOB("beforeend", "messages").Render(templ.WithChildren(ctx, item), buf)
	case td.ev.Type == "status" && td.msg != nil:
		mc := td.mc
		mc.OOB = true
		return views.MessageItem(*td.msg, mc).Render(ctx, buf)
	case td.ev.Type == "note" && td.note != nil:
		author := ""
		if td.note.AuthorUserID != nil {
			author = names[*td.note.AuthorUserID]
		}
		if err := views.RemoveOOB("note-"+views.Itoa(td.note.ID)).Render(ctx, buf); err != nil {
			return err
		}
		return views.InsertOOB("beforeend", "messages").Render(templ.WithChildren(ctx, views.NoteItem(*td.note, author)), buf)
	case td.ev.Type == "thread" || td.ev.Type == "assignment":
		return views.ThreadHeader(td.header).Render(ctx, buf)
	}
	return nil
}

func (s *Server) closingRows(ctx context.Context, businessID int64, b *businessBasics, at time.Time) ([]views.ThreadRow, error) {
	ts, err := s.store.ClosingThreadsWithLabels(ctx, businessID, at, 100)
	if err != nil {
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
		if err := views.ThreadListOOB(rows, views.T(ctx, "list.label"), false).Render(ctx, &buf); err != nil {
			return err
		}
	case c.view.filter.Cursor == "":
		rows, _, err := s.inboxList(ctx, v, c.view.filter, b, c.view.threadID)
		if err != nil {
			return err
		}
		if err := views.ThreadListOOB(rows, views.T(ctx, "list.label"), true).Render(ctx, &buf); err != nil {
			return err
		}
	}
	if c.view.threadID != 0 {
		t, err := s.store.ThreadWithLabels(ctx, c.businessID, c.view.threadID)
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
	return s.hub.deliver(buf.Bytes(), time.Time{}, []*wsClient{c})
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
