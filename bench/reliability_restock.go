package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
)

// restock: every customer waits for a product; its stock goes from 0 to
// plenty through the API, and the serve process is killed -9 while the
// restock run's alerts drain to the simulator (no status webhooks, no
// echoes), then restarted. Each waiting customer may hear at most once,
// counted at the simulator; those whose alert the crash left unknowable are
// shown as unknown, never resent.
func (h *harness) restock(ctx context.Context, stdout io.Writer, customers int, mps int, env []string) error {
	sc, err := h.startKillScenario(ctx, customers, mps, 12, env, nil) // the alert is a free-form text in the window
	if err != nil {
		return err
	}
	defer sc.close()
	sim := sc.sim
	api := func(method, path, body string) (int, error) {
		st, _, err := sc.api(ctx, http.DefaultClient, method, path, body)
		return st, err
	}
	if st, err := api("POST", "/api/v1/products", `{"sku":"GB-1","name":"Giacca blu","stock":0}`); err != nil || st != http.StatusCreated {
		return fmt.Errorf("reliability: create product: %d %v", st, err)
	}
	p, err := h.store.Product(ctx, h.bizID, "GB-1")
	if err != nil || p == nil {
		return fmt.Errorf("reliability: product: %v", err)
	}
	waiting, err := h.store.JoinAllDirect(ctx, h.bizID, p.ID, "postback")
	if err != nil {
		return err
	}
	start := time.Now()
	if st, err := api("PATCH", "/api/v1/products/GB-1", fmt.Sprintf(`{"stock":%d}`, waiting+10)); err != nil || st != http.StatusOK {
		return fmt.Errorf("reliability: restock: %d %v", st, err)
	}
	fmt.Fprintf(stdout, "%d customers waiting; stock 0 → %d\n", waiting, waiting+10)

	// Kill -9 once a third has reached Meta, with the run and sends in flight.
	_, restarted, err := sc.killWhen(ctx, stdout, int64(waiting)/3, int64(waiting), start)
	if err != nil {
		return err
	}

	// Until the run is done and nothing is queued (or 15 minutes).
	deadline := time.Now().Add(15 * time.Minute)
	var run models.RunSummary
	var counts map[string]int64
	for {
		runs, err := h.store.ProductRuns(ctx, h.bizID, p.ID, 1)
		if err != nil {
			return err
		}
		if counts, err = h.outboundCounts(ctx); err != nil {
			return err
		}
		if len(runs) == 1 {
			run = runs[0]
		}
		if run.Status == models.RunDone && counts["queued"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "run %s (%s): %d handled, %d notified; drained %s after the restart: %v\n", run.Status, run.Outcome,
		run.Handled, run.Notified, time.Since(restarted).Round(time.Second), counts)

	// At Meta: each customer's alert at most once.
	heard := map[string]int{}
	for _, s := range sim.Sends(benchPhoneID) {
		if strings.Contains(s.Text, "Giacca blu") {
			heard[s.Recipient]++
		}
	}
	twice := 0
	for _, n := range heard {
		if n > 1 {
			twice += n - 1
		}
	}
	fmt.Fprintf(stdout, "at Meta: %d of %d customers alerted, %d alerted twice; %d unknown (in flight at the kill, not resent)\n",
		len(heard), waiting, twice, counts["unknown"])
	if twice > 0 {
		return fmt.Errorf("reliability: %d customers alerted twice", twice)
	}
	if run.Handled != waiting {
		return fmt.Errorf("reliability: the run handled %d of %d entries", run.Handled, waiting)
	}
	return nil
}
