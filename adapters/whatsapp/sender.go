package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Sender sends through the Cloud API of one phone number.
type Sender struct {
	Graph *meta.Client
}

// NewSender returns a WhatsApp sender.
func NewSender(graph *meta.Client) Sender { return Sender{Graph: graph} }

// Send builds the request, posts it to /<phone-number-id>/messages and returns
// the wamid. Errors keep *meta.GraphError / *meta.NetworkError for meta.Classify.
func (s Sender) Send(ctx context.Context, ch adapters.ChannelCreds, out adapters.Outbound) (adapters.SendResult, error) {
	if ch.App != adapters.WhatsApp {
		return adapters.SendResult{}, fmt.Errorf("whatsapp sender given a %s channel", ch.App)
	}
	body, err := BuildSend(out)
	if err != nil {
		return adapters.SendResult{}, err
	}
	raw, err := s.Graph.PostMessages(ctx, ch.AccessToken, ch.AccountID, body)
	if err != nil {
		return adapters.SendResult{}, fmt.Errorf("whatsapp: send %s: %w", out.Kind, err)
	}
	var resp struct {
		Contacts []struct {
			WaID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	// A 2xx whose shape surprises us was still accepted: keep Raw, match the status later.
	_ = json.Unmarshal(raw, &resp)
	res := adapters.SendResult{Raw: raw}
	if len(resp.Messages) > 0 {
		res.ExternalID = resp.Messages[0].ID
	}
	if len(resp.Contacts) > 0 {
		res.RecipientID = resp.Contacts[0].WaID
	}
	return res, nil
}
