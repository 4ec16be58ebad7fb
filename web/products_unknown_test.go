package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// notifiedWith records the product's open entry for the identity as notified
// by a run, its alert being an outbound message in the given state.
func notifiedWith(t *testing.T, e *productsEnv, sku string, status string) (*models.Message, int64) {
	t.Helper()
	ctx := context.Background()
	p := mustProduct(t, e, sku)
	entry, _, err := e.store.JoinWaitlist(ctx, models.Join{BusinessID: e.a.biz.ID, ProductID: p.ID, IdentityID: e.a.identity.ID, Source: "postback"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := e.srv.restock.SetStock(ctx, e.a.biz.ID, sku, 3, nil)
	if err != nil || ch.Run == nil {
		t.Fatalf("restock: %v %v", ch, err)
	}
	now := time.Now()
	if err := e.store.RecordCustomerEvent(ctx, e.a.identity.ID, "message", now.Add(-30*time.Minute)); err != nil {
		t.Fatal(err) // the customer wrote half an hour ago: the window is open
	}
	m := &models.Message{BusinessID: e.a.biz.ID, ThreadID: e.a.thread.ID, ChannelID: &e.a.channel.ID, Direction: models.DirectionOut,
		App: e.a.channel.App, Kind: "text", Text: "Good news: Giacca blu is back in stock!", SentAt: now, Status: status, StatusAt: now}
	err = e.store.InTx(ctx, func(tx *models.Store) error {
		if _, err := tx.AddMessage(ctx, m, nil); err != nil {
			return err
		}
		if es, err := tx.ClaimEntries(ctx, ch.Run, 10); err != nil || len(es) != 1 || es[0].ID != entry.ID {
			t.Fatalf("claimed %v %v", es, err)
		}
		return tx.RecordRestockOutcomes(ctx, ch.Run.ID, []models.EntryOutcome{{EntryID: entry.ID, Notified: true, MessageID: &m.ID}}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, entry.ID
}

// TestProductPageUnknownAlert: an alert whose send ended unknown is not shown
// as notified: the product page says its fate is unknown, the run counts it
// apart, and the "send again" there queues it once more through the outbox
// (which re-decides it); a delivered or read alert shows as such.
func TestProductPageUnknownAlert(t *testing.T) {
	e := newProductsEnv(t)
	pipe, err := jobs.New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.outbox = pipe.Outbox()
	e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu"}`)
	m, entryID := notifiedWith(t, e, "GB-1", models.StatusUnknown)
	staff := e.signIn(t, e.a.staff)

	res, body := staff.get("/products/GB-1")
	row := regexp.MustCompile(`(?s)<tr data-testid="waitlist-row">.*?</tr>`).FindString(body)
	if res.StatusCode != 200 || !strings.Contains(row, "fate unknown") || strings.Contains(row, ">Notified<") ||
		!strings.Contains(row, `data-testid="entry-send-again"`) {
		t.Fatalf("unknown alert's row: %d %s", res.StatusCode, row)
	}
	if !strings.Contains(body, `data-testid="run-unknown"`) || !strings.Contains(body, "0 notified · 0 skipped · 0 failed") {
		t.Fatalf("the run counts the unknown alert as notified: %s", regexp.MustCompile(`(?s)<table data-testid="runs">.*?</table>`).FindString(body))
	}
	// The API shows it too.
	if _, got := e.json(t, e.tokenA, "GET", "/api/v1/products/GB-1/waitlist", ``); !strings.Contains(mustJSON(t, got), `"status":"unknown"`) {
		t.Fatalf("API waitlist %v", got)
	}

	// Another business cannot send it again.
	beta := e.signIn(t, e.b.staff)
	if res := beta.post("/products/GB-1/waitlist/"+strconv.FormatInt(entryID, 10)+"/send-again", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another business's send again: %d", res.StatusCode)
	}
	if res := staff.post("/products/GB-1/waitlist/"+strconv.FormatInt(entryID, 10)+"/send-again", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send again: %d", res.StatusCode)
	}
	got, err := e.store.Message(context.Background(), e.a.biz.ID, m.ID)
	if err != nil || got.Status != models.StatusQueued {
		_, b := staff.get("/products/GB-1")
		t.Fatalf("after send again the alert is %v (%v), want queued: %s", got.Status, err, regexp.MustCompile(`(?s)role="status">.*?</p>`).FindString(b))
	}
	var jobs int
	if err := e.store.Gorm(context.Background()).Raw(`SELECT count(*) FROM river_job WHERE kind = 'outbound_send' AND args->'message_ids' @> ?::jsonb`,
		"["+strconv.FormatInt(m.ID, 10)+"]").Scan(&jobs).Error; err != nil || jobs != 1 {
		t.Fatalf("%d send jobs for the alert (%v), want 1", jobs, err)
	}
	res, body = staff.get("/products/GB-1")
	row = regexp.MustCompile(`(?s)<tr data-testid="waitlist-row">.*?</tr>`).FindString(body)
	if !strings.Contains(body, "The alert was sent again.") || strings.Contains(row, `entry-send-again`) || !strings.Contains(row, ">Notified") {
		t.Fatalf("after send again: %d %s", res.StatusCode, row)
	}
	// A second press does not send it twice: it is no longer unknown.
	staff.post("/products/GB-1/waitlist/"+strconv.FormatInt(entryID, 10)+"/send-again", url.Values{})
	if err := e.store.Gorm(context.Background()).Raw(`SELECT count(*) FROM river_job WHERE kind = 'outbound_send' AND args->'message_ids' @> ?::jsonb`,
		"["+strconv.FormatInt(m.ID, 10)+"]").Scan(&jobs).Error; err != nil || jobs != 1 {
		t.Fatalf("%d send jobs after a second press, want 1", jobs)
	}

	// Delivered and read alerts say so (read from the message).
	for _, st := range []string{models.StatusDelivered, models.StatusRead} {
		if err := e.store.Gorm(context.Background()).Exec(`UPDATE messages SET status = ? WHERE id = ?`, st, m.ID).Error; err != nil {
			t.Fatal(err)
		}
		_, body = staff.get("/products/GB-1")
		row = regexp.MustCompile(`(?s)<tr data-testid="waitlist-row">.*?</tr>`).FindString(body)
		if !strings.Contains(row, "Notified, "+st) {
			t.Fatalf("%s alert's row: %s", st, row)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
