package messenger

import (
	"encoding/json"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Wire shapes of a Messenger Platform webhook (object "page" or "instagram").
// Lists stay raw so that one bad item costs only itself, not the batch.

type envelope struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type entry struct {
	ID        meta.ID           `json:"id"`
	Time      meta.Millis       `json:"time"`
	Messaging []json.RawMessage `json:"messaging"`
	Standby   []json.RawMessage `json:"standby"`
	Changes   []json.RawMessage `json:"changes"` // Instagram Login test events and non-messaging fields
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type party struct {
	ID      meta.ID `json:"id"`
	UserRef string  `json:"user_ref"`
}

type item struct {
	Sender      party         `json:"sender"`
	Recipient   party         `json:"recipient"`
	Timestamp   meta.Millis   `json:"timestamp"`
	Message     *wireMessage  `json:"message"`
	MessageEdit *wireEdit     `json:"message_edit"`
	Delivery    *wireDelivery `json:"delivery"`
	Read        *wireRead     `json:"read"`
	Reaction    *wireReaction `json:"reaction"`
	Postback    *wirePostback `json:"postback"`
	Referral    *wireReferral `json:"referral"`
	Optin       *wireOptin    `json:"optin"`
}

type wireMessage struct {
	Mid        string `json:"mid"`
	Text       string `json:"text"`
	QuickReply *struct {
		Payload string `json:"payload"`
	} `json:"quick_reply"`
	ReplyTo       *wireReplyTo     `json:"reply_to"`
	Attachments   []wireAttachment `json:"attachments"`
	StickerID     meta.ID          `json:"sticker_id"`
	IsEcho        bool             `json:"is_echo"`
	AppID         meta.ID          `json:"app_id"`
	Metadata      string           `json:"metadata"`
	IsDeleted     bool             `json:"is_deleted"`
	IsUnsupported bool             `json:"is_unsupported"`
	Referral      *wireReferral    `json:"referral"`
}

type wireReplyTo struct {
	Mid   string `json:"mid"`
	Story *struct {
		ID  meta.ID `json:"id"`
		URL string  `json:"url"`
	} `json:"story"`
}

type wireAttachment struct {
	Type    string          `json:"type"`
	Title   string          `json:"title"` // fallback and location carry these beside the payload
	URL     string          `json:"url"`
	Payload json.RawMessage `json:"payload"`
}

type attachmentPayload struct {
	URL           string  `json:"url"`
	Title         string  `json:"title"`
	StickerID     meta.ID `json:"sticker_id"`
	AttachmentID  meta.ID `json:"attachment_id"`
	ReelVideoID   meta.ID `json:"reel_video_id"`
	StoryMediaID  meta.ID `json:"story_media_id"`
	StoryMediaURL string  `json:"story_media_url"`
	IGPostMediaID meta.ID `json:"ig_post_media_id"`
	ID            meta.ID `json:"id"`
	Coordinates   *struct {
		Lat  float64 `json:"lat"`
		Long float64 `json:"long"`
	} `json:"coordinates"`
}

type wireEdit struct {
	Mid     string `json:"mid"`
	Text    string `json:"text"`
	NumEdit int    `json:"num_edit"`
}

type wireDelivery struct {
	Mids      []string    `json:"mids"`
	Watermark meta.Millis `json:"watermark"`
}

type wireRead struct {
	Watermark meta.Millis `json:"watermark"` // Messenger
	Mid       string      `json:"mid"`       // Instagram
}

type wireReaction struct {
	Mid      string `json:"mid"`
	Action   string `json:"action"`
	Reaction string `json:"reaction"`
	Emoji    string `json:"emoji"`
}

type wirePostback struct {
	Mid      string        `json:"mid"`
	Title    string        `json:"title"`
	Payload  string        `json:"payload"`
	Referral *wireReferral `json:"referral"`
}

type wireReferral struct {
	Ref            string  `json:"ref"`
	Source         string  `json:"source"`
	Type           string  `json:"type"`
	AdID           meta.ID `json:"ad_id"`
	RefererURI     string  `json:"referer_uri"`
	AdsContextData *struct {
		AdTitle   string  `json:"ad_title"`
		PhotoURL  string  `json:"photo_url"`
		VideoURL  string  `json:"video_url"`
		PostID    meta.ID `json:"post_id"`
		ProductID meta.ID `json:"product_id"`
	} `json:"ads_context_data"`
}

type wireOptin struct {
	Type                      string      `json:"type"`
	Payload                   string      `json:"payload"`
	Title                     string      `json:"title"`
	Ref                       string      `json:"ref"`
	UserRef                   string      `json:"user_ref"`
	OneTimeNotifToken         string      `json:"one_time_notif_token"`
	NotificationMessagesToken string      `json:"notification_messages_token"`
	TokenExpiry               meta.Millis `json:"token_expiry_timestamp"`
	UserTokenStatus           string      `json:"user_token_status"`
	Status                    string      `json:"notification_messages_status"`
	Frequency                 string      `json:"notification_messages_frequency"`
}
