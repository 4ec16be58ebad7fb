package web

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
)

var (
	benchVotes     = flag.Int("poll.votes", 1000, "votes cast in the live-tally benchmark")
	benchVoteBatch = flag.Int("poll.batch", 1, "most votes committed in one transaction in the live-tally benchmark")
	benchVoteSync  = flag.Bool("poll.sync", false, "commit each vote waiting for its WAL flush (ingest does not: it relaxes its commits)")
	benchVoteRate  = flag.Float64("poll.rate", 0, "votes per second, arriving on schedule whatever the workers' pace (0: as fast as 8 connections record them)")
)

var votersRe = regexp.MustCompile(`(\d+) (?:people|person) voted`)

// BenchmarkVoteTally: customers vote on one poll as fast as 8 connections
// can record votes (each: the vote and its NOTIFY, in one transaction that,
// like ingest's, does not wait for its WAL flush); an agent has the thread open. Latency is from a vote's commit to the first
// tally frame that counts it (the k-th committed vote is in the first frame
// showing at least k voters).
//
// With -poll.rate the votes arrive on a schedule instead, as customers tap,
// and each latency counts from the vote's scheduled arrival: waiting for a
// free connection counts too.
func BenchmarkVoteTally(b *testing.B) {
	e := newUIEnv(b, false)
	p, err := jobs.New(e.store, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{GraphURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	e.srv.opts.Groups, e.srv.opts.Polls = p.Relay(), p.Polls()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.srv.RunLive(ctx) }()
	for i := 0; i < 500; i++ {
		e.srv.hub.mu.RLock()
		ok := !e.srv.hub.listening.IsZero()
		e.srv.hub.mu.RUnlock()
		if ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := *benchVotes
	if err := e.store.RecordCustomerEvent(ctx, e.a.identity.ID, "message", time.Now()); err != nil {
		b.Fatal(err)
	}
	poll, err := p.Polls().Create(ctx, jobs.PollRequest{BusinessID: e.a.biz.ID, ThreadID: e.a.thread.ID,
		Question: "Which fitting day?", Options: []string{"Saturday", "Sunday", "Monday"}})
	if err != nil {
		b.Fatal(err)
	}
	voters := make([]int64, n)
	for i := range voters {
		c := &models.Contact{BusinessID: e.a.biz.ID, Name: fmt.Sprint("Voter ", i)}
		if err := e.store.CreateContact(ctx, c); err != nil {
			b.Fatal(err)
		}
		voters[i] = addIdentity(b, e.store, e.a, c, nextExt(), c.Name).ID
	}
	ws, _, err := e.signIn(b, e.a.agent).dialWS("/ws?thread=" + id(e.a.thread.ID) + "&since=" + id(time.Now().Add(time.Minute).UnixMilli()))
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	for i := 0; i < 1000 && e.srv.hub.count() != 1; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	seen := make(chan struct{})
	var frames []struct {
		at     time.Time
		voters int
	}
	go func() {
		defer close(seen)
		for {
			_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			at := time.Now()
			for _, m := range votersRe.FindAllSubmatch(msg, -1) {
				v, _ := strconv.Atoi(string(m[1]))
				frames = append(frames, struct {
					at     time.Time
					voters int
				}{at, v})
				if v >= n {
					return
				}
			}
		}
	}()
	b.ResetTimer()
	var mu sync.Mutex
	type committed struct{ at, from time.Time } // its commit, and where its latency counts from
	var commits []committed
	work := make(chan int, 8**benchVoteBatch) // votes waiting, as webhooks wait for the ingest's next batch
	var wg sync.WaitGroup
	start := time.Now()
	arrival := func(i int) time.Time { // when vote i arrives (on a schedule), or zero
		if *benchVoteRate <= 0 {
			return time.Time{}
		}
		return start.Add(time.Duration(float64(i) / *benchVoteRate * float64(time.Second)))
	}
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := range work {
				// With -poll.batch > 1, a transaction takes the votes already
				// waiting (up to the batch), as a batching inbound apply would.
				votes := []int{i}
			more:
				for len(votes) < *benchVoteBatch {
					select {
					case j, ok := <-work:
						if !ok {
							break more
						}
						votes = append(votes, j)
					default:
						break more
					}
				}
				err := e.store.InTx(ctx, func(tx *models.Store) error {
					if !*benchVoteSync {
						if err := tx.RelaxCommit(ctx); err != nil {
							return err
						}
					}
					for _, i := range votes {
						if err := tx.CastVote(ctx, models.Vote{BusinessID: e.a.biz.ID, PollID: poll.ID, Position: 1 + i%3,
							IdentityID: voters[i], App: models.AppMessenger, At: time.Now()}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Error(err)
					continue
				}
				at := time.Now()
				mu.Lock()
				for _, i := range votes {
					from := arrival(i)
					if from.IsZero() {
						from = at
					}
					commits = append(commits, committed{at, from})
				}
				mu.Unlock()
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
	recorded := time.Since(start)
	<-seen
	slices.SortFunc(commits, func(a, b committed) int { return a.at.Compare(b.at) })
	var lat []time.Duration
	f := 0
	for k, c := range commits {
		for f < len(frames) && frames[f].voters < k+1 {
			f++
		}
		if f == len(frames) {
			break
		}
		lat = append(lat, max(frames[f].at.Sub(c.from), 0))
	}
	if len(lat) < n {
		b.Fatalf("only %d of %d votes reached a tally frame", len(lat), n)
	}
	// The raw limits of the same run, from the same 8 connections as fast as
	// they go: transactions of one indexed read, and transactions of a
	// one-row upsert and a NOTIFY (what a vote is at the least).
	raw := func(fn func(tx *models.Store, i int) error) float64 {
		work := make(chan int)
		start := time.Now()
		for w := 0; w < 8; w++ {
			wg.Go(func() {
				for i := range work {
					if err := e.store.InTx(ctx, func(tx *models.Store) error { return fn(tx, i) }); err != nil {
						b.Error(err) // and go on: the feeder must not block
					}
				}
			})
		}
		for i := 0; i < n; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		return float64(n) / time.Since(start).Seconds()
	}
	b.ReportMetric(raw(func(tx *models.Store, _ int) error {
		_, err := tx.Thread(ctx, e.a.biz.ID, e.a.thread.ID)
		return err
	}), "raw-read-tx/s")
	b.ReportMetric(raw(func(tx *models.Store, i int) error {
		if !*benchVoteSync {
			if err := tx.RelaxCommit(ctx); err != nil {
				return err
			}
		}
		if err := tx.RecordCustomerEvent(ctx, voters[i], "message", time.Now()); err != nil {
			return err
		}
		return tx.Notify(ctx, models.Event{Type: "bench", BusinessID: 1 << 40}) // a business no socket has
	}), "raw-write-tx/s")
	slices.Sort(lat)
	b.ReportMetric(float64(n)/recorded.Seconds(), "votes/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(frames)), "frames")
	b.ReportMetric(0, "ns/op")
}
