// Package embeddedpg runs a private PostgreSQL cluster from the system's
// initdb/pg_ctl, listening only on a unix socket inside its data directory.
// It is how `switchboard demo`, `serve` and the tests get a database when
// DATABASE_URL is unset.
package embeddedpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Port is the port number in the socket's name; no TCP port is opened.
const Port = 5432

// InstallHelp is printed when no PostgreSQL binaries can be found.
const InstallHelp = `PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin.
Install them, e.g.:
    Debian/Ubuntu: sudo apt-get install -y postgresql
    Fedora:        sudo dnf install -y postgresql-server
    macOS:         brew install postgresql@16
or point Switchboard at an existing server:
    export DATABASE_URL=postgres://user:password@localhost:5432/switchboard`

// ErrNoBinaries means initdb/pg_ctl are not installed.
var ErrNoBinaries = errors.New("embeddedpg: PostgreSQL binaries not found")

// Cluster is a private PostgreSQL data directory and its server.
type Cluster struct {
	Dir     string // data directory; the socket lives here too
	binDir  string
	started bool                // we started it (so Stop stops it)
	cred    *syscall.Credential // PostgreSQL refuses root: run as the postgres user then
}

// FindBinaries returns the directory holding initdb and pg_ctl.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // newest major first (lexical is fine for 1x)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

// New prepares a cluster under dir (created when missing).
func New(dir string) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, binDir: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("embeddedpg: running as root and there is no 'postgres' user to run the server as; set DATABASE_URL")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return c, nil
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.Dir
	// Setpgid: the user's Ctrl-C must not reach the server; we stop it ourselves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	return cmd
}

// URL is the connection string for database name over the unix socket.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", database, c.Dir, Port)
}

// Start initialises the cluster on first use and starts the server unless it
// is already running (a cluster is reused across runs).
func (c *Cluster) Start(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return fmt.Errorf("embeddedpg: %w", err)
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("embeddedpg: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.Dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("embeddedpg: %w", err)
		}
	}
	unlock, err := lockDir(c.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if c.accepting() {
		return nil
	}
	_ = os.Remove(filepath.Join(c.Dir, "postmaster.pid")) // stale after a crash; pg_ctl refuses otherwise
	return c.StartWith(ctx, "max_connections=200")
}

// StartWith starts the initialised server with extra settings ("name=value"),
// as fault-injection harnesses restart it.
func (c *Cluster) StartWith(ctx context.Context, settings ...string) error {
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -p %d -c fsync=on", c.Dir, Port)
	for _, s := range settings {
		opts += " -c " + s
	}
	cmd := c.command(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.Dir, "-l", filepath.Join(c.Dir, "server.log"), "-o", opts)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("embeddedpg: pg_ctl start failed: %v\n%s\n(see %s)", err, out, filepath.Join(c.Dir, "server.log"))
	}
	c.started = true
	return nil
}

// StopMode stops the server with pg_ctl's mode: "fast" (clean) or
// "immediate" (as a crash would), for fault-injection harnesses.
func (c *Cluster) StopMode(mode string) error {
	out, err := c.command(context.Background(), "pg_ctl", "stop", "-w", "-m", mode, "-D", c.Dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("embeddedpg: pg_ctl stop -m %s failed: %v\n%s", mode, err, out)
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	cmd := c.command(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
		"--locale=C.UTF-8", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("embeddedpg: initdb failed: %v\n%s", err, out)
	}
	return nil
}

// accepting reports whether a server answers on the socket.
func (c *Cluster) accepting() bool {
	conn, err := net.DialTimeout("unix", filepath.Join(c.Dir, fmt.Sprintf(".s.PGSQL.%d", Port)), time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// Stop shuts the server down (fast mode) if this process started it.
func (c *Cluster) Stop() error {
	if !c.started {
		return nil
	}
	out, err := c.command(context.Background(), "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.Dir).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not running") {
		return fmt.Errorf("embeddedpg: pg_ctl stop failed: %v\n%s", err, out)
	}
	c.started = false
	return nil
}

// EnsureDatabase creates database name if it does not exist.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	q := fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", name)
	out, err := c.command(ctx, "psql", "-h", c.Dir, "-p", fmt.Sprint(Port), "-U", "postgres", "-d", "postgres", "-tAc", q).CombinedOutput()
	if err != nil {
		return fmt.Errorf("embeddedpg: psql failed: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	out, err = c.command(ctx, "psql", "-h", c.Dir, "-p", fmt.Sprint(Port), "-U", "postgres", "-d", "postgres", "-c",
		fmt.Sprintf(`CREATE DATABASE "%s"`, name)).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "already exists") {
		return fmt.Errorf("embeddedpg: create database failed: %v\n%s", err, out)
	}
	return nil
}

// lockDir serialises Start across processes sharing a data directory (test
// binaries run in parallel).
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embeddedpg: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("embeddedpg: lock: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
}
