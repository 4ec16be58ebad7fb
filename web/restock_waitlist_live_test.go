package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// TestProductWaitlistLive: the product page's socket gets the waitlist
// section (out of band) when a customer signs up and when an alert's fate
// comes back from Meta, without a reload; another business's page hears
// nothing of it.
func TestProductWaitlistLive(t *testing.T) {
	e := newProductsEnv(t)
	startLive(t, e.uiEnv)
	e.json(t, e.tokenA, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu"}`)
	e.json(t, e.tokenB, "POST", "/api/v1/products", `{"sku":"GB-1","name":"Theirs"}`)
	ws, _, err := e.signIn(t, e.a.staff).dialWS("/products/GB-1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	other, _, err := e.signIn(t, e.b.staff).dialWS("/products/GB-1/live")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for !e.srv.restockLive.watched(e.a.biz.ID) || !e.srv.restockLive.watched(e.b.biz.ID) {
		time.Sleep(10 * time.Millisecond)
	}

	// A sign-up (here by the API; the chat's taps go through the same store call).
	if st, body := e.json(t, e.tokenA, "POST", "/api/v1/products/GB-1/waitlist", `{"identity_id":`+strconv.FormatInt(e.a.identity.ID, 10)+`}`); st != 201 {
		t.Fatalf("join: %d %v", st, body)
	}
	frame := readUntil(t, ws, `id="waitlist-section"`)
	if !strings.Contains(frame, `hx-swap-oob="true"`) || !strings.Contains(frame, "Customer of Alpha") || !strings.Contains(frame, `data-testid="waitlist-row"`) {
		t.Fatalf("sign-up frame %s", frame)
	}

	// The customer is notified (a run's outcome), then Meta says delivered.
	m, _ := notifiedWith(t, e, "GB-1", models.StatusSent)
	runs, err := e.store.ProductRuns(context.Background(), e.a.biz.ID, mustProduct(t, e, "GB-1").ID, 1)
	if err != nil || len(runs) != 1 {
		t.Fatal(runs, err)
	}
	// The run's progress event, as its batch sends it after recording the outcomes.
	if err := e.store.Notify(context.Background(), models.Event{Type: models.EventRestock, BusinessID: e.a.biz.ID, RunID: runs[0].ID}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "<td>Notified </td>")
	if _, err := e.store.AdvanceStatus(context.Background(), models.StatusUpdate{MessageID: m.ID, Status: models.StatusDelivered, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	frame = readUntil(t, ws, "Notified, delivered")
	if !strings.Contains(frame, `id="waitlist-section"`) {
		t.Fatalf("delivered frame %s", frame)
	}

	_ = other.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		_, b, err := other.ReadMessage()
		if err != nil {
			break
		}
		if strings.Contains(string(b), "waitlist-section") {
			t.Fatalf("another business's page got %s", b)
		}
	}
}
