package jobs_test

import (
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// capRetryJobs lists the scheduled cap retries of an entry.
func (e *env) capRetryJobs(entryID int64) []struct {
	ScheduledAt time.Time
	State       string
} {
	e.t.Helper()
	var out []struct {
		ScheduledAt time.Time
		State       string
	}
	if err := e.store.Gorm(e.ctx).Raw(`SELECT scheduled_at, state FROM river_job WHERE kind = 'restock_cap_retry' AND (args->>'entry_id')::bigint = ?`,
		entryID).Scan(&out).Error; err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestRestockMarketingCapRetriedOnce: a WhatsApp restock template Meta holds
// back under its per-user marketing limit (131049, in a status webhook) is
// retried exactly once, by a River job scheduled 24 h after the failure;
// when it runs a day later the customer gets it. Caught a second time, the
// entry stays failed with Meta's reason and nothing is scheduled again.
func TestRestockMarketingCapRetriedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		capped int // how many of our sends Meta's cap catches
	}{
		{"delivered on the retry", 1},
		{"caught again", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.restockTemplate()
			c := e.customer(models.AppWhatsApp, "393470000011", testNow.Add(-30*time.Hour)) // window closed: a marketing template
			if err := e.sim.CapMarketing(c.account, "393470000011", tc.capped); err != nil {
				t.Fatal(err)
			}
			p := e.product("GB-1", "Giacca blu", 0)
			entry := e.join(c, p, 0)
			run := e.setStock("GB-1", 5).Run
			e.runDone(run.ID)
			w := e.entry(entry.ID)
			if w.MessageID == nil {
				t.Fatalf("entry %+v has no alert", w)
			}
			m := e.waitStatus(*w.MessageID, models.StatusFailed)
			if m.Error == nil || m.Error.Code != models.CodeMarketingCap {
				t.Fatalf("alert failed with %+v, want 131049", m.Error)
			}

			// The sweep schedules one retry, 24 h on; sweeping again adds none.
			before := time.Now()
			if _, err := e.pipe.Restocker().SweepCapped(e.ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := e.pipe.Restocker().SweepCapped(e.ctx); err != nil || n != 0 {
				t.Fatalf("second sweep scheduled %d (%v)", n, err)
			}
			queued := e.capRetryJobs(entry.ID)
			if len(queued) != 1 || queued[0].State != "scheduled" {
				t.Fatalf("cap retry jobs %+v, want one scheduled", queued)
			}
			if at := queued[0].ScheduledAt; at.Before(before.Add(23*time.Hour)) || at.After(time.Now().Add(24*time.Hour)) {
				t.Fatalf("retry scheduled at %s, want 24 h after the failure (%s)", at, before)
			}
			if got := len(e.alertsTo(c)); got != 1 {
				t.Fatalf("Meta got %d alerts before the retry, want 1", got)
			}
			shown, err := e.store.Waitlist(e.ctx, e.biz.ID, p.ID, 10)
			if err != nil || len(shown) != 1 || shown[0].CapRetry != "scheduled" || shown[0].CapRetryAt == nil ||
				!shown[0].CapRetryAt.Equal(e.message(*w.MessageID).StatusAt.Add(jobs.CapRetryAfter)) {
				t.Fatalf("entry as staff see it before the retry: %+v (%v), want its retry due 24 h after the failure", shown, err)
			}

			// A day passes (Meta's clock and ours; River's job comes due).
			e.setClock(testNow.Add(25 * time.Hour))
			if err := e.store.Gorm(e.ctx).Exec(`UPDATE river_job SET scheduled_at = now() WHERE kind = 'restock_cap_retry'`).Error; err != nil {
				t.Fatal(err)
			}
			e.waitFor("the cap retry to run", func() bool {
				j := e.capRetryJobs(entry.ID)
				return len(j) == 1 && j[0].State == "completed"
			})
			if tc.capped == 1 {
				e.waitStatus(*w.MessageID, models.StatusSent, models.StatusDelivered, models.StatusRead)
			} else {
				e.waitFor("the retry to fail again", func() bool {
					m := e.message(*w.MessageID)
					return m.Status == models.StatusFailed && len(e.alertsTo(c)) == 2
				})
			}
			e.jobsDone()
			if got := len(e.alertsTo(c)); got != 2 {
				t.Fatalf("Meta got %d alerts, want 2 (the first and its one retry)", got)
			}
			// However often the sweep runs, there is no third try.
			for range 2 {
				if n, err := e.pipe.Restocker().SweepCapped(e.ctx); err != nil || n != 0 {
					t.Fatalf("sweep after the retry scheduled %d (%v)", n, err)
				}
			}
			if queued := e.capRetryJobs(entry.ID); len(queued) != 1 {
				t.Fatalf("%d cap retry jobs, want 1", len(queued))
			}
			list, err := e.store.Waitlist(e.ctx, e.biz.ID, p.ID, 10)
			if err != nil || len(list) != 1 {
				t.Fatal(list, err)
			}
			want := map[int]string{1: models.WaitlistNotified, 2: models.WaitlistFailed}[tc.capped]
			if got := list[0]; got.CapRetry != "retried" || (got.Status != want && !(tc.capped == 1 && (got.Status == "delivered" || got.Status == "read"))) ||
				tc.capped == 2 && got.Reason != "131049" {
				t.Fatalf("entry as staff see it: %+v, want %s after one retry", got, want)
			}
		})
	}
}
