package jobs_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// users are each app's customer ids in these tests.
var users = map[string]string{models.AppMessenger: "24680135792468", models.AppInstagram: "17841400123456789",
	models.AppWhatsApp: "393471234567"}

func threadPath(c *customer, tail string) string {
	return "/api/v1/threads/" + strconv.FormatInt(c.thread.ID, 10) + tail
}

func TestReplyInsideWindowIsSentAndStatusesArrive(t *testing.T) {
	for _, app := range models.Apps {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.customer(app, users[app], testNow.Add(-time.Hour))

			code, body := e.get(threadPath(c, "/policy"))
			ds, _ := body["decisions"].([]any)
			if code != http.StatusOK || len(ds) != 1 || ds[0].(map[string]any)["allowed"] != true {
				t.Fatalf("policy: %d %v", code, body)
			}
			code, body = e.post(threadPath(c, "/messages"), map[string]any{"text": "Yes, the red one is back!"})
			if code != http.StatusCreated || body["status"] != models.StatusQueued {
				t.Fatalf("send: %d %v", code, body)
			}
			id := idOf(t, body)
			m := e.waitStatus(id, models.StatusRead)
			if m.ExternalID == nil || *m.ExternalID == "" {
				t.Fatalf("read without a provider id: %+v", m)
			}
			sends := e.sendsOf(c.account)
			if len(sends) != 1 || sends[0].Text != "Yes, the red one is back!" || sends[0].MessageID != *m.ExternalID {
				t.Fatalf("Meta received %+v, want the one reply as %s", sends, *m.ExternalID)
			}
			if app != models.AppWhatsApp && sends[0].MessagingType != "RESPONSE" {
				t.Fatalf("messaging_type %q, want RESPONSE", sends[0].MessagingType)
			}
			var statuses []string
			e.store.Gorm(e.ctx).Raw(`SELECT status FROM message_statuses WHERE message_id = ? ORDER BY message_status_rank(status)`, id).
				Scan(&statuses)
			want := "[sent delivered read]"
			if app == models.AppInstagram {
				want = "[sent read]" // Instagram reports "seen" only
			}
			if fmt.Sprint(statuses) != want {
				t.Fatalf("statuses %v, want %s", statuses, want)
			}
			var copies int64
			e.store.Gorm(e.ctx).Model(&models.Message{}).Where("thread_id = ? AND direction = 'out'", c.thread.ID).Count(&copies)
			if copies != 1 {
				t.Fatalf("%d outbound messages in the thread; the echo must not add one", copies)
			}
		})
	}
}

func TestOutsideWindowIsRefusedAndNothingReachesMeta(t *testing.T) {
	want := map[string]string{models.AppMessenger: "window_closed", models.AppInstagram: "window_closed",
		models.AppWhatsApp: "template_required"} // WhatsApp's closed window leaves templates open
	for _, app := range models.Apps {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.customer(app, users[app], testNow.Add(-25*time.Hour))
			code, body := e.post(threadPath(c, "/messages"), map[string]any{"text": "Still there?"})
			if code != http.StatusUnprocessableEntity || errorCode(body) != want[app] {
				t.Fatalf("send: %d %v, want 422 %s", code, body, want[app])
			}
			if msg := body["error"].(map[string]any)["message"]; msg == "" {
				t.Fatal("422 without an explanation")
			}
			var n int64
			e.store.Gorm(e.ctx).Model(&models.Message{}).Where("thread_id = ?", c.thread.ID).Count(&n)
			if n != 0 || len(e.sim.Received()) != 0 {
				t.Fatalf("refused send left %d messages and reached Meta %d times", n, len(e.sim.Received()))
			}
		})
	}
}

func TestHumanAgentTagUntilDaySeven(t *testing.T) {
	for _, app := range []string{models.AppMessenger, models.AppInstagram} {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, nil)
			day6 := e.customer(app, users[app], testNow.Add(-6*24*time.Hour))
			day8 := e.customer(app, users[app]+"8", testNow.Add(-8*24*time.Hour))

			code, body := e.post(threadPath(day6, "/messages"), map[string]any{"text": "Sorry for the wait!", "human_agent": true})
			if code != http.StatusCreated || body["tag"] != "HUMAN_AGENT" || body["messaging_type"] != "MESSAGE_TAG" {
				t.Fatalf("day 6: %d %v", code, body)
			}
			e.waitStatus(idOf(t, body), models.StatusSent, models.StatusDelivered, models.StatusRead)
			sends := e.sendsOf(day6.account)
			if len(sends) != 1 || sends[0].Tag != "HUMAN_AGENT" || sends[0].MessagingType != "MESSAGE_TAG" {
				t.Fatalf("Meta received %+v", sends)
			}

			code, body = e.post(threadPath(day8, "/messages"), map[string]any{"text": "Sorry for the wait!", "human_agent": true})
			if code != http.StatusUnprocessableEntity || errorCode(body) != "human_agent_expired" {
				t.Fatalf("day 8: %d %v", code, body)
			}
			if n := len(e.sendsOf(day8.account)); n != 1 {
				t.Fatalf("Meta received %d sends, want only day 6's", n)
			}
			// An automated send never gets HUMAN_AGENT, even on day 6.
			code, body = e.post(threadPath(day6, "/messages"), map[string]any{"text": "Beep", "human_agent": true, "automated": true})
			if code != http.StatusUnprocessableEntity || errorCode(body) != "human_agent_automated" {
				t.Fatalf("automated human_agent: %d %v", code, body)
			}
		})
	}
}

func TestOTNTokenWorksOnce(t *testing.T) {
	e := newEnv(t, nil)
	c := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-3*24*time.Hour))
	created := testNow.Add(-2 * 24 * time.Hour)
	token, err := e.sim.IssueOTN(c.account, c.identity.ExternalID, created)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(e.ctx).Exec(`INSERT INTO otn_tokens (business_id, identity_id, topic, payload, token_enc, token_hash, created_at, expires_at)
		VALUES (?, ?, 'restock', 'sku-42', ?, ?, ?, ?)`, e.biz.ID, c.identity.ID, e.store.Cipher().Seal(token),
		models.HashToken(token), created, created.AddDate(1, 0, 0)).Error; err != nil {
		t.Fatal(err)
	}
	code, body := e.post(threadPath(c, "/messages"), map[string]any{"text": "The red one is back in stock!", "use_otn": true})
	if code != http.StatusCreated {
		t.Fatalf("first use: %d %v", code, body)
	}
	id := idOf(t, body)
	e.waitStatus(id, models.StatusSent, models.StatusDelivered, models.StatusRead)
	sends := e.sendsOf(c.account)
	if len(sends) != 1 || sends[0].Recipient != c.identity.ExternalID {
		t.Fatalf("Meta received %+v", sends)
	}
	if tok, _ := e.sim.OTN(token); tok.Used.IsZero() {
		t.Fatal("Meta did not see the token spent")
	}
	var used struct {
		UsedAt          *time.Time
		UsedByMessageID *int64
	}
	// The status webhook can beat the worker's own record of the send: wait (bounded) for the record.
	for i := 0; i < 200; i++ {
		e.store.Gorm(e.ctx).Raw(`SELECT used_at, used_by_message_id FROM otn_tokens WHERE identity_id = ?`, c.identity.ID).Scan(&used)
		if used.UsedAt != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if used.UsedAt == nil || used.UsedByMessageID == nil || *used.UsedByMessageID != id {
		t.Fatalf("token not recorded as used by message %d: %+v", id, used)
	}

	code, body = e.post(threadPath(c, "/messages"), map[string]any{"text": "And the blue one!", "use_otn": true})
	if code != http.StatusUnprocessableEntity || errorCode(body) != "otn_token_used" {
		t.Fatalf("second use: %d %v", code, body)
	}
	if n := len(e.sendsOf(c.account)); n != 1 {
		t.Fatalf("Meta received %d sends; the second use must be refused here", n)
	}
}

func TestAccountUpdateTagRetired(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		code int
		want string
	}{
		{"2026-03 still allowed", time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), http.StatusCreated, ""},
		{"2026-05 retired", time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC), http.StatusUnprocessableEntity, "tag_retired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.setClock(tc.at)
			c := e.customer(models.AppMessenger, users[models.AppMessenger], tc.at.Add(-3*24*time.Hour))
			code, body := e.post(threadPath(c, "/messages"),
				map[string]any{"text": "Your password was changed.", "tag": "ACCOUNT_UPDATE", "automated": true})
			if code != tc.code || errorCode(body) != tc.want {
				t.Fatalf("%d %v, want %d %q", code, body, tc.code, tc.want)
			}
			if tc.code != http.StatusCreated {
				if len(e.sim.Received()) != 0 {
					t.Fatal("a retired tag reached Meta")
				}
				return
			}
			e.waitStatus(idOf(t, body), models.StatusSent, models.StatusDelivered, models.StatusRead)
			if s := e.sendsOf(c.account); len(s) != 1 || s[0].Tag != "ACCOUNT_UPDATE" {
				t.Fatalf("Meta received %+v", s)
			}
		})
	}
}

// stormCode is each app's throughput refusal.
var stormCode = map[string]int{models.AppMessenger: 613, models.AppInstagram: 613, models.AppWhatsApp: 130429}

func TestRateLimitStormSendsEachMessageOnce(t *testing.T) {
	for _, app := range models.Apps {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, nil)
			const n = 12
			e.sim.FailNext(3*n, http.StatusTooManyRequests, stormCode[app])
			var ids []int64
			for i := range n {
				c := e.customer(app, fmt.Sprintf("%s%02d", users[app], i), testNow.Add(-time.Hour))
				m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID,
					Text: fmt.Sprintf("storm %d", i), AuthorUserID: nil})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, m.ID)
			}
			for _, id := range ids {
				e.waitStatus(id, models.StatusSent, models.StatusDelivered, models.StatusRead)
			}
			e.jobsDone()
			sends := e.sendsOf(accounts[app])
			for i := range n {
				if got := countText(sends, fmt.Sprintf("storm %d", i)); got != 1 {
					t.Fatalf("message %d reached Meta %d times", i, got)
				}
			}
			if st := e.sim.Stats(); st.Injected != 3*n {
				t.Fatalf("the storm injected %d refusals, want %d", st.Injected, 3*n)
			}
		})
	}
}

func TestLostAnswerIsReconciledNotResent(t *testing.T) {
	for _, app := range models.Apps {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.customer(app, users[app], testNow.Add(-time.Hour))
			e.sim.DropNext(1, metasim.DropReset) // Meta accepts, the connection dies before the answer
			m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "lost answer"})
			if err != nil {
				t.Fatal(err)
			}
			e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
			e.jobsDone()
			if got := countText(e.sendsOf(c.account), "lost answer"); got != 1 {
				t.Fatalf("Meta received the message %d times", got)
			}
		})
	}
}

func TestWorkerKilledMidSendDoesNotResend(t *testing.T) {
	for _, app := range models.Apps {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, func(c *jobs.Config) { c.ReconcileAfter = 500 * time.Millisecond })
			c := e.customer(app, users[app], testNow.Add(-time.Hour))
			e.sim.DropNext(1, metasim.DropHang) // Meta accepts and the call hangs until the worker dies
			m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "mid-send"})
			if err != nil {
				t.Fatal(err)
			}
			e.waitFor("Meta to accept the send", func() bool { return e.sim.Stats().Dropped == 1 })
			e.halt() // the worker dies with the call in flight

			// Meta's webhooks for the accepted send arrive while no worker runs.
			e.waitFor("the echo or status webhooks", func() bool {
				var n int64
				e.store.Gorm(e.ctx).Raw(`SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'out' AND external_id IS NOT NULL`,
					c.thread.ID).Scan(&n)
				return n > 0
			})
			e.start() // a new worker takes the job over
			e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
			e.jobsDone()
			if got := countText(e.sendsOf(c.account), "mid-send"); got != 1 {
				t.Fatalf("Meta received the message %d times", got)
			}
			var copies int64
			e.store.Gorm(e.ctx).Model(&models.Message{}).Where("thread_id = ? AND direction = 'out'", c.thread.ID).Count(&copies)
			if copies != 1 {
				t.Fatalf("%d outbound rows in the thread, want the one message", copies)
			}
		})
	}
}
