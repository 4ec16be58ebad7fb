package inbound_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// Reactions of a batch are applied as a set with the meaning they have one
// at a time: the last change per customer and message wins, a removal takes
// the reaction back, an older reaction changes nothing, and a reaction to a
// message we never held still opens the customer's window.
func TestReactionsOfABatchKeepTheirMeaning(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	out := e.outbound("wamid.OUT1")
	react := func(from, id string, ts int64, target, emoji string) string {
		return waEnvelope(fmt.Sprintf(`"contacts":[{"profile":{"name":"C %s"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%d","type":"reaction","reaction":{"message_id":"%s","emoji":"%s"}}]`,
			from, from, from, id, ts, target, emoji))
	}
	e.deliver(
		react("393330000001", "wamid.RA1", 1763700200, "wamid.OUT1", "👍"),
		react("393330000002", "wamid.RB1", 1763700201, "wamid.OUT1", "❤️"),
		react("393330000002", "wamid.RB2", 1763700202, "wamid.OUT1", ""),  // B takes it back
		react("393330000001", "wamid.RA2", 1763700203, "wamid.OUT1", "😂"), // A changes it
		react("393330000003", "wamid.RC1", 1763700204, "wamid.GONE", "👍"), // before we were connected
	)
	e.deliver(react("393330000001", "wamid.RA0", 1763700150, "wamid.OUT1", "😡")) // late and older: ignored
	type row struct {
		WaID  string
		Emoji string
	}
	var got []row
	if err := e.s.Gorm(e.ctx).Raw(`SELECT i.external_id AS wa_id, r.emoji FROM reactions r JOIN identities i ON i.id = r.identity_id
		WHERE r.message_id = ? ORDER BY i.external_id`, out.ID).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (row{"393330000001", "😂"}) {
		t.Fatalf("reactions on our message %+v, want only 393330000001's 😂", got)
	}
	var windows []string
	if err := e.s.Gorm(e.ctx).Raw(`SELECT i.external_id FROM identity_events ev JOIN identities i ON i.id = ev.identity_id
		WHERE ev.kind = 'reaction' ORDER BY 1`).Scan(&windows).Error; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(windows) != "[393330000001 393330000002 393330000003]" {
		t.Fatalf("reaction window facts for %v, want every reactor's", windows)
	}
}

// Receipts of a batch, applied as a set, move our sends as receipt() does:
// the mids a delivery names, every send up to a watermark, and on Instagram
// everything up to the one message a read names; never backwards.
func TestReceiptsOfABatchMoveOurSends(t *testing.T) {
	for _, app := range []string{"messenger", "instagram"} {
		t.Run(app, func(t *testing.T) {
			e := newEnv(t, app, "PAGE1")
			e.deliver(fmt.Sprintf(`{"object":"%s","entry":[{"id":"PAGE1","time":1763700000000,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},
"timestamp":1763700000000,"message":{"mid":"m_in","text":"hello"}}]}]}`, map[string]string{"messenger": "page", "instagram": "instagram"}[app]))
			in := e.message("m_in")
			sends := map[string]int64{}
			for i, mid := range []string{"m_1", "m_2", "m_3"} {
				ext := mid
				m := &models.Message{BusinessID: e.bizID, ThreadID: in.ThreadID, ChannelID: &e.ch.ID, Direction: "out", App: app,
					Kind: "text", Text: "reply", SentAt: time.UnixMilli(1763700001000 + int64(i)*1000), Status: "queued", ExternalID: &ext}
				if err := e.s.InTx(e.ctx, func(tx *models.Store) error { _, err := tx.AddMessage(e.ctx, m, nil); return err }); err != nil {
					t.Fatal(err)
				}
				if _, err := e.s.AdvanceStatus(e.ctx, models.StatusUpdate{MessageID: m.ID, Status: "sent", At: m.SentAt}); err != nil {
					t.Fatal(err)
				}
				sends[mid] = m.ID
			}
			object := map[string]string{"messenger": "page", "instagram": "instagram"}[app]
			item := func(ts int64, body string) string {
				return fmt.Sprintf(`{"object":"%s","entry":[{"id":"PAGE1","time":%d,"messaging":[{"sender":{"id":"PSID1"},"recipient":{"id":"PAGE1"},"timestamp":%d,%s}]}]}`,
					object, ts, ts, body)
			}
			if app == "messenger" {
				e.deliver(
					item(1763700010000, `"delivery":{"mids":["m_3"],"watermark":1763700001500}`), // m_1 by watermark, m_3 by mid
					item(1763700011000, `"read":{"watermark":1763700002500}`),                    // m_1 and m_2 read
					item(1763700012000, `"delivery":{"watermark":1763700009000}`),                // m_1, m_2 stay read
				)
				want := map[string]string{"m_1": "read", "m_2": "read", "m_3": "delivered"}
				for mid, st := range want {
					if got := e.message(mid).Status; got != st {
						t.Errorf("%s is %s, want %s", mid, got, st)
					}
				}
				return
			}
			e.deliver(item(1763700010000, `"read":{"mid":"m_2"}`)) // Instagram's seen: m_1 and m_2
			want := map[string]string{"m_1": "read", "m_2": "read", "m_3": "sent"}
			for mid, st := range want {
				if got := e.message(mid).Status; got != st {
					t.Errorf("%s is %s, want %s", mid, got, st)
				}
			}
		})
	}
}
