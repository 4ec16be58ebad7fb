package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/riverqueue/river"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// Relay runs relay groups: a group hosted by the business whose members each
// write in their own chat with it, on their own app. Every message in the
// group is re-sent to the other members as one leg each, queued through the
// outbox on the member's direct thread and judged by the policy for that
// member alone; a refused leg is recorded with its reason, never sent.
type Relay struct {
	o *Outbox
	// mediaBase is BASE_URL: relayed media go out as signed links under it
	// (GET /relay-media/{ref}); empty, media are announced as text only.
	mediaBase string
}

// relayMediaLifetime is how long a relayed photo's link works: Meta fetches
// it when the leg is sent; a leg retried later than this cannot show it.
const relayMediaLifetime = 24 * time.Hour

// Relay is the pipeline's relay-group service (web.Groups, inbound.Relayer).
func (p *Pipeline) Relay() *Relay {
	return &Relay{o: p.outbox, mediaBase: strings.TrimRight(p.cfg.MediaBaseURL, "/")}
}

// leg is one message to queue on one member's direct thread.
type leg struct {
	member    models.RelayMember
	req       SendRequest
	choiceIDs []string     // payloads of the quick replies (poll options)
	then      *SendRequest // a second message right after (a relayed photo after its attribution), same policy
}

// legResult is what became of a leg: queued, or refused with its reason.
type legResult struct {
	msg     *models.Message
	then    *models.Message // the leg's second message, when it has one
	refusal string
	err     error // the outbox's *RefusedError or *InvalidError, when refused
}

// legRequest is a leg as an outbox request whose intent is policy.LegSend(author);
// the request fields say the same, so a worker re-deciding from the stored
// spec reaches the same answer.
func legRequest(businessID, threadID int64, author policy.LegAuthor, userID *int64, text string) SendRequest {
	a := author
	r := SendRequest{BusinessID: businessID, ThreadID: threadID, Text: text, Leg: &a}
	if author == policy.LegFromAgent && userID != nil {
		r.AuthorUserID = userID
	} else {
		r.Automated, r.Proactive = true, true
	}
	return r
}

// queueLegs judges and queues legs in tx: each allowed one becomes a queued
// message with its River job, each refused or invalid one a refusal. scs are
// the send contexts of the legs' threads when the caller has them (nil:
// loaded here); record, when set, stores the results with the legs' costs
// (else the costs are stored alone): the costs' insert upserts the
// business's spend row, whose lock the transaction then holds to its
// commit, so it comes last.
func (o *Outbox) queueLegs(ctx context.Context, tx *models.Store, businessID int64, legs []leg,
	scs map[int64]*models.SendContext, record func([]legResult, []models.MessageCost) error) ([]legResult, error) {
	out := make([]legResult, len(legs))
	if scs == nil {
		threadIDs := make([]int64, len(legs))
		for i := range legs {
			threadIDs[i] = legs[i].req.ThreadID
		}
		var err error
		if scs, err = tx.SendContexts(ctx, businessID, threadIDs, false); err != nil {
			return nil, err
		}
	}
	var msgs []*models.Message
	var plans []*plan
	templates := newTemplateCache()
	for i := range legs {
		req := &legs[i].req
		if err := req.validate(); err != nil {
			out[i].refusal, out[i].err = "invalid", err
			continue
		}
		p, err := o.plan(ctx, tx, req, scs[req.ThreadID], templates)
		var refused *RefusedError
		switch {
		case errors.As(err, &refused):
			out[i].refusal, out[i].err = string(refused.Decision.Reason), err
		case err != nil && isRequestError(err):
			out[i].refusal, out[i].err = "invalid", err
		case err != nil:
			return nil, err
		}
		o.count(p.msgOrNil(), err)
		if err != nil {
			continue
		}
		if ids := legs[i].choiceIDs; len(ids) > 0 {
			spec := specOf(p.msg.Details)
			spec.ChoiceIDs = ids
			p.msg.Details = spec.details()
		}
		out[i].msg = p.msg
		msgs, plans = append(msgs, p.msg), append(plans, p)
		if then := legs[i].then; then != nil {
			var tp *plan
			err := then.validate()
			if err == nil {
				tp, err = o.plan(ctx, tx, then, scs[then.ThreadID], templates)
			}
			var refused *RefusedError
			switch {
			case err == nil:
				out[i].then = tp.msg
				msgs, plans = append(msgs, tp.msg), append(plans, tp)
			case errors.As(err, &refused), isRequestError(err): // that app cannot take these media: the attribution alone went
			default:
				return nil, err
			}
		}
	}
	if err := tx.AddOutboundMessages(ctx, msgs); err != nil {
		return nil, err
	}
	var params []river.InsertManyParams
	for _, r := range out { // one job per leg: legs go to different people on different channels
		if r.msg == nil {
			continue
		}
		ids := []int64{r.msg.ID}
		if r.then != nil {
			ids = append(ids, r.then.ID)
		}
		params = append(params, river.InsertManyParams{
			Args:       sendArgs{BusinessID: businessID, ChannelID: *r.msg.ChannelID, MessageIDs: ids},
			InsertOpts: &river.InsertOpts{Queue: queueOutbound},
		})
	}
	if len(params) > 0 {
		if _, err := o.insert.InsertManyFastTx(ctx, sqlTx(tx), params); err != nil {
			return nil, fmt.Errorf("jobs: unable to queue %d relay legs: %w", len(params), err)
		}
	}
	costs, err := costsOf(ctx, tx, plans) // a WhatsApp leg is a service message with its price
	if err != nil {
		return nil, err
	}
	if record != nil {
		err = record(out, costs)
	} else {
		err = tx.RecordMessageCosts(ctx, costs)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (p *plan) msgOrNil() *models.Message {
	if p == nil {
		return nil
	}
	return p.msg
}

// recordLegs stores the legs of a group message with their costs, in one round trip.
func recordLegs(ctx context.Context, tx *models.Store, businessID, groupMessageID int64, legs []leg, res []legResult, costs []models.MessageCost) error {
	rows := make([]models.RelayLeg, len(legs))
	for i := range legs {
		rows[i] = models.RelayLeg{BusinessID: businessID, GroupMessageID: groupMessageID,
			IdentityID: legs[i].member.ID, Refusal: res[i].refusal}
		if res[i].msg != nil {
			rows[i].LegMessageID = &res[i].msg.ID
		}
	}
	return tx.AddRelayLegs(ctx, rows, costs)
}

// groupMessage stores a message of the business in the group thread itself:
// an agent's text, a poll, or a notice (someone joined or left).
func (r *Relay) groupMessage(ctx context.Context, tx *models.Store, businessID, groupID int64, kind, text string, userID *int64) (*models.Message, error) {
	now := r.o.now()
	m := &models.Message{BusinessID: businessID, ThreadID: groupID, Direction: models.DirectionOut, App: models.AppRelay,
		Kind: kind, Text: text, AuthorUserID: userID, SentAt: now, Status: models.StatusSent, StatusAt: now}
	if _, err := tx.AddMessage(ctx, m, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// fanOut sends the group message's legs (built per member by text) and records them.
func (r *Relay) fanOut(ctx context.Context, tx *models.Store, gm *models.Message, members []models.RelayMember,
	author policy.LegAuthor, text func(m *models.RelayMember) string) error {
	return r.fanOutQuoting(ctx, tx, gm, members, nil, author, text, nil, nil)
}

// fanOutQuoting is fanOut with each member's leg quoting their copy of an
// earlier message (replyTo: member identity → their leg message); scs are
// the members' send contexts when the caller loaded them (nil: loaded here).
func (r *Relay) fanOutQuoting(ctx context.Context, tx *models.Store, gm *models.Message, members []models.RelayMember,
	scs map[int64]*models.SendContext, author policy.LegAuthor, text func(m *models.RelayMember) string, replyTo map[int64]int64, media *models.Attachment) error {
	legs := make([]leg, 0, len(members))
	for _, m := range members {
		l := leg{member: m, req: legRequest(gm.BusinessID, m.DirectThreadID, author, gm.AuthorUserID, text(&m))}
		if id, ok := replyTo[m.ID]; ok {
			l.req.ReplyToID = &id
		}
		if media != nil {
			r.withMedia(&l, gm, author, media)
		}
		legs = append(legs, l)
	}
	_, err := r.o.queueLegs(ctx, tx, gm.BusinessID, legs, scs, func(res []legResult, costs []models.MessageCost) error {
		return recordLegs(ctx, tx, gm.BusinessID, gm.ID, legs, res, costs)
	})
	return err
}

// CreateGroup opens a relay group and tells each member they joined.
func (r *Relay) CreateGroup(ctx context.Context, businessID int64, userID *int64, title string, identityIDs []int64) (*models.Thread, error) {
	var t *models.Thread
	err := r.o.store.InTx(ctx, func(tx *models.Store) error {
		var err error
		if t, err = tx.CreateRelayGroup(ctx, businessID, title, identityIDs, r.o.now()); err != nil {
			return err
		}
		if t.Title == "" {
			t.Title = "Group " + strconv.FormatInt(t.ID, 10)
			if err := tx.SetThreadTitle(ctx, businessID, t.ID, t.Title); err != nil {
				return err
			}
		}
		return r.join(ctx, tx, t, nil, userID)
	})
	return t, err
}

// AddMember adds a customer to a relay group and tells them.
func (r *Relay) AddMember(ctx context.Context, businessID, groupID, identityID int64, userID *int64) error {
	return r.o.store.InTx(ctx, func(tx *models.Store) error {
		if err := tx.AddRelayMember(ctx, businessID, groupID, identityID, r.o.now()); err != nil {
			return err
		}
		t, err := tx.Thread(ctx, businessID, groupID)
		if err != nil {
			return err
		}
		return r.join(ctx, tx, t, &identityID, userID)
	})
}

// join notes in the group who joined (only: all members when nil) and sends
// each newcomer how the group works and how to leave.
func (r *Relay) join(ctx context.Context, tx *models.Store, t *models.Thread, only *int64, userID *int64) error {
	members, err := tx.RelayMembers(ctx, t.BusinessID, t.ID)
	if err != nil {
		return err
	}
	var joined []models.RelayMember
	for _, m := range members {
		if only == nil || m.ID == *only {
			joined = append(joined, m)
		}
	}
	names := make([]string, len(joined))
	for i := range joined {
		names[i] = joined[i].Name()
	}
	leave, err := tx.RelayLeaveWords(ctx, t.BusinessID)
	if err != nil {
		return err
	}
	gm, err := r.groupMessage(ctx, tx, t.BusinessID, t.ID, "system", strings.Join(names, ", ")+" joined", userID)
	if err != nil {
		return err
	}
	return r.fanOut(ctx, tx, gm, joined, policy.LegFromCustomer, func(m *models.RelayMember) string {
		return joinText(t.Title, m, members, leave)
	})
}

// joinText tells a new member who is in the group and how to leave it.
func joinText(title string, m *models.RelayMember, members []models.RelayMember, leave []string) string {
	var others []string
	for i := range members {
		if members[i].ID != m.ID {
			others = append(others, members[i].Name()+" ("+appName(members[i].App)+")")
		}
	}
	return fmt.Sprintf("You joined the group “%s” with %s. What you write here is shared with them. Reply %s to leave.",
		title, strings.Join(others, ", "), strings.Join(upper(leave), " or "))
}

// RemoveMember takes a customer out of a relay group (an agent's action or
// their leave keyword) and tells them.
func (r *Relay) RemoveMember(ctx context.Context, businessID, groupID, identityID int64, userID *int64) error {
	return r.o.store.InTx(ctx, func(tx *models.Store) error { return r.remove(ctx, tx, businessID, groupID, identityID, userID) })
}

func (r *Relay) remove(ctx context.Context, tx *models.Store, businessID, groupID, identityID int64, userID *int64) error {
	members, err := tx.RelayMembers(ctx, businessID, groupID)
	if err != nil {
		return err
	}
	var leaver *models.RelayMember
	for i := range members {
		if members[i].ID == identityID {
			leaver = &members[i]
		}
	}
	if leaver == nil {
		return models.ErrNotFound
	}
	if _, err := tx.RemoveRelayMember(ctx, businessID, groupID, identityID, r.o.now()); err != nil {
		return err
	}
	t, err := tx.Thread(ctx, businessID, groupID)
	if err != nil {
		return err
	}
	gm, err := r.groupMessage(ctx, tx, businessID, groupID, "system", leaver.Name()+" left", userID)
	if err != nil {
		return err
	}
	return r.fanOut(ctx, tx, gm, []models.RelayMember{*leaver}, policy.LegFromCustomer, func(*models.RelayMember) string {
		return fmt.Sprintf("You left the group “%s”. What you write here now goes to us only.", t.Title)
	})
}

// Post is an agent's message in a relay group: stored in the group, and one
// leg to every member, each under that member's own policy.
func (r *Relay) Post(ctx context.Context, businessID, groupID int64, userID *int64, text string) (*models.Message, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, &InvalidError{Message: "text: empty message"}
	}
	var gm *models.Message
	err := r.o.store.InTx(ctx, func(tx *models.Store) error {
		members, err := tx.RelayMembers(ctx, businessID, groupID)
		if err != nil {
			return err
		}
		if gm, err = r.groupMessage(ctx, tx, businessID, groupID, "text", text, userID); err != nil {
			return err
		}
		return r.fanOut(ctx, tx, gm, members, policy.LegFromAgent, func(*models.RelayMember) string { return text })
	})
	if err != nil {
		return nil, err
	}
	gm.Finish()
	return gm, nil
}

// RelayTx handles a member's message that ingest stored in their relay group
// (inside the ingest's transaction): a leave keyword takes them out; anything
// else goes to every other member with the sender's name.
func (r *Relay) RelayTx(ctx context.Context, tx *models.Store, m *models.Message) error {
	if m.SenderIdentityID == nil {
		return nil
	}
	if m.Kind == "text" {
		leave, err := isLeave(ctx, tx, m.BusinessID, m.Text)
		if err != nil {
			return err
		}
		if leave {
			return r.remove(ctx, tx, m.BusinessID, m.ThreadID, *m.SenderIdentityID, nil)
		}
	}
	// The members and their send contexts in one round trip.
	members, scs, err := tx.RelayMembersToSend(ctx, m.BusinessID, m.ThreadID)
	if err != nil {
		return err
	}
	var sender *models.RelayMember
	others := members[:0:0]
	for i := range members {
		if members[i].ID == *m.SenderIdentityID {
			sender = &members[i]
		} else {
			others = append(others, members[i])
		}
	}
	if sender == nil {
		return nil // left meanwhile
	}
	text := RelayText(sender.Name(), m)
	if text == "" {
		return nil
	}
	// A quoted reply stays quoted: each leg quotes that member's own copy of
	// the quoted message; a member without one (it was theirs) gets a short quote.
	media := r.relayable(m)
	same := func(*models.RelayMember) string { return text }
	if m.ReplyToID == nil && m.ReplyToExternalID == "" { // quotes nothing: no lookup
		return r.fanOutQuoting(ctx, tx, m, others, scs, policy.LegFromCustomer, same, nil, media)
	}
	quoted, quotedText, err := tx.QuotedInGroup(ctx, m.ID)
	if err != nil || quoted == 0 {
		if err != nil {
			return err
		}
		return r.fanOutQuoting(ctx, tx, m, others, scs, policy.LegFromCustomer, same, nil, media)
	}
	copies, err := tx.LegMessages(ctx, quoted)
	if err != nil {
		return err
	}
	return r.fanOutQuoting(ctx, tx, m, others, scs, policy.LegFromCustomer, func(o *models.RelayMember) string {
		if _, ok := copies[o.ID]; ok {
			return text
		}
		return "↩ “" + Shorten(quotedText, 40) + "”\n" + text
	}, copies, media)
}

// relayable is the message's media that go out again by a signed link, or
// nil (no BASE_URL, no stored attachment, or a kind only announced: stickers).
func (r *Relay) relayable(m *models.Message) *models.Attachment {
	if r.mediaBase == "" || len(m.Attachments) == 0 {
		return nil
	}
	a := &m.Attachments[0]
	switch {
	case a.ID == 0 || (a.MediaID == "" && a.URL == ""):
		return nil
	case a.Kind == "image", a.Kind == "video", a.Kind == "audio", a.Kind == "file":
		return a
	}
	return nil
}

// withMedia makes the leg re-send the media by a signed link under BASE_URL,
// in the form the member's app takes: on WhatsApp a photo, video or document
// carries the attribution as its caption (one message); elsewhere, and for
// WhatsApp audio (no caption), the attribution goes first and the media
// right after it, in the same job.
func (r *Relay) withMedia(l *leg, gm *models.Message, author policy.LegAuthor, a *models.Attachment) {
	link := r.mediaBase + "/relay-media/" + r.o.store.Cipher().MediaRef(gm.BusinessID, a.ID, time.Now().Add(relayMediaLifetime)) // real time: Meta fetches it now
	media := AttachmentRequest{Kind: a.Kind, URL: link, Filename: a.Filename}
	if l.member.App == models.AppWhatsApp && a.Kind != "audio" {
		media.Caption = l.req.Text
		l.req.Attachments = []AttachmentRequest{media}
		return
	}
	then := legRequest(gm.BusinessID, l.member.DirectThreadID, author, gm.AuthorUserID, "")
	then.Attachments = []AttachmentRequest{media}
	l.then = &then
}

func upper(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.ToUpper(w)
	}
	return out
}

// isLeave reports whether text is only one of the business's leave words;
// only a one-word message costs the lookup.
func isLeave(ctx context.Context, tx *models.Store, businessID int64, text string) (bool, error) {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!"))
	if t == "" || len([]rune(t)) > models.MaxLeaveWordLen || strings.ContainsFunc(t, unicode.IsSpace) {
		return false, nil
	}
	words, err := tx.RelayLeaveWords(ctx, businessID)
	return slices.Contains(words, t), err
}

// RelayText is a member's message as the others read it: attributed, in the
// form every app can show (text). Media are re-sent after it, or as its
// caption, where BASE_URL is set (withMedia).
func RelayText(sender string, m *models.Message) string {
	what := strings.TrimSpace(m.Text)
	switch m.Kind {
	case "text", "interactive_reply", "postback", "story_reply":
	case "image", "video", "audio", "file", "sticker":
		kind := map[string]string{"image": "a photo", "video": "a video", "audio": "a voice message", "file": "a file", "sticker": "a sticker"}[m.Kind]
		if what != "" {
			return sender + " sent " + kind + ": " + what
		}
		return sender + " sent " + kind
	case "location":
		return sender + " shared a location" + suffix(what) + mapLink(m.Details)
	case "reaction", "system", "poll", "poll_vote", "unsupported":
		return "" // not relayed as noise; shown on the group message in the inbox
	default:
		if what == "" {
			return sender + " sent a " + strings.ReplaceAll(m.Kind, "_", " ")
		}
	}
	if what == "" {
		return ""
	}
	return sender + ": " + what
}

// mapLink is a shared location's map, on a line of its own: no app takes a
// location from a business on every channel, every app shows a link.
func mapLink(details models.JSON) string {
	var d struct {
		Location *adapters.Location `json:"location"`
	}
	if json.Unmarshal(details, &d) != nil || d.Location == nil || (d.Location.Latitude == 0 && d.Location.Longitude == 0) {
		return ""
	}
	return "\n" + d.Location.MapURL()
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func appName(app string) string {
	switch app {
	case models.AppWhatsApp:
		return "WhatsApp"
	case models.AppInstagram:
		return "Instagram"
	}
	return "Messenger"
}

// Reach is whether a member can be reached now, and until when.
type Reach struct {
	Member models.RelayMember
	Relay  policy.Decision // a relayed member's message
	Agent  policy.Decision // an agent's own message
}

// Reach judges, for each member, a relayed message and an agent's message now.
func (r *Relay) Reach(ctx context.Context, businessID, groupID int64) ([]Reach, error) {
	var out []Reach
	err := r.o.store.InTx(ctx, func(tx *models.Store) error {
		members, err := tx.RelayMembers(ctx, businessID, groupID)
		if err != nil {
			return err
		}
		ids := make([]int64, len(members))
		for i := range members {
			ids[i] = members[i].DirectThreadID
		}
		scs, err := tx.SendContexts(ctx, businessID, ids, false)
		if err != nil {
			return err
		}
		now := r.o.now()
		for _, m := range members {
			sc := scs[m.DirectThreadID]
			if sc == nil || sc.Channel == nil {
				continue
			}
			var c *models.SendCustomer
			for i := range sc.Customers {
				if sc.Customers[i].Identity.ID == m.ID {
					c = &sc.Customers[i]
				}
			}
			f := factsOf(sc.Channel, c, policy.Send{})
			out = append(out, Reach{Member: m,
				Relay: policy.DecideLeg(f, policy.LegFromCustomer, now), Agent: policy.DecideLeg(f, policy.LegFromAgent, now)})
		}
		return nil
	})
	return out, err
}
