package adapters

import (
	"encoding/json"
	"strconv"
)

// Kind is the contract's message kind (the API's Message.kind; models.MessageKinds lists them).
type Kind string

// Message kinds.
const (
	KindText             Kind = "text"
	KindImage            Kind = "image"
	KindVideo            Kind = "video"
	KindAudio            Kind = "audio"
	KindFile             Kind = "file"
	KindSticker          Kind = "sticker"
	KindLocation         Kind = "location"
	KindContacts         Kind = "contacts"
	KindReaction         Kind = "reaction"
	KindPostback         Kind = "postback"
	KindStoryMention     Kind = "story_mention"
	KindStoryReply       Kind = "story_reply"
	KindShare            Kind = "share"
	KindPoll             Kind = "poll"
	KindPollVote         Kind = "poll_vote"
	KindTemplate         Kind = "template"
	KindInteractiveReply Kind = "interactive_reply"
	KindOrder            Kind = "order"
	KindSystem           Kind = "system"
	KindUnsupported      Kind = "unsupported"
)

// Message is one message in a thread, inbound or echoed.
type Message struct {
	ExternalID string `json:"external_id"` // mid or wamid: the ingest's dedupe key
	Kind       Kind   `json:"kind"`
	// Text is what a person would read: the body, a caption, a button title.
	Text              string       `json:"text,omitempty"`
	Details           Details      `json:"details,omitzero"`
	Attachments       []Attachment `json:"attachments,omitempty"`
	ReplyToExternalID string       `json:"reply_to_external_id,omitempty"`
	Forwarded         bool         `json:"forwarded,omitempty"`
	// FrequentlyForwarded is WhatsApp's "forwarded many times" flag.
	FrequentlyForwarded bool `json:"frequently_forwarded,omitempty"`

	IsEcho    bool   `json:"is_echo,omitempty"`
	EchoAppID string `json:"echo_app_id,omitempty"` // which app sent the echoed message; ours means we already have it
	Metadata  string `json:"metadata,omitempty"`    // the metadata string we attached when sending
}

// Details holds what is particular to a kind. At most a few fields are set.
type Details struct {
	// Payload is the developer payload of a quick reply or postback.
	Payload         string           `json:"payload,omitempty"`
	Location        *Location        `json:"location,omitempty"`
	Contacts        []Contact        `json:"contacts,omitempty"`
	Order           *Order           `json:"order,omitempty"`
	Interactive     *Interactive     `json:"interactive,omitempty"`
	Story           *Story           `json:"story,omitempty"`
	ReferredProduct *ReferredProduct `json:"referred_product,omitempty"`
	Unsupported     *Unsupported     `json:"unsupported,omitempty"`
	// Raw keeps Meta's own payload for kinds we show but do not model (templates).
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Attachment is one media item or shared object of a message.
type Attachment struct {
	Type     string `json:"type"`               // Meta's type: image, video, audio, file, sticker, ig_reel, story_mention…
	URL      string `json:"url,omitempty"`      // often a temporary CDN URL
	MediaID  string `json:"media_id,omitempty"` // WhatsApp media id, sticker id, reel/story/post id
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Title    string `json:"title,omitempty"`
	Voice    bool   `json:"voice,omitempty"`    // a WhatsApp voice note rather than an audio file
	Animated bool   `json:"animated,omitempty"` // an animated WhatsApp sticker
}

// Location is a shared place.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// MapURL links a coordinate to OpenStreetMap: the inbox's map link, and how
// a shared location reaches an app that cannot take one (a relay leg).
func (l Location) MapURL() string {
	la, lo := strconv.FormatFloat(l.Latitude, 'f', 6, 64), strconv.FormatFloat(l.Longitude, 'f', 6, 64)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=16/" + la + "/" + lo
}

// Contact is one shared contact card (WhatsApp).
type Contact struct {
	Name      string         `json:"name,omitempty"` // formatted_name
	FirstName string         `json:"first_name,omitempty"`
	LastName  string         `json:"last_name,omitempty"`
	Company   string         `json:"company,omitempty"`
	Phones    []ContactPhone `json:"phones,omitempty"`
	Emails    []string       `json:"emails,omitempty"`
}

// ContactPhone is one number on a shared contact card.
type ContactPhone struct {
	Phone string `json:"phone"`
	WaID  string `json:"wa_id,omitempty"` // present when the number is on WhatsApp
	Type  string `json:"type,omitempty"`
}

// Order is a WhatsApp cart sent from a catalog.
type Order struct {
	CatalogID string      `json:"catalog_id"`
	Text      string      `json:"text,omitempty"`
	Items     []OrderItem `json:"items"`
}

// OrderItem is one cart line. Price keeps Meta's decimal literal so money is never a float.
type OrderItem struct {
	ProductRetailerID string      `json:"product_retailer_id"`
	Quantity          int         `json:"quantity"`
	ItemPrice         json.Number `json:"item_price"`
	Currency          string      `json:"currency"`
}

// Interactive is the customer's answer to buttons, a list, a flow or a template button.
type Interactive struct {
	Type         string          `json:"type"` // button_reply, list_reply, nfm_reply, template_button
	ID           string          `json:"id,omitempty"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description,omitempty"`
	ResponseJSON json.RawMessage `json:"response_json,omitempty"` // flow answers, as the flow sent them
}

// Story is the Instagram story a message replies to or mentions.
type Story struct {
	ID  string `json:"id,omitempty"`
	URL string `json:"url,omitempty"`
}

// Why a message's content is not shown (Unsupported.Reason).
const (
	UnsupportedNotDelivered = "not_delivered" // Meta did not deliver the content: only the customer's app shows it
	UnsupportedType         = "type"          // a message type the inbox does not show; Type names it
	UnsupportedAttachment   = "attachment"    // an attachment type the inbox does not show; Type names it
	UnsupportedPoll         = "poll"          // a poll or a vote: the Business API does not deliver their content
)

// ReferredProduct is the catalog item a WhatsApp customer asked about.
type ReferredProduct struct {
	CatalogID         string `json:"catalog_id"`
	ProductRetailerID string `json:"product_retailer_id"`
}

// Unsupported explains content Meta did not deliver or we do not model.
// Reason says why as a code (Unsupported*) the inbox words in the reader's
// language; Explanation says it in English, for the API and the logs.
type Unsupported struct {
	Type        string  `json:"type,omitempty"` // Meta's raw type name
	Reason      string  `json:"reason,omitempty"`
	Explanation string  `json:"explanation"`
	Errors      []Error `json:"errors,omitempty"`
	// Raw is the item as Meta sent it, for envelope-level events only.
	Raw json.RawMessage `json:"raw,omitempty"`
}
