package inbound

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// Relayer re-sends a relay group member's message to the other members,
// inside the ingest's transaction (implemented by jobs.Relay).
type Relayer interface {
	RelayTx(ctx context.Context, tx *models.Store, m *models.Message) error
}

// relayThread is where a customer's message lands: while they are in a
// relay group, their own chat is their window into it.
func (a *applier) relayThread(tx *models.Store, id *models.Identity, t *models.Thread, ev *adapters.Event) (*models.Thread, error) {
	if a.p.Relay == nil || ev.GroupID != "" {
		return t, nil
	}
	g, err := tx.RelayGroupOf(a.ctx, id.ID)
	if err != nil || g == nil {
		return t, err
	}
	return g, nil
}

// afterInbound counts a vote, or relays a group member's message to the others.
func (a *applier) afterInbound(tx *models.Store, ch *models.Channel, t *models.Thread, id *models.Identity, m *models.Message, ev *adapters.Event) error {
	voted, err := a.vote(tx, ch, t, id, m, ev)
	if err != nil || voted {
		return err
	}
	if t.Origin == "relay" && a.p.Relay != nil {
		return a.p.Relay.RelayTx(a.ctx, tx, m)
	}
	return nil
}

// vote counts the tap on a poll option we sent (its signed payload) or a
// text that is only an option's number while a poll of the thread is open.
// A payload of another poll, thread or business, or a vote on a closed poll,
// stays a message and is not counted. voted reports it was an answer to a
// poll, which is never relayed.
func (a *applier) vote(tx *models.Store, ch *models.Channel, t *models.Thread, id *models.Identity, m *models.Message, ev *adapters.Event) (voted bool, err error) {
	v := models.Vote{BusinessID: ch.BusinessID, IdentityID: id.ID, App: ch.App, At: ev.Timestamp}
	switch payload := choicePayload(ev.Message); {
	case strings.HasPrefix(payload, "poll:"):
		b, pollID, n, ok := tx.Cipher().ParsePollChoiceRef(payload)
		if !ok || b != ch.BusinessID {
			return true, nil
		}
		p, err := tx.Poll(a.ctx, ch.BusinessID, pollID)
		if err != nil || p == nil || p.ThreadID != t.ID {
			return true, err
		}
		v.PollID, v.Position = pollID, n
	default:
		n, ok := optionNumber(m)
		if !ok {
			return false, nil
		}
		p, err := tx.OpenPollIn(a.ctx, ch.BusinessID, []int64{t.ID})
		if err != nil || p == nil || n > len(p.Options) {
			return false, err
		}
		v.PollID, v.Position = p.ID, n
	}
	err = tx.CastVote(a.ctx, v)
	if errors.Is(err, models.ErrPollClosed) || errors.Is(err, models.ErrNotFound) {
		return true, nil
	}
	return true, err
}

// choicePayload is the developer payload of a quick reply or postback, or the
// id of a WhatsApp button or list row.
func choicePayload(msg *adapters.Message) string {
	if msg.Details.Payload != "" {
		return msg.Details.Payload
	}
	if in := msg.Details.Interactive; in != nil {
		return in.ID
	}
	return ""
}

// optionNumber reads a text that is only a number ("2", " 2. ").
func optionNumber(m *models.Message) (int, bool) {
	if m.Kind != "text" {
		return 0, false
	}
	s := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(m.Text), ".)"))
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}
