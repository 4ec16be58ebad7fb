package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestFastReadsMatchGorm checks that the pgx reads (outside a transaction)
// return exactly what the gorm reads (inside one) return.
func TestFastReadsMatchGorm(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	a := newFixture(t, s, "Fast", "messenger", "page-fast")
	other := newFixture(t, s, "Other", "whatsapp", "phone-other")
	base := time.Now().Add(-30 * time.Hour).Truncate(time.Microsecond)

	// Threads: direct ones with messages in and out, a group with three
	// members (one of whom left), labels, an assignee, statuses.
	var threads []*models.Thread
	threads = append(threads, a.thread)
	for i := 0; i < 7; i++ {
		c := &models.Contact{BusinessID: a.biz.ID, Name: fmt.Sprintf("Customer %d", i)}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		id := &models.Identity{BusinessID: a.biz.ID, ContactID: c.ID, ChannelID: a.channel.ID, App: "messenger",
			ExternalID: fmt.Sprintf("psid-%d", i), DisplayName: c.Name}
		if err := s.CreateIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		th, _, err := s.EnsureDirectThread(ctx, id, base.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th)
	}
	group, _, err := s.EnsureGroupThread(ctx, a.channel, "g-1", "", base)
	if err != nil {
		t.Fatal(err)
	}
	for i, th := range threads[1:4] {
		if err := s.AddParticipant(ctx, group.ID, *th.DirectIdentityID, "member", base.Add(time.Duration(3-i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	exec(`UPDATE thread_participants SET left_at = now() WHERE thread_id = $1 AND identity_id = $2`, group.ID, *threads[2].DirectIdentityID)
	threads = append(threads, group)
	// Same instant for two threads: the id breaks the tie.
	exec(`UPDATE threads SET last_message_at = $2 WHERE id = $1`, threads[3].ID, base.Add(5*time.Hour))
	exec(`UPDATE threads SET last_customer_at = last_message_at - interval '1 minute', unread_count = id % 3,
		apps = CASE WHEN id % 2 = 0 THEN '{messenger,whatsapp}'::text[] ELSE apps END WHERE business_id = $1`, a.biz.ID)
	exec(`UPDATE threads SET title = '' WHERE id = ANY($1)`, []int64{threads[5].ID, group.ID}) // named after a participant
	vip, _ := s.CreateLabel(ctx, a.biz.ID, "VIP")
	late, _ := s.CreateLabel(ctx, a.biz.ID, "Late")
	_ = s.SetThreadLabels(ctx, a.biz.ID, threads[1].ID, []int64{vip.ID, late.ID})
	_ = s.SetThreadLabels(ctx, a.biz.ID, group.ID, []int64{late.ID})
	agent, err := s.CreateUser(ctx, a.biz.ID, "fast@agent.test", "Agent", "x", "agent")
	if err != nil {
		t.Fatal(err)
	}
	assignee := &agent.ID
	pending := models.ThreadPending
	_ = s.UpdateThread(ctx, a.biz.ID, threads[2].ID, models.ThreadUpdate{AssigneeID: &assignee})
	_ = s.UpdateThread(ctx, a.biz.ID, threads[4].ID, models.ThreadUpdate{Status: &pending})

	// Messages of the first thread: parts, details, errors, edits.
	var msgs []*models.Message
	for i := 0; i < 9; i++ {
		dir, status := "in", "received"
		if i%3 == 1 {
			dir, status = "out", "failed"
		}
		m, _ := addMessage(t, s, a, fmt.Sprintf("m-%d", i), dir, status, base.Add(time.Duration(i/2)*time.Minute))
		msgs = append(msgs, m)
	}
	exec(`UPDATE messages SET details = '{"location": {"latitude": 45.1, "longitude": 9.2}}', error_code = 131047,
		error_title = 'Re-engagement message', deleted_at = now(), reply_to_id = $2 WHERE id = $1`, msgs[1].ID, msgs[0].ID)
	exec(`UPDATE messages SET edited_at = now(), edit_count = 2, text = 'searchable needle' WHERE id = $1`, msgs[2].ID)
	exec(`INSERT INTO attachments (message_id, kind, url, cached_url, cached_at) VALUES ($1, 'file', 'https://x/f', 'https://c/f', now())`, msgs[3].ID)
	exec(`INSERT INTO reactions (message_id, identity_id, emoji, reacted_at) VALUES ($1, $2, '❤️', now())`, msgs[3].ID, a.identity.ID)
	exec(`INSERT INTO reactions (message_id, user_id, emoji, reacted_at) VALUES ($1, $2, '👍', now() - interval '1 minute')`, msgs[3].ID, agent.ID)

	same := func(name string, fast, ref any, fastErr, refErr error) {
		t.Helper()
		if fastErr != nil || refErr != nil {
			t.Fatalf("%s: fast err %v, gorm err %v", name, fastErr, refErr)
		}
		if !reflect.DeepEqual(fast, ref) {
			fj, _ := json.MarshalIndent(fast, "", " ")
			rj, _ := json.MarshalIndent(ref, "", " ")
			t.Errorf("%s differs:\nfast: %s\ngorm: %s", name, fj, rj)
		}
	}
	inTx := func(fn func(tx *models.Store) error) error {
		return s.InTx(ctx, fn)
	}

	filters := map[string]models.ThreadFilter{
		"all":        {},
		"open":       {Status: models.ThreadOpen},
		"pending":    {Status: models.ThreadPending},
		"app":        {App: "whatsapp"},
		"assignee":   {AssigneeID: agent.ID},
		"unassigned": {AssigneeID: -1},
		"label":      {LabelID: late.ID},
		"unread":     {Unread: true},
		"query":      {Query: "needle"},
		"title":      {Query: "customer"},
		"page":       {Limit: 3},
		"none":       {Status: models.ThreadClosed},
	}
	for name, f := range filters {
		for _, mode := range []string{"plain", "labels", "inbox"} {
			list := map[string]func(context.Context, int64, models.ThreadFilter) (*models.ThreadPage, error){
				"plain": s.ListThreads, "labels": s.ListThreadsWithLabels, "inbox": s.InboxThreads}[mode]
			cursor := ""
			for pageNo := 0; pageNo < 5; pageNo++ {
				f.Cursor = cursor
				fast, ferr := list(ctx, a.biz.ID, f)
				var ref *models.ThreadPage
				rerr := inTx(func(tx *models.Store) error {
					var err error
					switch mode {
					case "plain":
						ref, err = tx.ListThreads(ctx, a.biz.ID, f)
					case "labels":
						ref, err = tx.ListThreadsWithLabels(ctx, a.biz.ID, f)
					default:
						ref, err = tx.InboxThreads(ctx, a.biz.ID, f)
					}
					return err
				})
				same(fmt.Sprintf("ListThreads %s %s page %d", name, mode, pageNo), fast, ref, ferr, rerr)
				if fast == nil || fast.NextCursor == "" {
					break
				}
				cursor = fast.NextCursor
			}
		}
	}
	if _, err := s.ListThreads(ctx, a.biz.ID, models.ThreadFilter{Cursor: "bad"}); err == nil {
		t.Error("a bad cursor was accepted")
	}

	for _, th := range append(threads, other.thread) {
		fast, ferr := s.Thread(ctx, a.biz.ID, th.ID)
		var ref *models.Thread
		rerr := inTx(func(tx *models.Store) (err error) { ref, err = tx.Thread(ctx, a.biz.ID, th.ID); return })
		same(fmt.Sprintf("Thread %d", th.ID), fast, ref, ferr, rerr)
		fast, ferr = s.ThreadWithLabels(ctx, a.biz.ID, th.ID)
		rerr = inTx(func(tx *models.Store) (err error) { ref, err = tx.ThreadWithLabels(ctx, a.biz.ID, th.ID); return })
		same(fmt.Sprintf("ThreadWithLabels %d", th.ID), fast, ref, ferr, rerr)
	}

	now := base.Add(20 * time.Hour)
	fastC, ferr := s.ClosingThreads(ctx, a.biz.ID, now, 4)
	var refC []models.Thread
	rerr := inTx(func(tx *models.Store) (err error) { refC, err = tx.ClosingThreads(ctx, a.biz.ID, now, 4); return })
	same("ClosingThreads", fastC, refC, ferr, rerr)
	fastC, ferr = s.ClosingThreadsWithLabels(ctx, a.biz.ID, now, 0)
	rerr = inTx(func(tx *models.Store) (err error) {
		refC, err = tx.ClosingThreadsWithLabels(ctx, a.biz.ID, now, 0)
		return
	})
	same("ClosingThreadsWithLabels", fastC, refC, ferr, rerr)

	page, _ := s.ListThreads(ctx, a.biz.ID, models.ThreadFilter{})
	fastL := append([]models.Thread(nil), page.Threads...)
	refL := append([]models.Thread(nil), page.Threads...)
	ferr = s.LoadThreadLabels(ctx, a.biz.ID, fastL)
	rerr = inTx(func(tx *models.Store) error { return tx.LoadThreadLabels(ctx, a.biz.ID, refL) })
	same("LoadThreadLabels", fastL, refL, ferr, rerr)
	rerr = inTx(func(tx *models.Store) error { return tx.LoadThreadLabels(ctx, other.biz.ID, refL) })
	same("LoadThreadLabels of another business", func() error { return s.LoadThreadLabels(ctx, other.biz.ID, fastL) }() == nil, true, nil, rerr)
	same("another business sees no labels", fastL, refL, nil, nil)

	for _, limit := range []int{0, 2, 4} {
		cursor := ""
		for pageNo := 0; pageNo < 6; pageNo++ {
			fast, ferr := s.Messages(ctx, a.biz.ID, a.thread.ID, cursor, limit)
			var ref *models.MessagePage
			rerr := inTx(func(tx *models.Store) (err error) {
				ref, err = tx.Messages(ctx, a.biz.ID, a.thread.ID, cursor, limit)
				return
			})
			same(fmt.Sprintf("Messages limit %d page %d", limit, pageNo), fast, ref, ferr, rerr)
			if fast == nil || fast.NextCursor == "" {
				break
			}
			cursor = fast.NextCursor
		}
	}
	for _, th := range []int64{group.ID, other.thread.ID} {
		fast, ferr := s.Messages(ctx, a.biz.ID, th, "", 0)
		var ref *models.MessagePage
		rerr := inTx(func(tx *models.Store) (err error) { ref, err = tx.Messages(ctx, a.biz.ID, th, "", 0); return })
		same(fmt.Sprintf("Messages of empty thread %d", th), fast, ref, ferr, rerr)
	}
	// A second identity for the first contact, notes, and ids of missing or
	// another business's contacts.
	second := &models.Identity{BusinessID: a.biz.ID, ContactID: a.identity.ContactID, ChannelID: a.channel.ID,
		App: "messenger", ExternalID: "psid-second", DisplayName: "Second"}
	if err := s.CreateIdentity(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := s.AddParticipant(ctx, group.ID, second.ID, "member", base); err != nil { // joined first
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.AddNote(ctx, a.biz.ID, a.thread.ID, agent.ID, fmt.Sprintf("note %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE notes SET author_user_id = NULL WHERE id = (SELECT min(id) FROM notes)`)
	gt, err := s.Thread(ctx, a.biz.ID, group.ID)
	if err != nil || len(gt.Participants) != 3 {
		t.Fatalf("group: %v %v", gt, err)
	}
	batch := func(rb *models.ReadBatch) (*models.MessagePage, *[]models.Note, *[]models.Note, *[]*models.Contact, *[]*models.Contact, *models.ThreadPage) {
		return rb.Messages(a.biz.ID, a.thread.ID, "", 4), rb.Notes(a.biz.ID, a.thread.ID), rb.Notes(a.biz.ID, group.ID),
			rb.ThreadContacts(a.biz.ID, group.ID), rb.ThreadContacts(other.biz.ID, group.ID), rb.InboxThreads(a.biz.ID, models.ThreadFilter{Limit: 4})
	}
	rb := s.NewReadBatch()
	fm, fn, fe, fc, fz, fl := batch(rb)
	ferr = rb.Send(ctx)
	var rm *models.MessagePage
	var rn, re *[]models.Note
	var rc, rz *[]*models.Contact
	var rl *models.ThreadPage
	rerr = inTx(func(tx *models.Store) error {
		rb := tx.NewReadBatch()
		rm, rn, re, rc, rz, rl = batch(rb)
		return rb.Send(ctx)
	})
	same("ReadBatch inbox threads", fl, rl, ferr, rerr)
	if len(fl.Threads) != 4 || fl.NextCursor == "" {
		t.Errorf("batch inbox page: %d threads, cursor %q", len(fl.Threads), fl.NextCursor)
	}
	same("ReadBatch messages", fm, rm, ferr, rerr)
	same("ReadBatch notes", fn, rn, nil, nil)
	same("ReadBatch no notes", fe, re, nil, nil)
	same("ReadBatch contacts", fc, rc, nil, nil)
	same("ReadBatch no contacts", fz, rz, nil, nil)
	if len(*fn) != 3 || len(*fc) != 3 || (*fc)[0].ID != a.identity.ContactID || len((*fc)[0].Identities) != 2 || len(*fz) != 0 {
		t.Errorf("batch read %d notes, %d contacts", len(*fn), len(*fc))
	}
	for _, c := range *fc {
		ref, err := s.Contact(ctx, a.biz.ID, c.ID)
		same(fmt.Sprintf("Contact %d", c.ID), c, ref, nil, err)
	}
	threadIDs := []int64{group.ID, a.thread.ID, other.thread.ID, -1, threads[3].ID, a.thread.ID}
	messageIDs := []int64{msgs[3].ID, msgs[1].ID, -1, msgs[3].ID}
	rb = s.NewReadBatch()
	ft, fmsgs := rb.ThreadsWithLabels(a.biz.ID, threadIDs), rb.MessagesByID(a.biz.ID, messageIDs)
	ferr = rb.Send(ctx)
	var rt *[]models.Thread
	var rmsgs *[]models.Message
	rerr = inTx(func(tx *models.Store) error {
		rb := tx.NewReadBatch()
		rt, rmsgs = rb.ThreadsWithLabels(a.biz.ID, threadIDs), rb.MessagesByID(a.biz.ID, messageIDs)
		return rb.Send(ctx)
	})
	same("ReadBatch threads by id", ft, rt, ferr, rerr)
	same("ReadBatch messages by id", fmsgs, rmsgs, nil, nil)
	if len(*ft) != 3 || len(*fmsgs) != 2 {
		t.Errorf("batch read %d threads, %d messages by id", len(*ft), len(*fmsgs))
	}

	rb = s.NewReadBatch()
	rb.Notes(a.biz.ID, a.thread.ID)
	rb.Messages(a.biz.ID, a.thread.ID, "bad", 4)
	if err := rb.Send(ctx); !errors.Is(err, models.ErrBadCursor) {
		t.Errorf("a bad cursor in a batch: %v", err)
	}

	for _, b := range []int64{a.biz.ID, other.biz.ID} {
		if err := s.SaveCannedResponse(ctx, a.biz.ID, fmt.Sprintf("thanks%d", b%2), "Thank you!"); err != nil {
			t.Fatal(err)
		}
		fast, ferr := s.CannedResponses(ctx, b)
		var ref []models.CannedResponse
		rerr := inTx(func(tx *models.Store) (err error) { ref, err = tx.CannedResponses(ctx, b); return })
		same(fmt.Sprintf("CannedResponses of %d", b), fast, ref, ferr, rerr)
	}

	for _, m := range append(msgs, &models.Message{ID: -1}) {
		fast, ferr := s.Message(ctx, a.biz.ID, m.ID)
		var ref *models.Message
		rerr := inTx(func(tx *models.Store) (err error) { ref, err = tx.Message(ctx, a.biz.ID, m.ID); return })
		same(fmt.Sprintf("Message %d", m.ID), fast, ref, ferr, rerr)
		fast, ferr = s.Message(ctx, other.biz.ID, m.ID)
		same(fmt.Sprintf("Message %d of another business", m.ID), fast, (*models.Message)(nil), ferr, nil)
	}
}
