package embeddedpg

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestClusterStartsIsReusedAndStops(t *testing.T) {
	if _, err := FindBinaries(); err != nil {
		t.Fatalf("%v\n%s", err, InstallHelp)
	}
	dir := filepath.Join(t.TempDir(), "pg")
	_ = os.Chmod(filepath.Dir(dir), 0o755) // the postgres user must reach it when we run as root
	_ = os.Chmod(filepath.Dir(filepath.Dir(dir)), 0o755)
	ctx := context.Background()

	first, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.started = true; _ = first.Stop() })
	if !first.accepting() || !first.started {
		t.Fatal("first start: server not accepting")
	}
	if err := first.EnsureDatabase(ctx, "switchboard"); err != nil {
		t.Fatal(err)
	}
	if err := first.EnsureDatabase(ctx, "switchboard"); err != nil {
		t.Fatalf("second EnsureDatabase: %v", err)
	}

	second, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if second.started {
		t.Fatal("second start launched a new server instead of reusing the running one")
	}
	if err := second.Stop(); err != nil { // not ours: must leave it running
		t.Fatal(err)
	}
	if !first.accepting() {
		t.Fatal("a reusing process stopped the server it did not start")
	}

	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if first.accepting() {
		t.Fatal("server still accepting after Stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("postmaster.pid left behind: server still running")
	}
}
