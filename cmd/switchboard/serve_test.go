package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestServeEmbeddedStopsOnSIGTERM runs the real binary with DATABASE_URL
// unset: it must start its own cluster, answer /readyz, and on SIGTERM stop
// the cluster, leaving no server behind.
func TestServeEmbeddedStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	_ = os.Chmod(tmp, 0o755)
	_ = os.Chmod(filepath.Dir(tmp), 0o755)
	bin := filepath.Join(tmp, "switchboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	data := filepath.Join(tmp, "data")
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL=", "SWITCHBOARD_DATA="+data, "LISTEN_ADDR="+addr,
		"SECRET_KEY=serve-test-secret-key-123", "GRAPH_API_URL=http://127.0.0.1:1")
	out, _ := os.Create(filepath.Join(tmp, "serve.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	ready := false
	for i := 0; i < 600 && !ready; i++ { // bounded: up to a minute
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			ready = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
		if !ready {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		log, _ := os.ReadFile(out.Name())
		t.Fatalf("server never became ready:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "postmaster.pid")); err != nil {
		t.Fatalf("embedded cluster not running: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			log, _ := os.ReadFile(out.Name())
			t.Fatalf("serve exited with %v:\n%s", err, log)
		}
	case <-ctx.Done():
		t.Fatal("serve did not exit after SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatal("PostgreSQL still running after serve exited")
	}
}
