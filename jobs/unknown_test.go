package jobs_test

import (
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters/metasim"
	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

// noWebhooks is Meta losing every echo and status of our sends.
func noWebhooks(c *metasim.Config) { c.DisableStatusWebhooks = true }

// A send that may have reached Meta, with no echo or status ever coming back,
// is never sent again on its own: it ends unknown, and the agent's "send
// again" sends it exactly once more.
func TestUnknownOutcomeIsNeverResent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool // the worker dies with the call in flight; else the call times out
	}{
		{"timeout after the request left", false},
		{"worker killed mid-send", true},
	} {
		for _, app := range models.Apps {
			t.Run(tc.name+"/"+app, func(t *testing.T) {
				e := newEnvWithSim(t, func(c *jobs.Config) {
					c.ReconcileAfter, c.SendTimeout, c.ClaimLease = 2*time.Second, time.Second, 500*time.Millisecond
				}, noWebhooks)
				c := e.customer(app, users[app], testNow.Add(-time.Hour))
				e.sim.DropNext(1, metasim.DropHang) // Meta accepts; its answer never comes
				m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "maybe sent"})
				if err != nil {
					t.Fatal(err)
				}
				e.waitFor("Meta to accept the send", func() bool { return e.sim.Stats().Dropped == 1 })
				if tc.crash {
					e.halt()
					e.start() // a new worker takes the job over
				}
				got := e.waitStatus(m.ID, models.StatusUnknown, models.StatusSent)
				e.jobsDone()
				if n := countText(e.sendsOf(c.account), "maybe sent"); n != 1 || got.Status != models.StatusUnknown {
					t.Fatalf("status %s after Meta received it %d times; want unknown after once", got.Status, n)
				}
				code, body := e.get(threadPath(c, "/messages"))
				if msgs, _ := body["messages"].([]any); code != 200 || len(msgs) != 1 || msgs[0].(map[string]any)["status"] != "unknown" {
					t.Fatalf("API: %d %v", code, body)
				}

				// The agent sends it again: once.
				if _, err := e.pipe.Outbox().Retry(e.ctx, e.biz.ID, m.ID); err != nil {
					t.Fatal(err)
				}
				e.waitStatus(m.ID, models.StatusSent)
				e.jobsDone()
				if n := countText(e.sendsOf(c.account), "maybe sent"); n != 2 {
					t.Fatalf("Meta received it %d times after one send again, want 2", n)
				}
			})
		}
	}
}

// A worker that dies after claiming a send but before its Graph call leaves a
// claim nobody releases and a River job stuck "running": another worker
// sends it once its claim lease passes, without waiting for River's rescue.
func TestOrphanedClaimIsTakenOverBeforeRescue(t *testing.T) {
	e := newEnv(t, func(c *jobs.Config) {
		c.RescueStuckJobsAfter = time.Hour // River's rescue never comes in this test
		c.ClaimLease, c.OrphanScan = time.Second, 100*time.Millisecond
	})
	c := e.customer(models.AppMessenger, users[models.AppMessenger], testNow.Add(-time.Hour))
	e.halt()
	m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "orphaned"})
	if err != nil {
		t.Fatal(err)
	}
	// What kill -9 leaves behind: the job running on a dead worker, the message claimed.
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY['dead-worker'] WHERE kind = 'outbound_send'`).Error; err != nil {
		t.Fatal(err)
	}
	claim, err := e.store.ClaimOutbound(e.ctx, []int64{m.ID}, models.ClaimTimes{Lease: time.Minute, Reconcile: time.Minute, Now: testNow})
	if err != nil || len(claim.Claimed) != 1 {
		t.Fatalf("dead worker's claim: %+v %v", claim, err)
	}
	died := time.Now()
	e.start()
	e.waitStatus(m.ID, models.StatusSent, models.StatusDelivered, models.StatusRead)
	t.Logf("sent %v after its worker died (claim lease 1s, scan every 100ms)", time.Since(died).Round(10*time.Millisecond))
	if n := countText(e.sendsOf(c.account), "orphaned"); n != 1 {
		t.Fatalf("Meta received it %d times, want once", n)
	}
}

// kill -9 after the request left: nothing recorded, the job stuck "running".
// The send is never made again; past the window it is unknown.
func TestKilledAfterTheRequestLeftEndsUnknown(t *testing.T) {
	e := newEnvWithSim(t, func(c *jobs.Config) {
		c.RescueStuckJobsAfter = time.Hour // River's rescue never comes in this test
		c.ReconcileAfter, c.ClaimLease, c.OrphanScan = time.Second, 500*time.Millisecond, 100*time.Millisecond
	}, noWebhooks)
	c := e.customer(models.AppWhatsApp, users[models.AppWhatsApp], testNow.Add(-time.Hour))
	e.halt()
	m, err := e.pipe.Outbox().Send(e.ctx, jobs.SendRequest{BusinessID: e.biz.ID, ThreadID: c.thread.ID, Text: "left"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Gorm(e.ctx).Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY['dead-worker'] WHERE kind = 'outbound_send'`).Error; err != nil {
		t.Fatal(err)
	}
	claim, err := e.store.ClaimOutbound(e.ctx, []int64{m.ID}, models.ClaimTimes{Lease: time.Minute, Reconcile: time.Minute, Now: testNow})
	if err != nil || len(claim.Claimed) != 1 {
		t.Fatalf("dead worker's claim: %+v %v", claim, err)
	}
	if _, err := e.store.MarkLeaving(e.ctx, []models.LeavingClaim{{MessageID: m.ID, ClaimedAt: claim.Claimed[0].ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitStatus(m.ID, models.StatusUnknown, models.StatusSent)
	if n := len(e.sim.Received()); n != 0 || e.message(m.ID).Status != models.StatusUnknown {
		t.Fatalf("status %s, Meta received %d requests from the new worker; want unknown and none", e.message(m.ID).Status, n)
	}
}
