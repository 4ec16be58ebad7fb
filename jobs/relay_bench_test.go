package jobs_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

var (
	benchGroups   = flag.Int("relay.groups", 200, "relay groups in the fan-out benchmark")
	benchMessages = flag.Int("relay.messages", 2000, "inbound messages relayed in the fan-out benchmark")
	benchConns    = flag.Int("relay.conns", 8, "members writing at once in the fan-out benchmark")
	benchSync     = flag.Bool("relay.sync", false, "commit each step waiting for its WAL flush (ingest does not: it relaxes its commits)")
	benchRate     = flag.Float64("relay.rate", 0, "members' messages per second, arriving on schedule whatever the workers' pace (0: as fast as the workers go)")
	benchWarmup   = flag.Int("relay.warmup", 5, "messages each worker relays before the clock starts (0: measure a cold process)")
)

// BenchmarkRelayFanOut: 200 relay groups of 5 members (mixed apps, windows
// open), members writing at once (-relay.conns, default 8); each measured step is
// what ingest does for a member's message: store it in the group and queue
// its 4 policy-checked legs with their River jobs, in one transaction that,
// like ingest's (inbound.Processor), does not wait for its WAL flush.
//
// By default the workers go as fast as they can (a closed loop: the latency
// is then the machine's queue, conns ÷ throughput). With -relay.rate the
// messages arrive on a schedule, as members write, and each latency counts
// from the message's scheduled arrival, so time spent waiting for a free
// worker counts too.
//
// Before the clock starts each worker relays -relay.warmup messages: a
// process's first transactions on each pooled connection prepare their
// statements and fill PostgreSQL's catalog caches, several milliseconds
// each, once per connection (and per pool_max_conn_lifetime). Measured
// cold (-relay.warmup=0) at 200 messages/s, the first 40 or so messages
// queue behind them (p99 70–110 ms); warm, the tail is the steady state's.
func BenchmarkRelayFanOut(b *testing.B) {
	ctx := context.Background()
	store := modelstest.NewStore(b)
	p, err := jobs.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{GraphURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	relay := p.Relay()
	biz, _ := store.CreateBusiness(ctx, "Bench")
	var chans []*models.Channel
	for i, app := range models.Apps {
		ch, err := store.CreateChannel(ctx, models.NewChannel{BusinessID: biz.ID, App: app, AccountID: fmt.Sprint("acct-", i),
			AccessToken: "t", AppSecret: "s"})
		if err != nil {
			b.Fatal(err)
		}
		chans = append(chans, ch)
	}
	type sender struct {
		group int64
		id    *models.Identity
	}
	var senders []sender
	for g := 0; g < *benchGroups; g++ {
		var ids []int64
		var members []*models.Identity
		for m := 0; m < 5; m++ {
			ch := chans[(g+m)%len(chans)]
			c := &models.Contact{BusinessID: biz.ID, Name: fmt.Sprintf("Member %d-%d", g, m)}
			if err := store.CreateContact(ctx, c); err != nil {
				b.Fatal(err)
			}
			id := &models.Identity{BusinessID: biz.ID, ContactID: c.ID, ChannelID: ch.ID, App: ch.App,
				ExternalID: fmt.Sprintf("%d%04d%d", 39347, g, m), DisplayName: c.Name}
			if err := store.CreateIdentity(ctx, id); err != nil {
				b.Fatal(err)
			}
			if err := store.RecordCustomerEvent(ctx, id.ID, "message", time.Now().Add(-time.Minute)); err != nil {
				b.Fatal(err)
			}
			ids, members = append(ids, id.ID), append(members, id)
		}
		t, err := relay.CreateGroup(ctx, biz.ID, nil, fmt.Sprint("Group ", g), ids)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range members {
			senders = append(senders, sender{t.ID, m})
		}
	}
	relayOne := func(s sender, text string) error {
		return store.InTx(ctx, func(tx *models.Store) error {
			if !*benchSync {
				if err := tx.RelaxCommit(ctx); err != nil {
					return err
				}
			}
			m := &models.Message{BusinessID: biz.ID, ThreadID: s.group, ChannelID: &s.id.ChannelID, Direction: models.DirectionIn,
				App: s.id.App, Kind: "text", Text: text, SenderIdentityID: &s.id.ID, SentAt: time.Now(),
				Status: models.StatusReceived}
			if _, err := tx.AddMessage(ctx, m, nil); err != nil {
				return err
			}
			return relay.RelayTx(ctx, tx, m)
		})
	}
	var warm sync.WaitGroup
	for w := 0; w < *benchConns; w++ {
		warm.Go(func() {
			for i := range *benchWarmup { // every app's path, on each worker's connection
				if err := relayOne(senders[(w**benchWarmup+i)%len(senders)], "Ciao a tutti"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	warm.Wait()
	b.ResetTimer()
	n := *benchMessages
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	work := make(chan int)
	start := time.Now()
	arrival := func(i int) time.Time { // when message i arrives (open loop), or zero
		if *benchRate <= 0 {
			return time.Time{}
		}
		return start.Add(time.Duration(float64(i) / *benchRate * float64(time.Second)))
	}
	for w := 0; w < *benchConns; w++ {
		wg.Go(func() {
			for i := range work {
				s := senders[(i*7)%len(senders)]
				t0 := time.Now()
				if at := arrival(i); !at.IsZero() {
					t0 = at
				}
				if err := relayOne(s, "Che ne dite del pizzo?"); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	for i := 0; i < n; i++ {
		if at := arrival(i); !at.IsZero() {
			time.Sleep(time.Until(at))
		}
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	raw := rawTxLatency(b, store, biz.ID, senders[0].group, n, *benchConns)
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(raw[n/2].Microseconds())/1000, "raw-p50-ms")
	b.ReportMetric(float64(raw[n*99/100].Microseconds())/1000, "raw-p99-ms")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(4*n)/elapsed.Seconds(), "legs/s")
	b.ReportMetric(0, "ns/op")
}

// rawTxLatency is the raw limit beside a figure: n transactions of one
// indexed read each, from the same number of connections, sorted. On a
// loaded machine its tail is the machine's, not the code's.
func rawTxLatency(b *testing.B, store *models.Store, businessID, threadID int64, n, conns int) []time.Duration {
	ctx := context.Background()
	lat := make([]time.Duration, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Go(func() {
			for i := range work {
				t0 := time.Now()
				if err := store.InTx(ctx, func(tx *models.Store) error {
					_, err := tx.Thread(ctx, businessID, threadID)
					return err
				}); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	slices.Sort(lat)
	return lat
}
