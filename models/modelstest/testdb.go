// Package modelstest gives each test a fresh, migrated PostgreSQL database
// cloned from a template (pgtestdb). With DATABASE_URL unset it starts the
// same embedded cluster the demo uses, shared by all test binaries.
package modelstest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/embeddedpg"
)

// SecretKey is the SECRET_KEY tests seal channel secrets with.
const SecretKey = "test-secret-key-0123456789"

type migrator struct{}

func (migrator) Hash() (string, error) { return models.SchemaHash() }

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return models.Migrate(ctx, db)
}

var (
	serverOnce sync.Once
	serverConf pgtestdb.Config
	serverErr  error
)

// server returns the admin connection to the server tests create databases on.
func server(t testing.TB) pgtestdb.Config {
	serverOnce.Do(func() {
		raw := os.Getenv("DATABASE_URL")
		if raw == "" {
			dir := os.Getenv("SWITCHBOARD_TEST_DATA")
			if dir == "" {
				dir = filepath.Join(os.TempDir(), "switchboard-test")
			}
			var c *embeddedpg.Cluster
			if c, serverErr = embeddedpg.New(filepath.Join(dir, "postgres")); serverErr != nil {
				return
			}
			// Left running on purpose: the next test binary reuses it.
			if serverErr = c.Start(context.Background()); serverErr != nil {
				return
			}
			raw = c.URL("postgres")
		}
		serverConf, serverErr = configFromURL(raw)
	})
	if serverErr != nil {
		if serverErr == embeddedpg.ErrNoBinaries {
			t.Fatalf("no PostgreSQL for tests: %v\n%s", serverErr, embeddedpg.InstallHelp)
		}
		t.Fatalf("no PostgreSQL for tests: %v", serverErr)
	}
	return serverConf
}

func configFromURL(raw string) (pgtestdb.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return pgtestdb.Config{}, err
	}
	pw, _ := u.User.Password()
	port := u.Port()
	q := u.Query()
	if port == "" {
		port = q.Get("port")
		q.Del("port")
	}
	if port == "" {
		port = "5432"
	}
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	db := filepath.Base(u.Path)
	if db == "" || db == "/" || db == "." {
		db = "postgres"
	}
	return pgtestdb.Config{
		DriverName: "pgx", User: u.User.Username(), Password: pw, Host: u.Hostname(), Port: port,
		Database: db, Options: q.Encode(), ForceTerminateConnections: true,
	}, nil
}

// URL returns the connection string of a fresh migrated database for t.
func URL(t testing.TB) string {
	t.Helper()
	conf := pgtestdb.Custom(t, server(t), migrator{})
	return conf.URL()
}

// NewDB opens a fresh migrated database for t, closed when t ends.
func NewDB(t testing.TB) *models.DB {
	t.Helper()
	db, err := models.Open(context.Background(), URL(t), 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// NewStore opens a fresh database and a store on it.
func NewStore(t testing.TB) *models.Store {
	t.Helper()
	cipher, err := models.NewCipher(SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return models.NewStore(NewDB(t), cipher)
}
