package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// TestOpenHonoursPoolSettingsInTheURL: pool_* parameters in DATABASE_URL
// win over the caller's default size.
func TestOpenHonoursPoolSettingsInTheURL(t *testing.T) {
	base := modelstest.URL(t)
	cases := []struct {
		params   string
		max      int32
		lifetime time.Duration
	}{
		{"", 9, time.Hour},
		{"&pool_max_conns=3", 3, time.Hour},
		{"&pool_max_conns=5&pool_max_conn_lifetime=7m", 5, 7 * time.Minute},
	}
	for _, c := range cases {
		db, err := models.Open(context.Background(), base+c.params, 9)
		if err != nil {
			t.Fatalf("%q: %v", c.params, err)
		}
		cfg := db.Pool.Config()
		db.Close()
		if cfg.MaxConns != c.max || cfg.MaxConnLifetime != c.lifetime {
			t.Errorf("%q: max_conns %d lifetime %s, want %d %s", c.params, cfg.MaxConns, cfg.MaxConnLifetime, c.max, c.lifetime)
		}
	}
}

func TestUnavailableKnowsARefusingDatabase(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"too many clients", fmt.Errorf("store: unable to fetch: %w", &pgconn.PgError{Code: "53300", Message: "sorry, too many clients already"}), true},
		{"starting up", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"shutting down", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"no free connection in time", fmt.Errorf("acquire: %w", context.DeadlineExceeded), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a bug", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := models.Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable = %v, want %v", c.name, got, c.want)
		}
	}
}
