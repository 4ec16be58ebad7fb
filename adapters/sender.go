package adapters

import (
	"context"
	"encoding/json"
	"fmt"
)

// ChannelCreds is what a sender needs to speak for one business channel.
type ChannelCreds struct {
	App         App
	AccountID   string // Page id, Instagram account id, or WhatsApp phone_number_id
	AccessToken string
}

// SendResult is Meta's answer to a successful send.
type SendResult struct {
	ExternalID  string          `json:"external_id,omitempty"`  // mid or wamid; empty for sender actions
	RecipientID string          `json:"recipient_id,omitempty"` // PSID behind an OTN token, wa_id behind a phone
	Raw         json.RawMessage `json:"raw,omitempty"`
}

// Sender sends one Outbound on one channel.
type Sender interface {
	Send(ctx context.Context, ch ChannelCreds, out Outbound) (SendResult, error)
}

// InvalidOutboundError says an Outbound cannot be sent as it is; retrying will not help.
type InvalidOutboundError struct {
	App    App
	Field  string
	Reason string
}

func (e *InvalidOutboundError) Error() string {
	return fmt.Sprintf("%s: invalid outbound %s: %s", e.App, e.Field, e.Reason)
}

// Invalid builds an *InvalidOutboundError.
func Invalid(app App, field, format string, args ...any) error {
	return &InvalidOutboundError{App: app, Field: field, Reason: fmt.Sprintf(format, args...)}
}
