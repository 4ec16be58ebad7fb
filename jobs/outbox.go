package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/pricing"
)

// ErrNotFound is returned for a thread or message the business does not have.
var ErrNotFound = models.ErrNotFound

// Outbox is the one way anything sends: the policy check, the message row and
// the durable job, in one transaction. It implements web.Outbox.
type Outbox struct {
	store  *models.Store
	insert *river.Client[*sql.Tx] // insert-only, over database/sql so jobs join gorm's transaction
	now    func() time.Time
	batch  int
	m      *metrics
	prices *pricing.Book // estimates each WhatsApp message's cost; nil: none
}

// plan is one request judged and built, ready to be written.
type plan struct {
	msg     *models.Message
	tokenID int64 // the OTN token to reserve
	verdict verdict
	cost    *models.MessageCost
	// participants a native WhatsApp group message goes to, by Meta's ids
	participants []string
}

// Send judges the request and queues it: 201-style success with the queued
// message, *RefusedError (nothing written), *InvalidError, or ErrNotFound.
func (o *Outbox) Send(ctx context.Context, req SendRequest) (*models.Message, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	var msg *models.Message
	err := o.store.InTx(ctx, func(tx *models.Store) error {
		scs, err := tx.SendContexts(ctx, req.BusinessID, []int64{req.ThreadID}, req.UseOTN)
		if err != nil {
			return err
		}
		p, err := o.plan(ctx, tx, &req, scs[req.ThreadID], newTemplateCache())
		if err != nil {
			return err
		}
		if _, err := tx.AddMessage(ctx, p.msg, p.msg.Attachments); err != nil {
			return err
		}
		if err := o.recordCosts(ctx, tx, p); err != nil {
			return err
		}
		if err := o.reserve(ctx, tx, p); err != nil {
			return err
		}
		job := sendArgs{BusinessID: req.BusinessID, ChannelID: *p.msg.ChannelID, MessageIDs: []int64{p.msg.ID}}
		if _, err := o.insert.InsertTx(ctx, sqlTx(tx), job, &river.InsertOpts{Queue: queueOutbound}); err != nil {
			return fmt.Errorf("jobs: unable to queue send of message %d: %w", p.msg.ID, err)
		}
		msg = p.msg
		return nil
	})
	o.count(msg, err)
	if err != nil {
		return nil, err
	}
	msg.Finish()
	return msg, nil
}

// SendResult is the outcome of one request of SendMany.
type SendResult struct {
	Message *models.Message
	Err     error // *RefusedError, *InvalidError or ErrNotFound; the others were still queued
}

// SendMany queues many requests of one business in one transaction, with
// their jobs batched per channel (campaigns, restock notifications). A request
// refused or invalid on its own leaves the others queued; an error from the
// database fails the whole batch.
func (o *Outbox) SendMany(ctx context.Context, reqs []SendRequest) ([]SendResult, error) {
	results := make([]SendResult, len(reqs))
	var threadIDs []int64
	var businessID int64
	for i := range reqs {
		if businessID == 0 {
			businessID = reqs[i].BusinessID
		}
		if reqs[i].BusinessID != businessID {
			return nil, &InvalidError{Message: "SendMany: all requests must belong to one business"}
		}
		results[i].Err = reqs[i].validate()
		threadIDs = append(threadIDs, reqs[i].ThreadID)
	}
	err := o.store.InTx(ctx, func(tx *models.Store) error {
		scs, err := tx.SendContexts(ctx, businessID, threadIDs, anyOTN(reqs))
		if err != nil {
			return err
		}
		var plans []*plan
		var msgs []*models.Message
		templates := newTemplateCache()
		for i := range reqs {
			if results[i].Err != nil {
				continue
			}
			p, err := o.plan(ctx, tx, &reqs[i], scs[reqs[i].ThreadID], templates)
			if err != nil {
				if !isRequestError(err) {
					return err
				}
				results[i].Err = err
				continue
			}
			plans, msgs = append(plans, p), append(msgs, p.msg)
			results[i].Message = p.msg
		}
		if err := tx.AddOutboundMessages(ctx, msgs); err != nil {
			return err
		}
		if err := o.recordCosts(ctx, tx, plans...); err != nil {
			return err
		}
		for _, p := range plans {
			if err := o.reserve(ctx, tx, p); err != nil {
				return err
			}
		}
		return o.insertBatches(ctx, tx, businessID, msgs)
	})
	if err != nil {
		return nil, err
	}
	for i := range results {
		o.count(results[i].Message, results[i].Err)
		if results[i].Message != nil {
			results[i].Message.Finish()
		}
	}
	return results, nil
}

// insertBatches inserts one job per BatchSize messages of a channel.
func (o *Outbox) insertBatches(ctx context.Context, tx *models.Store, businessID int64, msgs []*models.Message) error {
	byChannel := map[int64][]int64{}
	var order []int64
	for _, m := range msgs {
		ch := *m.ChannelID
		if _, ok := byChannel[ch]; !ok {
			order = append(order, ch)
		}
		byChannel[ch] = append(byChannel[ch], m.ID)
	}
	var params []river.InsertManyParams
	for _, ch := range order {
		ids := byChannel[ch]
		for len(ids) > 0 {
			n := min(len(ids), o.batch)
			params = append(params, river.InsertManyParams{
				Args:       sendArgs{BusinessID: businessID, ChannelID: ch, MessageIDs: ids[:n]},
				InsertOpts: &river.InsertOpts{Queue: queueBulk},
			})
			ids = ids[n:]
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := o.insert.InsertManyFastTx(ctx, sqlTx(tx), params); err != nil {
		return fmt.Errorf("jobs: unable to queue %d send jobs: %w", len(params), err)
	}
	return nil
}

// plan judges one request against its thread and builds the message row.
func (o *Outbox) plan(ctx context.Context, tx *models.Store, req *SendRequest, sc *models.SendContext, tc *templateCache) (*plan, error) {
	if sc == nil {
		return nil, ErrNotFound
	}
	ch := sc.Channel
	if ch == nil {
		return nil, &InvalidError{Message: "thread: a relay thread spans apps; send in one of its native threads"}
	}
	if len(req.Attachments) > 0 && strings.TrimSpace(req.Text) != "" && ch.App != models.AppWhatsApp {
		return nil, &InvalidError{Message: "text: on " + ch.App + " send the text and the attachment as two messages"}
	}
	spec := sendSpec{Human: req.human(), HumanAgent: req.HumanAgent, Tag: strings.ToUpper(req.Tag), Proactive: req.Proactive,
		Promotional: req.Promotional, QuickReplies: req.QuickReplies, ChoiceIDs: req.ChoiceIDs, List: req.List, OTNRequest: req.OTNRequest, UseOTN: req.UseOTN,
		Leg: req.Leg}
	text, err := o.templateText(ctx, tx, req, ch, tc, &spec)
	if err != nil {
		return nil, err
	}
	send := spec.intent(ch.App)
	v := decide(sc, send, o.now)
	if !v.Allowed {
		return nil, &RefusedError{Decision: v.Decision}
	}
	if req.HumanAgent && v.Tag != policy.TagHumanAgent && v.MessagingType == policy.MessagingMessageTag {
		return nil, &InvalidError{Message: "human_agent: this send would go under " + string(v.Tag) + ", not HUMAN_AGENT"}
	}
	p := &plan{verdict: v}
	if i, ok := v.OTNTokenIndex(); ok {
		p.tokenID = v.customer.Tokens[i].ID
		spec.OTNTokenID = p.tokenID
	}
	if v.customer != nil {
		spec.IdentityID = v.customer.Identity.ID
	}
	spec.WindowUntil = windowUntil(ch.App, send, v.Decision)
	if p.msg, err = o.row(ctx, tx, req, sc, v, spec, text); err != nil {
		return nil, err
	}
	if sc.Thread.Kind == "direct" {
		category := ""
		if spec.Template != nil {
			category = spec.Template.Category
		}
		windowOpen, freeEntry := false, false
		if v.customer != nil {
			now := o.now()
			windowOpen = policy.ForHumanReply(factsOf(ch, v.customer, policy.Send{}), now).Allowed
			freeEntry = now.Before(v.Decision.FreeEntryPointUntil)
		}
		if p.cost, err = o.estimate(ctx, ch, v.customer, category, windowOpen, freeEntry); err != nil {
			return nil, err
		}
	}
	if sc.Thread.Kind == "group" && sc.Thread.ExternalGroupID != nil && ch.App == models.AppWhatsApp {
		category := ""
		if spec.Template != nil {
			category = spec.Template.Category
		}
		p.participants = participantsOf(sc)
		if p.cost, err = o.estimateGroup(ctx, ch, sc, category, o.now().Before(v.Decision.ExpiresAt)); err != nil {
			return nil, err
		}
	}
	d := draftOf(p.msg, spec, sc)
	if p.tokenID != 0 {
		d.To = adapters.Recipient{OTNToken: "opened-by-the-worker"}
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return p, nil
}

// templateText resolves a template request against the channel's approved
// templates (into spec) and returns the text agents will read for the message.
func (o *Outbox) templateText(ctx context.Context, tx *models.Store, req *SendRequest, ch *models.Channel, tc *templateCache, spec *sendSpec) (string, error) {
	switch {
	case req.OTNRequest != nil:
		return req.OTNRequest.Title, nil
	case req.Template == nil:
		return req.Text, nil
	}
	t := req.Template
	tpl, err := tc.get(ctx, tx, req.BusinessID, ch.ID, t.Name, t.Language)
	if err != nil {
		return "", err
	}
	if tpl == nil {
		return "", &InvalidError{Message: fmt.Sprintf("template: no approved template %q (%s) on this channel", t.Name, t.Language)}
	}
	if ch.App == models.AppMessenger && tpl.Category != "utility" {
		return "", &InvalidError{Message: "template: Messenger sends only utility templates"}
	}
	if err := checkTemplateVariables(tpl, t.Variables); err != nil {
		return "", err
	}
	spec.Template = &templateSpec{Name: t.Name, Language: t.Language, Category: tpl.Category, Variables: t.Variables,
		Params: tpl.Parameters, Named: tpl.ParameterFormat == "named"}
	return templateMessageText(tpl, t.Variables), nil
}

// row is the queued message as stored, with the decision it goes out under.
func (o *Outbox) row(ctx context.Context, tx *models.Store, req *SendRequest, sc *models.SendContext, v verdict, spec sendSpec, text string) (*models.Message, error) {
	ch, now := sc.Channel, o.now()
	m := &models.Message{
		BusinessID: req.BusinessID, ThreadID: sc.Thread.ID, ChannelID: &ch.ID, Direction: models.DirectionOut,
		App: ch.App, Kind: req.kind(), Text: text, Details: spec.details(), AuthorUserID: req.AuthorUserID,
		SentAt: now, Status: models.StatusQueued, StatusAt: now, MessagingType: string(v.MessagingType),
		Tag: string(v.Tag), PolicyReason: string(v.Reason),
	}
	if req.ReplyToID != nil {
		ok, err := tx.MessageInThread(ctx, req.BusinessID, sc.Thread.ID, *req.ReplyToID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &InvalidError{Message: "reply_to_id: no such message in this thread"}
		}
		m.ReplyToID = req.ReplyToID
	}
	for _, a := range req.Attachments {
		caption := a.Caption
		if caption == "" {
			caption = text
		}
		if ch.App != models.AppWhatsApp {
			caption = "" // Messenger and Instagram media carry no caption
		}
		m.Attachments = append(m.Attachments, models.Attachment{Kind: a.Kind, URL: a.URL, Filename: a.Filename, Caption: caption})
		m.Text = caption
	}
	return m, nil
}

// draftOf is a message about to be queued as the worker will build it.
func draftOf(m *models.Message, spec sendSpec, sc *models.SendContext) *draft {
	var to adapters.Recipient
	if sc.Thread.Kind == "group" && sc.Thread.ExternalGroupID != nil {
		to = recipientOf(m.App, *sc.Thread.ExternalGroupID, "", "", "")
	}
	for i := range sc.Customers {
		if id := &sc.Customers[i].Identity; sc.Thread.DirectIdentityID != nil && id.ID == *sc.Thread.DirectIdentityID {
			to = recipientOf(m.App, "", id.ExternalID, id.Phone, id.BSUID)
		}
	}
	return &draft{ID: m.ID, App: m.App, Kind: m.Kind, Text: m.Text, Spec: spec, Attachments: m.Attachments,
		MessagingType: m.MessagingType, Tag: m.Tag, To: to}
}

// reserve promises the plan's OTN token to its message, in the queuing transaction.
func (o *Outbox) reserve(ctx context.Context, tx *models.Store, p *plan) error {
	if p.tokenID == 0 {
		return nil
	}
	ok, err := tx.ReserveOTNToken(ctx, p.tokenID, p.msg.ID)
	if err != nil {
		return err
	}
	if !ok { // SendContexts locked the tokens, so this means a bug, not a race
		return &RefusedError{Decision: policy.Decision{IdentityID: p.verdict.IdentityID, App: p.verdict.App, Reason: policy.ReasonOTNTokenUsed}}
	}
	return nil
}

// Decisions answers GET /policy: may a person reply now, one decision per
// customer participant (none for a relay thread).
func (o *Outbox) Decisions(ctx context.Context, businessID, threadID int64) ([]policy.Decision, error) {
	scs, err := o.store.SendContexts(ctx, businessID, []int64{threadID}, false)
	if err != nil {
		return nil, err
	}
	sc := scs[threadID]
	if sc == nil {
		return nil, ErrNotFound
	}
	out := []policy.Decision{}
	if sc.Channel == nil {
		return out, nil
	}
	now := o.now()
	for i := range sc.Customers {
		out = append(out, policy.ForHumanReply(factsOf(sc.Channel, &sc.Customers[i], policy.Send{}), now))
	}
	return out, nil
}

// Retry re-decides a failed or unknown outbound message and queues it again
// (the agent's "retry" and "send again"): same row and callback token, fresh
// decision, a new token if it spends one.
func (o *Outbox) Retry(ctx context.Context, businessID, messageID int64) (*models.Message, error) {
	var msg *models.Message
	err := o.store.InTx(ctx, func(tx *models.Store) error {
		var err error
		msg, err = o.retryTx(ctx, tx, businessID, messageID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// retryTx is Retry inside the caller's transaction (the restock cap retry
// claims its entry in the same one).
func (o *Outbox) retryTx(ctx context.Context, tx *models.Store, businessID, messageID int64) (*models.Message, error) {
	var msg *models.Message
	err := func() error {
		m, err := tx.Message(ctx, businessID, messageID)
		if err != nil {
			return err
		}
		if m == nil {
			return ErrNotFound
		}
		if m.Direction != models.DirectionOut || (m.Status != models.StatusFailed && m.Status != models.StatusUnknown) {
			return &InvalidError{Message: "message: only a failed or unknown outbound message can be sent again"}
		}
		if m.Status == models.StatusUnknown {
			adopted, err := adoptLateEcho(ctx, tx, m)
			if err != nil {
				return err
			}
			if adopted { // its echo came after all: the customer has it
				msg, err = tx.Message(ctx, businessID, m.ID)
				return err
			}
		}
		req := requestOf(m)
		if err := req.validate(); err != nil {
			return err
		}
		scs, err := tx.SendContexts(ctx, businessID, []int64{m.ThreadID}, req.UseOTN)
		if err != nil {
			return err
		}
		p, err := o.plan(ctx, tx, &req, scs[m.ThreadID], newTemplateCache())
		if err != nil {
			return err
		}
		ok, err := tx.RequeueUnsent(ctx, businessID, m.ID, models.Requeue{MessagingType: p.msg.MessagingType, Tag: p.msg.Tag,
			PolicyReason: p.msg.PolicyReason, Details: p.msg.Details, At: o.now()})
		if err != nil {
			return err
		}
		if !ok {
			return &InvalidError{Message: "message: no longer failed or unknown"}
		}
		p.msg.ID = m.ID
		if err := o.reserve(ctx, tx, p); err != nil {
			return err
		}
		job := sendArgs{BusinessID: businessID, ChannelID: *m.ChannelID, MessageIDs: []int64{m.ID}}
		if _, err := o.insert.InsertTx(ctx, sqlTx(tx), job, &river.InsertOpts{Queue: queueOutbound}); err != nil {
			return fmt.Errorf("jobs: unable to queue retry of message %d: %w", m.ID, err)
		}
		msg, err = tx.Message(ctx, businessID, m.ID)
		return err
	}()
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// requestOf rebuilds the request a queued message came from.
func requestOf(m *models.Message) SendRequest {
	s := specOf(m.Details)
	req := SendRequest{BusinessID: m.BusinessID, ThreadID: m.ThreadID, AuthorUserID: m.AuthorUserID, Automated: !s.Human,
		HumanAgent: s.HumanAgent, QuickReplies: s.QuickReplies, ChoiceIDs: s.ChoiceIDs, OTNRequest: s.OTNRequest, UseOTN: s.UseOTN,
		ReplyToID: m.ReplyToID, List: s.List, Tag: s.Tag, Proactive: s.Proactive, Promotional: s.Promotional, Leg: s.Leg}
	if t := s.Template; t != nil {
		req.Template = &TemplateRequest{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	switch {
	case req.Template != nil || req.OTNRequest != nil:
	case len(m.Attachments) > 0:
		a := m.Attachments[0]
		req.Attachments = []AttachmentRequest{{Kind: a.Kind, URL: a.URL, Filename: a.Filename, Caption: a.Caption}}
		if m.App == models.AppWhatsApp {
			req.Text = m.Text
		}
	default:
		req.Text = m.Text
	}
	return req
}

func (o *Outbox) count(msg *models.Message, err error) {
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		o.m.refused.WithLabelValues(string(refused.Decision.App), string(refused.Decision.Reason)).Inc()
	case msg != nil && err == nil:
		o.m.queued.WithLabelValues(msg.App).Inc()
	}
}

// isRequestError tells a problem with one request from a failure of the batch.
func isRequestError(err error) bool {
	var refused *RefusedError
	var invalid *InvalidError
	return errors.As(err, &refused) || errors.As(err, &invalid) || errors.Is(err, ErrNotFound)
}

func anyOTN(reqs []SendRequest) bool {
	for i := range reqs {
		if reqs[i].UseOTN {
			return true
		}
	}
	return false
}

// sqlTx is the database/sql transaction under a store bound by InTx, which is
// what River's insert-only client joins (riverqueue.com/docs/gorm).
func sqlTx(tx *models.Store) *sql.Tx {
	return tx.Gorm(context.Background()).Statement.ConnPool.(*sql.Tx)
}

// templateCache looks each template up once per batch.
type templateCache struct {
	byKey map[string]*models.WATemplate
}

func newTemplateCache() *templateCache { return &templateCache{byKey: map[string]*models.WATemplate{}} }

func (c *templateCache) get(ctx context.Context, tx *models.Store, businessID, channelID int64, name, language string) (*models.WATemplate, error) {
	key := fmt.Sprintf("%d|%s|%s", channelID, name, language)
	if t, ok := c.byKey[key]; ok {
		return t, nil
	}
	t, err := tx.ApprovedTemplate(ctx, businessID, channelID, name, language)
	if err != nil {
		return nil, err
	}
	c.byKey[key] = t
	return t, nil
}
