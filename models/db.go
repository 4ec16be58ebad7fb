// Package models holds Switchboard's data: the schema (goose migrations), the
// gorm structs and the store methods that read and write them. Every method
// that reads business data takes the business id.
package models

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the one connection pool the process shares: pgx for River and
// LISTEN/NOTIFY, database/sql over the same pool for gorm and goose.
type DB struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	Gorm *gorm.DB
}

// DefaultPoolMaxConns is the pool size of a process whose DATABASE_URL
// does not set pool_max_conns: three replicas stay well inside
// PostgreSQL's default max_connections of 100.
const DefaultPoolMaxConns = 20

// defaultConnectTimeout applies when url has no connect_timeout.
const defaultConnectTimeout = 10 * time.Second

// Open connects to url and checks the connection. The pool takes pgxpool's
// parameters from url (pool_max_conns, pool_min_conns,
// pool_max_conn_lifetime, …); maxConns is its size when url does not say.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("models: bad database URL: %w", err)
	}
	if maxConns > 0 && !setsPoolSize(url) {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // a black-holed server fails a request instead of hanging it
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("models: unable to create pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("models: unable to reach PostgreSQL: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("models: unable to open gorm: %w", err)
	}
	return &DB{Pool: pool, SQL: sqlDB, Gorm: g}, nil
}

// setsPoolSize reports whether url (a URL or key=value string, already
// parsed once without error) names pool_max_conns; pgxpool's parsed config
// cannot tell its default from a value.
func setsPoolSize(url string) bool {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams["pool_max_conns"]
	return ok
}

// Unavailable reports whether err means PostgreSQL cannot serve now rather
// than that the request is wrong: it refuses connections (too many
// clients, starting up, shutting down), a connection broke, or no
// connection came in time. Such a request is worth retrying later.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "53300", // too_many_connections
			"57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pg.Code, "08") // connection_exception
	}
	var connect *pgconn.ConnectError
	return errors.As(err, &connect) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)
}

// Close releases every connection.
func (db *DB) Close() {
	_ = db.SQL.Close()
	db.Pool.Close()
}

// Ping answers whether PostgreSQL is reachable (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Sessions counts the server's connections to this database, of every
// process (pg_stat_activity); the benchmarks check replicas stay within
// their pools.
func (db *DB) Sessions(ctx context.Context) (int64, error) {
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).Scan(&n)
	return n, wrapErr(err, "count database sessions")
}

// sqlExec runs hand-written SQL ($n placeholders) on the store's connection,
// the transaction inside InTx, so that pgx encodes Go slices as arrays.
func (s *Store) sqlExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.Gorm(ctx).Statement.ConnPool.ExecContext(ctx, q, args...)
}

func (s *Store) sqlQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.Gorm(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
}

func (s *Store) sqlQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.Gorm(ctx).Statement.ConnPool.QueryRowContext(ctx, q, args...)
}
