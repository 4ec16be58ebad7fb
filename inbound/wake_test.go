package inbound_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/inbound"
	"github.com/switchboard-inbox/switchboard/models"
)

// A payload another replica journals wakes this replica's processor through
// NOTIFY (nothing here polls): it is applied without any local wake.
func TestPayloadJournaledElsewhereIsAppliedWithoutPolling(t *testing.T) {
	e := newEnv(t, "whatsapp", "PN1")
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.proc.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, func() bool { // the listener is up (and its first wake spent on nothing)
		var n int64
		e.s.Gorm(e.ctx).Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&n)
		return n > 0
	})
	// Only the processor's own listener can learn of these rows: the other
	// replica's journal wakes nobody in this process.
	other := inbound.NewJournal(models.NewStore(e.s.DB, e.s.Cipher()), 1, nil)
	wg.Go(func() { _ = other.Run(ctx) })
	for i, wamid := range []string{"wamid.R1", "wamid.R2"} {
		if i == 1 {
			waitFor(t, func() bool { return e.count("external_id = 'wamid.R1'") == 1 })
		}
		body := waText("393331112222", wamid, 1763700000+int64(i), "from another replica")
		if err := other.Append(e.ctx, models.NewRawWebhook{App: "whatsapp", Body: []byte(body), Signer: models.WebhookSigner{App: true}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return e.count("external_id = 'wamid.R2'") == 1 })
}

// waitFor waits (bounded) until ok holds; it never asserts how long it took.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not applied: the processor was never woken")
		}
	}
}
