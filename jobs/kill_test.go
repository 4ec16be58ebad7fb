package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// killTuning shortens the periods so the test runs in seconds.
func killTuning(c *jobs.Config) {
	c.ReconcileAfter, c.ClaimLease, c.OrphanScan = 3*time.Second, 2*time.Second, 200*time.Millisecond
	c.SendTimeout, c.WaitBudget, c.JobTimeout = 2*time.Second, time.Second, 5*time.Second
	c.BatchSize = 20
}

// TestKill9MidDrain kills (SIGKILL) a worker process in the middle of a drain
// with no status webhooks at all, and lets another worker finish: nobody gets
// a message twice, every message ends sent or unknown, and the unknown ones
// are at most those in flight at the kill.
func TestKill9MidDrain(t *testing.T) {
	if url := os.Getenv("JOBS_KILL_WORKER_DB"); url != "" {
		killWorker(t, url, os.Getenv("JOBS_KILL_WORKER_GRAPH"))
		return
	}
	if testing.Short() {
		t.Skip("spawns a worker process")
	}
	const n = 2000
	w := newBenchWorld(t, n, -1, 400, 20*time.Millisecond) // 400 mps on our side: the drain takes ~5 s
	w.enqueue(t, w.pipeline(t, killTuning).Outbox(), n)

	child := exec.Command(os.Args[0], "-test.run=^TestKill9MidDrain$")
	child.Stderr = os.Stderr
	child.Env = append(os.Environ(), "JOBS_KILL_WORKER_DB="+w.url, "JOBS_KILL_WORKER_GRAPH="+w.graph)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	})
	w.waitFor(t, "a third of the drain", func(c drainCounts) bool { return c.Sent >= n/3 })
	if err := child.Process.Kill(); err != nil { // SIGKILL: nothing recorded, nothing released
		t.Fatal(err)
	}
	_ = child.Wait()
	killed = true
	at := time.Now()
	before := w.counts(t)
	accepted := len(w.sim.Sends(benchAccount))

	stop := run(nil, w.pipeline(t, killTuning))
	defer stop()
	w.waitFor(t, "every claim the dead worker left to be sent or waiting for evidence", func(c drainCounts) bool { return c.Orphaned == 0 })
	resumed := time.Since(at)
	final := w.waitFor(t, "the drain to end", func(c drainCounts) bool { return c.Sent+c.Unknown == n })
	sends := w.sim.Sends(benchAccount)
	per := map[string]int{}
	for _, s := range sends {
		per[s.Recipient]++
		if per[s.Recipient] > 1 {
			for _, x := range sends {
				if x.Recipient == s.Recipient {
					t.Logf("%v %s", x.At, x.Raw)
				}
			}
			var rows []map[string]any
			w.store.Gorm(context.Background()).Raw(`SELECT m.id, m.status, m.attempts, m.external_id, o.* FROM messages m JOIN threads t ON t.id = m.thread_id
				JOIN identities i ON i.id = t.direct_identity_id LEFT JOIN outbox_sends o ON o.message_id = m.id WHERE i.external_id = ?`, s.Recipient).Scan(&rows)
			t.Logf("rows %v, killed at %v", rows, at)
			t.Fatalf("%s received the message twice", s.Recipient)
		}
	}
	t.Logf("killed with %d sent, %d accepted by Meta; claims of the dead worker resumed %v after the kill; "+
		"end: %d sent, %d unknown, %d received by Meta, 0 twice", before.Sent, accepted, resumed.Round(10*time.Millisecond),
		final.Sent, final.Unknown, len(sends))
	if inFlight := accepted - before.Sent; final.Unknown > inFlight+w.inFlightCap() {
		t.Fatalf("%d unknown, but only %d sends were in flight at the kill", final.Unknown, inFlight)
	}
	if len(sends) < final.Sent || len(sends) > final.Sent+final.Unknown {
		t.Fatalf("Meta received %d, for %d sent and %d unknown", len(sends), final.Sent, final.Unknown)
	}
}

// drainCounts are the bench business's messages by fate.
type drainCounts struct {
	Sent, Unknown, Failed int
	Orphaned              int // queued, and no request of theirs left: still to be sent
}

func (w *benchWorld) counts(t testing.TB) drainCounts {
	t.Helper()
	var c drainCounts
	if err := w.store.Gorm(context.Background()).Raw(`SELECT count(*) FILTER (WHERE m.status = 'sent') AS sent,
		count(*) FILTER (WHERE m.status = 'unknown') AS unknown, count(*) FILTER (WHERE m.status = 'failed') AS failed,
		count(*) FILTER (WHERE m.status = 'queued' AND o.leaving_at IS NULL) AS orphaned
		FROM messages m LEFT JOIN outbox_sends o ON o.message_id = m.id WHERE m.business_id = ?`, w.biz).Scan(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *benchWorld) waitFor(t testing.TB, what string, cond func(drainCounts) bool) drainCounts {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c := w.counts(t)
		if c.Failed > 0 {
			t.Fatalf("%d sends failed", c.Failed)
		}
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killWorker is the child process: a worker on the parent's database and
// simulator, run until it is killed.
func killWorker(t *testing.T, url, graph string) {
	db, err := models.Open(context.Background(), url, 20)
	if err != nil {
		t.Fatal(err)
	}
	cipher, _ := models.NewCipher(modelstest.SecretKey)
	cfg := jobs.Config{GraphURL: graph, FetchPollInterval: 100 * time.Millisecond}
	killTuning(&cfg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("JOBS_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	p, err := jobs.New(models.NewStore(db, cipher), log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Run(context.Background()) // until SIGKILL
}

// inFlightCap bounds the sends that had left without reaching the simulator
// when the worker died: one job's batch per worker is the most that can be
// between the leaving mark and Meta.
func (w *benchWorld) inFlightCap() int { return 32 * 20 }
