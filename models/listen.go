package models

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListenInbox listens on InboxChannel over a dedicated connection (outside
// the pool, so a long wait never holds a pooled one): it calls ready once
// listening, then fn with each notification's payload (read it with
// DecodeEvents) until ctx ends, the connection fails or fn returns an error.
func (s *Store) ListenInbox(ctx context.Context, ready func(), fn func(payload string) error) error {
	cfg := s.DB.Pool.Config().ConnConfig.Copy()
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return wrapErr(err, "connect to listen for inbox events")
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{InboxChannel}.Sanitize()); err != nil {
		return wrapErr(err, "listen for inbox events")
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if err := fn(n.Payload); err != nil {
			return err
		}
	}
}
