package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
)

// authTitle is what agents see on a message Meta refused with 190.
const authTitle = "Meta rejected this channel's access token (190): reconnect the channel, then retry."

// failure applies the one classification of Graph errors (meta.Classify).
func (d *deliverer) failure(ctx context.Context, ch *models.Channel, c *models.OutboundClaim, spec sendSpec,
	rates []rateSpec, err error, o models.SendOutcome, auth *atomic.Bool, cutOff bool) models.SendOutcome {
	code, title := describe(err)
	var invalid *adapters.InvalidOutboundError
	if errors.As(err, &invalid) {
		d.m.outcomes.WithLabelValues(ch.App, "invalid").Inc()
		return d.fail(o, nil, "Cannot be sent as written: "+invalid.Field+": "+invalid.Reason)
	}
	class := meta.Classify(err)
	if class == meta.Transient && cutOff {
		class = meta.Ambiguous
	}
	d.m.outcomes.WithLabelValues(ch.App, string(class)).Inc()
	log := d.log.With("message", c.ID, "channel", ch.ID, "app", ch.App, "code", codeOf(code), "error", err)
	switch class {
	case meta.WindowClosed:
		if !spec.WindowUntil.IsZero() && o.At.Before(spec.WindowUntil) {
			d.m.drift.WithLabelValues(ch.App).Inc()
			log.Warn("policy drift: Meta says the window is closed, our facts say it is open",
				"identity", spec.IdentityID, "window_until", spec.WindowUntil, "at", o.At)
		}
		return d.fail(o, code, title)
	case meta.AuthExpired:
		if auth.CompareAndSwap(false, true) {
			d.needsReauth(ctx, ch, code, title)
		}
		return d.fail(o, code, authTitle)
	case meta.RateLimited:
		if throughputCode(codeOf(code)) {
			d.limiter.slowDown(context.WithoutCancel(ctx), rates)
		}
		return d.retry(c, o, class, code, title, false)
	case meta.Transient:
		return d.retry(c, o, class, code, title, false)
	case meta.Ambiguous:
		log.Warn("outbound: Meta may have accepted the send; reconciling before any resend")
		return d.retry(c, o, class, code, title, true)
	}
	log.Info("outbound: Meta refused the send")
	if codeOf(code) == codeMarketingOptOut {
		d.optedOut(ctx, ch, c, spec, o.At)
	}
	if spec.OTNTokenID != 0 && codeOf(code) == 100 {
		o.Spent = true // Meta refuses a token it no longer honours: never offer it again
	}
	return d.fail(o, code, title)
}

// codeMarketingOptOut is WhatsApp's refusal of marketing to a customer who
// stopped it: Meta knows of an opt-out we had not recorded.
const codeMarketingOptOut = 131050

// optedOut records the customer's marketing opt-out Meta told us of, so the
// policy refuses the next marketing send before it is queued.
func (d *deliverer) optedOut(ctx context.Context, ch *models.Channel, c *models.OutboundClaim, spec sendSpec, at time.Time) {
	id := c.Recipient.IdentityID
	if id == 0 {
		id = spec.IdentityID
	}
	if id == 0 {
		return
	}
	if err := d.store.SetMarketingOptOut(context.WithoutCancel(ctx), ch.BusinessID, id, &at, "whatsapp_error_131050"); err != nil {
		d.log.Error("outbound: cannot record the marketing opt-out Meta reported", "identity", id, "error", err)
	}
}

func (d *deliverer) fail(o models.SendOutcome, code *int, title string) models.SendOutcome {
	o.Sent, o.Failed, o.ErrorCode, o.ErrorTitle = false, true, code, title
	return o
}

// retry schedules another attempt, or gives up after MaxAttempts.
func (d *deliverer) retry(c *models.OutboundClaim, o models.SendOutcome, class meta.Class, code *int, title string, uncertain bool) models.SendOutcome {
	if c.Attempts >= d.cfg.MaxAttempts {
		msg := fmt.Sprintf("Gave up after %d attempts: %s", c.Attempts, title)
		if uncertain {
			msg += " (Meta may have received it)"
		}
		return d.fail(o, code, msg)
	}
	o.RetryAt = time.Now().Add(d.cfg.Backoff(class, codeOf(code), c.Attempts))
	o.Uncertain = uncertain
	return o
}

// notAttempted leaves a claimed message for the next run: nothing reached Meta.
func (d *deliverer) notAttempted(ch *models.Channel, o models.SendOutcome, after time.Duration) models.SendOutcome {
	d.m.outcomes.WithLabelValues(ch.App, "not_attempted").Inc()
	o.RetryAt, o.NotAttempted = time.Now().Add(after), true
	return o
}

// needsReauth marks the channel for agents and stops using its token.
func (d *deliverer) needsReauth(ctx context.Context, ch *models.Channel, code *int, title string) {
	d.forgetChannel(ch.ID)
	reason := fmt.Sprintf("Meta refused the access token (%d): %s", codeOf(code), title)
	if err := d.store.SetChannelState(context.WithoutCancel(ctx), ch.BusinessID, ch.ID, models.ChannelNeedsReauth, reason); err != nil {
		d.log.Error("outbound: cannot mark channel for re-authorisation", "channel", ch.ID, "error", err)
		return
	}
	d.log.Error("outbound: channel needs re-authorisation", "channel", ch.ID, "app", ch.App, "reason", reason)
}

// describe is Meta's code and the title agents see; network errors have no code.
func describe(err error) (*int, string) {
	var ge *meta.GraphError
	if errors.As(err, &ge) {
		title := ge.Title
		if title == "" {
			title = ge.Message
		}
		if title == "" {
			title = http.StatusText(ge.HTTPStatus)
		}
		if ge.Code == 0 {
			return nil, title
		}
		code := ge.Code
		return &code, title
	}
	var ne *meta.NetworkError
	if errors.As(err, &ne) {
		return nil, "Meta did not answer: " + ne.Err.Error()
	}
	return nil, err.Error()
}

func codeOf(code *int) int {
	if code == nil {
		return 0
	}
	return *code
}

// throughputCode reports a per-second cap of the account (not one customer's
// pair limit): every sender on the channel should slow down.
func throughputCode(code int) bool {
	return code == 130429 || code == 613 || code == 80007
}

// DefaultBackoff is how long a retryable send waits, by class and Meta code:
// a throughput refusal clears within a second or so, WhatsApp's pair limit
// allows one message per 6 s, and the rest follow meta.Backoff. All with jitter.
func DefaultBackoff(class meta.Class, code, attempt int) time.Duration {
	switch {
	case class == meta.RateLimited && throughputCode(code):
		return jittered(time.Second, time.Minute, attempt)
	case class == meta.RateLimited && code == 131056:
		return jittered(6*time.Second, 5*time.Minute, attempt)
	}
	return meta.Backoff(class, attempt)
}

// jittered doubles base per attempt up to ceiling and keeps at least half of it.
func jittered(base, ceiling time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + rand.N(d/2+1)
}
