// Package messenger speaks the Messenger Platform: Facebook Page messaging and,
// through the same envelope and Send API, Instagram Direct (package instagram
// configures a Platform for it).
package messenger

import (
	"github.com/switchboard-inbox/switchboard/adapters"
)

// Platform is one app on the Messenger Platform. Messenger and Instagram share
// the webhook envelope and the Send API and differ in the details held here.
type Platform struct {
	App    adapters.App
	Object string // the webhook's "object": page or instagram
	// MaxTextRunes and MaxTextBytes bound message text; zero means no bound.
	MaxTextRunes int
	MaxTextBytes int
	// OneTimeNotif: the app has one-time notification requests and tokens.
	OneTimeNotif bool
	// UtilityTemplates: the app takes message.template (Messenger utility messages).
	UtilityTemplates bool
}

// page is Facebook Messenger: text up to 2,000 characters (Send API reference).
var page = Platform{
	App:              adapters.Messenger,
	Object:           "page",
	MaxTextRunes:     2000,
	OneTimeNotif:     true,
	UtilityTemplates: true,
}

// Parse reads a Messenger webhook body (object "page") into events.
func Parse(body []byte) ([]adapters.Event, error) { return page.Parse(body) }

// BuildSend turns an Outbound into a Messenger Send API body.
func BuildSend(out adapters.Outbound) (any, error) { return page.BuildSend(out) }
