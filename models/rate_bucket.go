package models

import (
	"context"
	"time"
)

// TakeRateTokens draws up to want tokens from the bucket key, refilled at rate
// per second up to burst on the database's clock, so every worker of every
// replica shares it. inboundChannel, when not 0, first charges that WhatsApp
// channel's inbound messages received since the last draw. With nothing
// granted, wait is how long until want tokens accrue.
func (s *Store) TakeRateTokens(ctx context.Context, key string, rate, burst float64, want int, inboundChannel int64) (granted int, wait time.Duration, err error) {
	var ch any
	if inboundChannel != 0 {
		ch = inboundChannel
	}
	var secs float64
	err = s.DB.Pool.QueryRow(ctx, `SELECT granted, wait_seconds FROM rate_take($1, $2, $3, $4, $5)`,
		key, rate, burst, want, ch).Scan(&granted, &secs)
	if err != nil {
		return 0, 0, wrapErr(err, "take rate tokens of %s", key)
	}
	return granted, time.Duration(secs * float64(time.Second)), nil
}

// DrainRateBucket empties the bucket key and puts it in debt for pause at
// rate: Meta said we went too fast, so every replica holds back a moment.
func (s *Store) DrainRateBucket(ctx context.Context, key string, rate float64, pause time.Duration) error {
	_, err := s.DB.Pool.Exec(ctx, `UPDATE rate_buckets SET tokens = LEAST(tokens, 0) - $2, updated_at = clock_timestamp()
		WHERE key = $1`, key, rate*pause.Seconds())
	return wrapErr(err, "drain rate bucket %s", key)
}

// PurgeRateInbound forgets inbound charges older than age; a bucket never
// holds more than a second or so, so older ones no longer matter.
func (s *Store) PurgeRateInbound(ctx context.Context, age time.Duration) (int64, error) {
	tag, err := s.DB.Pool.Exec(ctx, `DELETE FROM rate_inbound WHERE at < now() - $1 * interval '1 second'`, age.Seconds())
	if err != nil {
		return 0, wrapErr(err, "purge inbound rate charges")
	}
	return tag.RowsAffected(), nil
}
