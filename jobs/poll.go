package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// Limits of a poll we send.
const (
	MinPollOptions   = 2
	MaxPollOptions   = 10
	MaxPollOptionLen = 100 // characters
	MaxQuestionLen   = 300 // characters
	maxButtons       = 3   // WhatsApp reply buttons
	buttonTitleLen   = 20  // WhatsApp button and Messenger/Instagram quick-reply titles
	rowTitleLen      = 24  // WhatsApp list row title
	rowDescLen       = 72  // WhatsApp list row description
)

// pollErr is a poll's bad input (a *models.FieldError, as a campaign's):
// message in English for the API, key and args for the composer's reader.
func pollErr(field, message, key string, args ...any) error {
	return &models.FieldError{Field: field, Message: message, Key: key, Args: args}
}

// PollRequest is an agent's poll for a thread.
type PollRequest struct {
	BusinessID   int64
	ThreadID     int64
	AuthorUserID *int64
	Question     string
	Options      []string
	Multiple     bool
}

// validate refuses a poll that cannot be asked as written.
func (r *PollRequest) validate() error {
	r.Question = strings.TrimSpace(r.Question)
	switch n := len([]rune(r.Question)); {
	case n == 0:
		return pollErr("question", "empty", "poll.err.question_empty")
	case n > MaxQuestionLen:
		return pollErr("question", fmt.Sprintf("longer than %d characters", MaxQuestionLen), "poll.err.question_long", MaxQuestionLen)
	}
	if n := len(r.Options); n < MinPollOptions || n > MaxPollOptions {
		return pollErr("options", fmt.Sprintf("%d options; %d to %d allowed", n, MinPollOptions, MaxPollOptions),
			"poll.err.options_count", n, MinPollOptions, MaxPollOptions)
	}
	seen := map[string]bool{}
	for i, o := range r.Options {
		o = strings.TrimSpace(o)
		r.Options[i] = o
		field := "options[" + strconv.Itoa(i) + "]"
		switch {
		case o == "":
			return pollErr(field, "empty", "poll.err.option_empty", i+1)
		case len([]rune(o)) > MaxPollOptionLen:
			return pollErr(field, fmt.Sprintf("longer than %d characters", MaxPollOptionLen), "poll.err.option_long", i+1, MaxPollOptionLen)
		case seen[strings.ToLower(o)]:
			return pollErr(field, "the same as an earlier option", "poll.err.option_repeated", i+1)
		}
		seen[strings.ToLower(o)] = true
	}
	return nil
}

// Polls sends polls to any thread, each customer getting the richest form
// their app allows, every leg judged by the policy for its recipient.
type Polls struct{ r *Relay }

// Polls is the pipeline's poll service (web.Polls).
func (p *Pipeline) Polls() *Polls { return &Polls{r: p.Relay()} }

// Create stores the poll and sends it: in a relay group one leg per member on
// their direct thread (a refused leg is recorded, the others still go); in a
// direct or native group thread one message, or *RefusedError with nothing stored.
func (ps *Polls) Create(ctx context.Context, req PollRequest) (*models.PollTally, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	o := ps.r.o
	var pollID int64
	err := o.store.InTx(ctx, func(tx *models.Store) error {
		scs, err := tx.SendContexts(ctx, req.BusinessID, []int64{req.ThreadID}, false)
		if err != nil {
			return err
		}
		sc := scs[req.ThreadID]
		if sc == nil {
			return ErrNotFound
		}
		p := &models.Poll{BusinessID: req.BusinessID, ThreadID: req.ThreadID, Question: req.Question,
			Multiple: req.Multiple, CreatedBy: req.AuthorUserID}
		for _, text := range req.Options {
			p.Options = append(p.Options, models.PollOption{Text: text})
		}
		if err := tx.CreatePoll(ctx, p); err != nil {
			return err
		}
		pollID = p.ID
		if sc.Thread.Origin == "relay" {
			return ps.toGroup(ctx, tx, p)
		}
		return ps.toThread(ctx, tx, p, sc)
	})
	if err != nil {
		return nil, err
	}
	return o.store.Poll(ctx, req.BusinessID, pollID)
}

// toGroup posts the poll in a relay group and sends it to every member.
func (ps *Polls) toGroup(ctx context.Context, tx *models.Store, p *models.Poll) error {
	members, err := tx.RelayMembers(ctx, p.BusinessID, p.ThreadID)
	if err != nil {
		return err
	}
	gm, err := ps.r.groupMessage(ctx, tx, p.BusinessID, p.ThreadID, "poll", p.Question, p.CreatedBy)
	if err != nil {
		return err
	}
	if err := tx.SetPollMessage(ctx, p.ID, gm.ID); err != nil {
		return err
	}
	legs := make([]leg, len(members))
	for i, m := range members {
		legs[i] = pollLeg(tx.Cipher(), p, m.App, false, m.DirectThreadID)
		legs[i].member = m
	}
	_, err = ps.r.o.queueLegs(ctx, tx, p.BusinessID, legs, nil, func(res []legResult, costs []models.MessageCost) error {
		return recordLegs(ctx, tx, p.BusinessID, gm.ID, legs, res, costs)
	})
	return err
}

// toThread sends the poll as the thread's own message.
func (ps *Polls) toThread(ctx context.Context, tx *models.Store, p *models.Poll, sc *models.SendContext) error {
	if sc.Channel == nil {
		return &InvalidError{Message: "thread: no channel to send on"}
	}
	l := pollLeg(tx.Cipher(), p, sc.Channel.App, sc.Thread.Kind == "group", p.ThreadID)
	res, err := ps.r.o.queueLegs(ctx, tx, p.BusinessID, []leg{l}, nil, nil)
	if err != nil {
		return err
	}
	if res[0].msg == nil {
		return res[0].err
	}
	return tx.SetPollMessage(ctx, p.ID, res[0].msg.ID)
}

// pollLeg renders the poll for one recipient's app. Every form also lists the
// options numbered in full, since a bare number is a vote too: WhatsApp gets
// reply buttons (≤3) or a list (≤10); Messenger and Instagram quick replies;
// a WhatsApp group (no interactive messages there) only the numbered text.
func pollLeg(c *models.Cipher, p *models.Poll, app string, nativeGroup bool, threadID int64) leg {
	refs := make([]string, len(p.Options))
	for i, o := range p.Options {
		refs[i] = c.PollChoiceRef(p.BusinessID, p.ID, o.Position)
	}
	var b strings.Builder
	b.WriteString(p.Question)
	b.WriteString("\n")
	for _, o := range p.Options {
		fmt.Fprintf(&b, "\n%d. %s", o.Position, o.Text)
	}
	b.WriteString("\n\n")
	if nativeGroup {
		b.WriteString("Reply with the number of your choice.")
	} else {
		b.WriteString("Tap an option or reply with its number.")
	}
	if p.Multiple {
		b.WriteString(" You may choose more than one.")
	}
	l := leg{req: legRequest(p.BusinessID, threadID, policy.LegPoll, p.CreatedBy, b.String())}
	switch {
	case nativeGroup:
	case app == models.AppWhatsApp && len(p.Options) > maxButtons:
		rows := make([]ListRow, len(p.Options))
		for i, o := range p.Options {
			rows[i] = ListRow{ID: refs[i], Title: Shorten(o.Text, rowTitleLen)}
			if rows[i].Title != o.Text {
				rows[i].Description = Shorten(o.Text, rowDescLen)
			}
		}
		l.req.List = &ListRequest{Button: "Choose", Sections: []ListSection{{Rows: rows}}}
	default:
		for _, o := range p.Options {
			l.req.QuickReplies = append(l.req.QuickReplies, Shorten(o.Text, buttonTitleLen))
		}
		l.choiceIDs = refs
	}
	return l
}

// Shorten cuts s to at most n characters, ending in "…" when cut.
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// Close stops counting votes; with announce, the results go to everyone the
// poll went to (each leg policy-checked; a refused one is simply not sent).
func (ps *Polls) Close(ctx context.Context, businessID, pollID int64, announce bool) (*models.PollTally, error) {
	o := ps.r.o
	err := o.store.InTx(ctx, func(tx *models.Store) error {
		t, err := tx.Poll(ctx, businessID, pollID)
		if err != nil {
			return err
		}
		if t == nil {
			return ErrNotFound
		}
		closed, err := tx.ClosePoll(ctx, businessID, pollID, o.now())
		if err != nil || !closed || !announce {
			return err
		}
		return ps.announce(ctx, tx, t)
	})
	if err != nil {
		return nil, err
	}
	return o.store.Poll(ctx, businessID, pollID)
}

func (ps *Polls) announce(ctx context.Context, tx *models.Store, t *models.PollTally) error {
	text := ResultsText(t)
	th, err := tx.Thread(ctx, t.BusinessID, t.ThreadID)
	if err != nil || th == nil {
		return err
	}
	if th.Origin == "relay" {
		members, err := tx.RelayMembers(ctx, t.BusinessID, t.ThreadID)
		if err != nil {
			return err
		}
		gm, err := ps.r.groupMessage(ctx, tx, t.BusinessID, t.ThreadID, "text", text, t.CreatedBy)
		if err != nil {
			return err
		}
		return ps.r.fanOut(ctx, tx, gm, members, policy.LegPoll, func(*models.RelayMember) string { return text })
	}
	_, err = ps.r.o.queueLegs(ctx, tx, t.BusinessID, []leg{{req: legRequest(t.BusinessID, t.ThreadID, policy.LegPoll, nil, text)}}, nil, nil)
	return err
}

// ResultsText is a closed poll's results as every app can show them.
func ResultsText(t *models.PollTally) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Results: %s\n", t.Question)
	for i, o := range t.Options {
		fmt.Fprintf(&b, "\n%d. %s — %d", o.Position, o.Text, t.Counts[i])
	}
	return b.String()
}
