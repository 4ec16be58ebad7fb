// Package instagram speaks Instagram Direct, which rides on the Messenger
// Platform: the same webhook envelope under object "instagram" and the same
// Send API, with Instagram's limits.
package instagram

import (
	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/adapters/messenger"
	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// platform is Instagram's flavour: text up to 1,000 bytes of UTF-8, no
// one-time notifications, no utility templates
// (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api).
var platform = messenger.Platform{
	App:          adapters.Instagram,
	Object:       "instagram",
	MaxTextBytes: 1000,
}

// Parse reads an Instagram webhook body (object "instagram") into events.
func Parse(body []byte) ([]adapters.Event, error) { return platform.Parse(body) }

// BuildSend turns an Outbound into an Instagram Send API body.
func BuildSend(out adapters.Outbound) (any, error) { return platform.BuildSend(out) }

// NewSender returns an Instagram sender. For Instagram Login channels give it a
// client whose BaseURL is https://graph.instagram.com; the account id is the IG id.
func NewSender(graph *meta.Client) messenger.Sender {
	return messenger.Sender{Graph: graph, Platform: platform}
}
