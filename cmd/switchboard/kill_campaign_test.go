package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCampaignSurvivesKill9 runs `switchboard bench reliability campaign`
// small: a campaign to 60 customers through real `switchboard serve`
// processes, the server killed -9 once a third of them have reached Meta,
// then restarted. Counted at the Meta simulator, nobody gets it twice and
// nobody is lost; the sends the crash left unknowable are reconciled (here
// after 2 s instead of 10 min) and never resent. The scenario exits non-zero
// on any duplicate or loss.
func TestCampaignSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server: skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(t.Context(), bin, "bench", "reliability", "campaign",
		"--customers", "60", "--mps", "30", "--env", "SEND_RECONCILE_AFTER=2s")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the kill -9 scenario failed: %v", err)
	}
	if !strings.Contains(string(out), "kill -9 with") || !strings.Contains(string(out), " 0 duplicates, 0 lost") {
		t.Fatal("the scenario did not report a kill and 0 duplicates, 0 lost")
	}
}
