package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// Signal queues a reaction, read receipt or typing indicator on a direct
// thread. Like a message it needs a policy that lets this sender reach the
// customer now (WhatsApp's read receipts aside, which are not messages).
func (o *Outbox) Signal(ctx context.Context, req SignalRequest) error {
	return o.store.InTx(ctx, func(tx *models.Store) error {
		scs, err := tx.SendContexts(ctx, req.BusinessID, []int64{req.ThreadID}, false)
		if err != nil {
			return err
		}
		sc := scs[req.ThreadID]
		if sc == nil {
			return ErrNotFound
		}
		if sc.Channel == nil || sc.Thread.Kind != "direct" || len(sc.Customers) == 0 {
			return &InvalidError{Message: "thread: reactions, read receipts and typing go to one customer's direct thread"}
		}
		ch, c := sc.Channel, &sc.Customers[0]
		a := signalArgs{BusinessID: req.BusinessID, ChannelID: ch.ID, At: time.Now(), Emoji: req.Emoji,
			To: recipientOf(ch.App, "", c.Identity.ExternalID, c.Identity.Phone, c.Identity.BSUID)}
		switch req.Action {
		case SignalReact:
			a.Action = string(adapters.OutReaction)
		case SignalMarkSeen, SignalTypingOn, SignalTypingOff:
			a.Action = string(req.Action)
		default:
			return &InvalidError{Message: fmt.Sprintf("action: unknown signal %q", req.Action)}
		}
		whatsappReceipt := ch.App == models.AppWhatsApp && req.Action != SignalReact
		if req.Action == SignalTypingOff && ch.App == models.AppWhatsApp {
			return nil // WhatsApp clears "typing…" by itself
		}
		if !whatsappReceipt {
			send := policy.Send{Kind: policy.SendAutomated}
			if req.AuthorUserID != nil {
				send.Kind = policy.SendHumanReply
			}
			if d := policy.Decide(factsOf(ch, c, send), o.now()); !d.Allowed {
				return &RefusedError{Decision: d}
			}
		}
		if err := o.signalTarget(ctx, tx, req, ch, &a); err != nil {
			return err
		}
		if _, err := o.insert.InsertTx(ctx, sqlTx(tx), a, &river.InsertOpts{Queue: queueOutbound, MaxAttempts: 3}); err != nil {
			return fmt.Errorf("jobs: unable to queue %s: %w", a.Action, err)
		}
		return nil
	})
}

// signalTarget finds the message a reaction or read receipt points at, and
// keeps an agent's reaction on it.
func (o *Outbox) signalTarget(ctx context.Context, tx *models.Store, req SignalRequest, ch *models.Channel, a *signalArgs) error {
	needsTarget := req.Action == SignalReact || ch.App == models.AppWhatsApp
	if !needsTarget {
		return nil
	}
	if req.MessageID == 0 {
		if req.Action == SignalReact {
			return &InvalidError{Message: "message_id: a reaction needs the message it reacts to"}
		}
		ext, err := tx.LatestInbound(ctx, req.BusinessID, req.ThreadID)
		if err != nil {
			return err
		}
		if ext == "" {
			return &InvalidError{Message: "thread: the customer has sent nothing to mark read"}
		}
		a.Target = ext
		return nil
	}
	m, err := tx.Message(ctx, req.BusinessID, req.MessageID)
	if err != nil {
		return err
	}
	if m == nil || m.ThreadID != req.ThreadID {
		return &InvalidError{Message: "message_id: no such message in this thread"}
	}
	if m.ExternalID == nil {
		return &InvalidError{Message: "message_id: the message has not reached Meta yet"}
	}
	a.Target = *m.ExternalID
	if req.Action == SignalReact && req.AuthorUserID != nil {
		return tx.SetUserReaction(ctx, m.ID, *req.AuthorUserID, req.Emoji, o.now())
	}
	return nil
}

// signal sends a reaction, read receipt or typing indicator.
func (d *deliverer) signal(ctx context.Context, a signalArgs) error {
	if a.Action != string(adapters.OutReaction) && time.Since(a.At) > time.Minute {
		return nil // a stale "typing…" or read receipt helps nobody
	}
	ch, creds, err := d.channel(ctx, a.BusinessID, a.ChannelID)
	if err != nil {
		return err
	}
	if unusable(ch) != "" {
		return nil
	}
	out := adapters.Outbound{Kind: adapters.OutboundKind(a.Action), To: a.To, TargetExternalID: a.Target, Reaction: a.Emoji}
	rates := channelRates(ch, out, d.cfg.RateHeadroom)
	if err := d.limiter.wait(ctx, rates); err != nil {
		return err
	}
	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	_, err = d.senders[ch.App].Send(sendCtx, creds, out)
	cancel()
	if err == nil {
		return nil
	}
	class := meta.Classify(err)
	switch {
	case class.Retryable():
		if class == meta.RateLimited {
			d.limiter.slowDown(context.WithoutCancel(ctx), rates)
		}
		return err
	case class == meta.AuthExpired:
		code, title := describe(err)
		d.needsReauth(ctx, ch, code, title)
	default:
		d.log.Info("outbound: Meta refused a signal", "action", a.Action, "channel", ch.ID, "error", err)
	}
	return river.JobCancel(err)
}
