package messenger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Sender sends through the Send API of one Messenger Platform app.
type Sender struct {
	Graph    *meta.Client
	Platform Platform
}

// NewSender returns a Messenger sender.
func NewSender(graph *meta.Client) Sender { return Sender{Graph: graph, Platform: page} }

// Send builds the request, posts it to /<page-or-ig-id>/messages and returns
// Meta's ids. Errors keep *meta.GraphError / *meta.NetworkError for meta.Classify.
func (s Sender) Send(ctx context.Context, ch adapters.ChannelCreds, out adapters.Outbound) (adapters.SendResult, error) {
	if ch.App != s.Platform.App {
		return adapters.SendResult{}, fmt.Errorf("%s sender given a %s channel", s.Platform.App, ch.App)
	}
	body, err := s.Platform.BuildSend(out)
	if err != nil {
		return adapters.SendResult{}, err
	}
	raw, err := s.Graph.PostMessages(ctx, ch.AccessToken, ch.AccountID, body)
	if err != nil {
		return adapters.SendResult{}, fmt.Errorf("%s: send %s: %w", s.Platform.App, out.Kind, err)
	}
	var resp struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	// A 2xx whose shape surprises us was still accepted: keep Raw, match the echo later.
	_ = json.Unmarshal(raw, &resp)
	return adapters.SendResult{ExternalID: resp.MessageID, RecipientID: resp.RecipientID, Raw: raw}, nil
}
