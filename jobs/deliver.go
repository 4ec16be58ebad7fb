package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// deliverer is what the workers share: adapters, rate limits, channel
// credentials and the bound on concurrent Graph calls.
type deliverer struct {
	store    *models.Store
	log      *slog.Logger
	cfg      *Config
	senders  map[string]adapters.Sender
	limiter  *limiter
	m        *metrics
	inflight chan struct{}
	progress *sendProgress // told after each recorded batch of outcomes

	mu       sync.Mutex
	channels map[int64]cachedChannel
}

type cachedChannel struct {
	ch     *models.Channel
	creds  adapters.ChannelCreds
	loaded time.Time
}

// channelTTL bounds how long a worker keeps using a channel's state and token.
const channelTTL = 5 * time.Second

// channel loads the channel and opens its token, cached briefly.
func (d *deliverer) channel(ctx context.Context, businessID, id int64) (*models.Channel, adapters.ChannelCreds, error) {
	d.mu.Lock()
	c, ok := d.channels[id]
	d.mu.Unlock()
	if ok && time.Since(c.loaded) < channelTTL {
		return c.ch, c.creds, nil
	}
	ch, err := d.store.Channel(ctx, businessID, id)
	if err != nil || ch == nil {
		return nil, adapters.ChannelCreds{}, err
	}
	token, _, err := d.store.ChannelSecrets(ch)
	if err != nil {
		return nil, adapters.ChannelCreds{}, fmt.Errorf("jobs: open token of channel %d: %w", id, err)
	}
	c = cachedChannel{ch: ch, creds: adapters.ChannelCreds{App: adapters.App(ch.App), AccountID: ch.AccountID, AccessToken: token},
		loaded: time.Now()}
	d.mu.Lock()
	d.channels[id] = c
	d.mu.Unlock()
	return c.ch, c.creds, nil
}

// appOf is the channel's app; "" for a removed channel.
func appOf(ch *models.Channel) string {
	if ch == nil {
		return ""
	}
	return ch.App
}

func (d *deliverer) forgetChannel(id int64) {
	d.mu.Lock()
	delete(d.channels, id)
	d.mu.Unlock()
}

// deliver works one job: claim what is still to send, re-judge it against
// the facts of now, send what the policy still allows, record every outcome
// in one transaction, and snooze while anything waits for a retry or for
// its echo or status.
func (d *deliverer) deliver(ctx context.Context, jobID int64, args sendArgs) error {
	ch, creds, err := d.channel(ctx, args.BusinessID, args.ChannelID)
	if err != nil {
		return err
	}
	if err := adoptEchoCopies(ctx, d.store, appOf(ch), args.MessageIDs); err != nil {
		return err
	}
	claim, err := d.store.ClaimOutbound(ctx, args.MessageIDs, d.claimTimes(jobID))
	if err != nil {
		return err
	}
	if n := len(claim.Unknown); n > 0 {
		d.m.outcomes.WithLabelValues(appOf(ch), "unknown").Add(float64(n))
		d.log.Warn("outbound: no answer, echo or status came back for these sends; marked unknown, never resent on their own",
			"channel", args.ChannelID, "messages", claim.Unknown)
	}
	waiting, next := claim.Waiting, claim.NextAt
	if len(claim.Claimed) > 0 {
		outcomes, err := d.sendAllowed(ctx, args.BusinessID, ch, creds, claim.Claimed)
		if err != nil {
			return err
		}
		// Outcomes are written even when the job was cancelled mid-send: what
		// Meta answered must not be lost with the worker.
		if err := d.record(ctx, appOf(ch), outcomes); err != nil {
			return err
		}
		d.progress.advance()
		for _, o := range outcomes {
			if o.Sent || o.Failed {
				continue
			}
			waiting++
			at := o.RetryAt
			if o.Uncertain { // back when it is due to be given up as unknown
				at = time.Now().Add(d.cfg.ReconcileAfter)
			}
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	if waiting == 0 {
		return nil
	}
	if appOf(ch) == models.AppInstagram { // its echoes carry no id: look for them (claiming adopts them) while waiting
		if check := time.Now().Add(instagramEchoCheck); next.IsZero() || check.Before(next) {
			next = check
		}
	}
	return river.JobSnooze(max(time.Until(next), 10*time.Millisecond))
}

// instagramEchoCheck is how often a job waiting on Instagram sends that may
// have reached Meta looks for their echoes.
const instagramEchoCheck = 15 * time.Second

func (d *deliverer) claimTimes(jobID int64) models.ClaimTimes {
	return models.ClaimTimes{Lease: d.cfg.ClaimLease, Reconcile: d.cfg.ReconcileAfter, Now: d.cfg.Now(), Job: jobID}
}

// sendAllowed re-runs the policy on the claims and sends those it still
// allows; the refused ones fail with the decision's reason, unsent.
func (d *deliverer) sendAllowed(ctx context.Context, businessID int64, ch *models.Channel, creds adapters.ChannelCreds,
	claims []models.OutboundClaim) ([]models.SendOutcome, error) {
	if unusable(ch) != "" {
		return d.sendAll(ctx, ch, creds, claims), nil
	}
	refused, err := d.refusals(ctx, businessID, claims)
	if err != nil {
		return nil, err
	}
	if len(refused) == 0 {
		return d.sendAll(ctx, ch, creds, claims), nil
	}
	var allowed []models.OutboundClaim
	var out []models.SendOutcome
	for i := range claims {
		if o, ok := refused[claims[i].ID]; ok {
			d.m.outcomes.WithLabelValues(ch.App, "policy_refused").Inc()
			out = append(out, o)
			continue
		}
		allowed = append(allowed, claims[i])
	}
	return append(out, d.sendAll(ctx, ch, creds, allowed)...), nil
}

// record writes the outcomes, trying again a few times: an ingest transaction
// storing an echo of the same send can collide with ours, and an unrecorded
// success would have to wait for reconciliation.
func (d *deliverer) record(ctx context.Context, app string, outcomes []models.SendOutcome) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for attempt := range 3 {
		if err = recordOutcomes(rctx, d.store, app, outcomes); err == nil {
			return nil
		}
		d.log.Warn("outbound: recording send outcomes failed; trying again", "attempt", attempt+1, "error", err)
		select {
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		case <-rctx.Done():
			return err
		}
	}
	return err
}

// sendAll sends the claimed messages concurrently; the rate limiter paces
// them and the in-flight bound caps the Graph calls of the whole process.
func (d *deliverer) sendAll(ctx context.Context, ch *models.Channel, creds adapters.ChannelCreds, claims []models.OutboundClaim) []models.SendOutcome {
	out := make([]models.SendOutcome, len(claims))
	if title := unusable(ch); title != "" {
		for i := range claims {
			out[i] = d.fail(models.SendOutcome{MessageID: claims[i].ID, At: d.cfg.Now(),
				OTNTokenID: specOf(claims[i].Details).OTNTokenID}, nil, title)
		}
		return out
	}
	// Waiting for rate tokens is bounded, so a job on a busy channel gives
	// its worker back and snoozes instead of holding it.
	waitCtx, cancel := context.WithTimeout(ctx, d.cfg.WaitBudget)
	defer cancel()
	var auth atomic.Bool
	gate := &leavingGate{store: d.store, log: d.log}
	var wg sync.WaitGroup
	for i := range claims {
		wg.Go(func() { out[i] = d.sendOne(ctx, waitCtx, ch, creds, &claims[i], &auth, gate) })
	}
	wg.Wait()
	return out
}

// unusable says why nothing can be sent on the channel now, or "".
func unusable(ch *models.Channel) string {
	switch {
	case ch == nil:
		return "The channel was removed."
	case ch.State == models.ChannelNeedsReauth:
		return "The channel needs reconnecting: Meta no longer accepts its access token. Reconnect it, then retry."
	case ch.State != models.ChannelActive:
		return "The channel is disabled."
	}
	return ""
}

func (d *deliverer) sendOne(ctx, waitCtx context.Context, ch *models.Channel, creds adapters.ChannelCreds, c *models.OutboundClaim,
	auth *atomic.Bool, gate *leavingGate) models.SendOutcome {
	spec := specOf(c.Details)
	o := models.SendOutcome{MessageID: c.ID, At: d.cfg.Now(), OTNTokenID: spec.OTNTokenID, ClaimedAt: c.ClaimedAt}
	dr := draftOfClaim(c, spec)
	dr.Ref = d.store.Cipher().CallbackRef(c.ID)
	if spec.OTNTokenID != 0 {
		token, err := d.store.OTNTokenSecret(ctx, spec.OTNTokenID)
		if err != nil {
			d.log.Error("outbound: cannot open the OTN token", "message", c.ID, "error", err)
			return d.retry(c, o, meta.Transient, nil, "Cannot open the one-time notification token", false)
		}
		dr.To = adapters.Recipient{OTNToken: token}
	}
	out := dr.outbound()
	rates := channelRates(ch, out, d.cfg.RateHeadroom)
	if err := d.limiter.wait(waitCtx, rates); err != nil {
		if waitCtx.Err() == nil && ctx.Err() == nil {
			d.log.Error("outbound: rate limiter unavailable", "channel", ch.ID, "error", err)
		}
		return d.notAttempted(ch, o, 0)
	}
	select { // bounded like the rate wait, so a claim leaves within its lease or not at all
	case d.inflight <- struct{}{}:
	case <-waitCtx.Done():
		return d.notAttempted(ch, o, 0)
	}
	defer func() { <-d.inflight }()
	if auth.Load() { // a send of this job already learnt the token is dead
		return d.fail(o, nil, authTitle)
	}
	if !gate.pass(ctx, c) { // taken over by another worker, or the mark could not be written
		return d.notAttempted(ch, o, 0)
	}
	// The tokens were taken before the leaving mark's round trip: space the
	// requests again so those held up together do not reach Meta in a bunch.
	if err := d.limiter.space(ctx, rates); err != nil {
		return d.notAttempted(ch, o, 0) // shut down before the request left: its leaving mark is taken back with the outcome
	}
	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	start := time.Now()
	res, err := d.senders[ch.App].Send(sendCtx, creds, out)
	// Our deadline or a shutdown cut the call: the request may have left even
	// if the transport reports the write as failed.
	cutOff := sendCtx.Err() != nil
	cancel()
	d.m.graph.WithLabelValues(ch.App).Observe(time.Since(start).Seconds())
	o.At = d.cfg.Now()
	if err == nil {
		d.m.outcomes.WithLabelValues(ch.App, "sent").Inc()
		o.Sent, o.ExternalID = true, res.ExternalID
		return o
	}
	return d.failure(ctx, ch, c, spec, rates, err, o, auth, cutOff)
}
