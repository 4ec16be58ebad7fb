package jobs

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
)

// sendSpec is how a queued message is to go out, kept in messages.details
// under "send": any worker on any replica builds the request from it, Retry
// re-decides from it, and the UI can show what was asked for.
type sendSpec struct {
	Human        bool          `json:"human,omitempty"`
	HumanAgent   bool          `json:"human_agent,omitempty"`
	Tag          string        `json:"tag,omitempty"` // the tag asked for; the decided one is messages.tag
	Proactive    bool          `json:"proactive,omitempty"`
	Promotional  bool          `json:"promotional,omitempty"`
	Template     *templateSpec `json:"template,omitempty"`
	QuickReplies []string      `json:"quick_replies,omitempty"`
	ChoiceIDs    []string      `json:"choice_ids,omitempty"` // the payloads of QuickReplies (poll options, restock:<SKU>); the titles otherwise
	List         *ListRequest  `json:"list,omitempty"`
	OTNRequest   *OTNRequest   `json:"otn_request,omitempty"`
	UseOTN       bool          `json:"use_otn,omitempty"`
	OTNTokenID   int64         `json:"otn_token_id,omitempty"` // the token this message spends
	IdentityID   int64         `json:"identity_id,omitempty"`  // the customer the decision was for
	// Leg marks a relay-group or poll leg: judged by policy.LegSend, when
	// queued and again before the Graph call.
	Leg *policy.LegAuthor `json:"leg,omitempty"`
	// WindowUntil is when the window (or HUMAN_AGENT's 7 days) this send relies
	// on closes by our facts; Meta refusing it earlier is a policy drift.
	WindowUntil time.Time `json:"window_until,omitzero"`
}

// templateSpec is a template send with the category the policy judged.
type templateSpec struct {
	Name      string   `json:"name"`
	Language  string   `json:"language"`
	Category  string   `json:"category"`
	Variables []string `json:"variables,omitempty"`
	// Params says where each variable goes (header, body, URL button) and
	// Named whether Meta wants them by name; empty for templates synced
	// without a parameter list.
	Params models.TemplateParams `json:"params,omitempty"`
	Named  bool                  `json:"named,omitempty"`
}

type detailsDoc struct {
	Send *sendSpec `json:"send,omitempty"`
}

func (s *sendSpec) details() models.JSON {
	b, _ := json.Marshal(detailsDoc{Send: s})
	return models.JSON(b)
}

// specOf reads the spec back; a message queued by something else has none.
func specOf(details models.JSON) sendSpec {
	var d detailsDoc
	if len(details) > 0 {
		_ = json.Unmarshal(details, &d)
	}
	if d.Send == nil {
		return sendSpec{}
	}
	return *d.Send
}

// renderTemplate fills a template body's {{1}}, {{2}}… with the variables, for
// the message text agents read; Meta renders the real one.
func renderTemplate(body string, vars []string) string {
	for i := len(vars); i >= 1; i-- { // from the end, so {{1}} does not eat {{10}}
		body = strings.ReplaceAll(body, "{{"+strconv.Itoa(i)+"}}", vars[i-1])
	}
	return body
}
