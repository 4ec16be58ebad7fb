package whatsapp

import (
	"encoding/json"

	"github.com/switchboard-inbox/switchboard/adapters/meta"
)

// Wire shapes of a WhatsApp Cloud API webhook (object "whatsapp_business_account").
// Lists stay raw so that one bad item costs only itself, not the batch.

type envelope struct {
	Object string            `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type entry struct {
	ID      meta.ID           `json:"id"` // the WABA id
	Changes []json.RawMessage `json:"changes"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type value struct {
	Metadata struct {
		DisplayPhoneNumber string  `json:"display_phone_number"`
		PhoneNumberID      meta.ID `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts        []wireContact     `json:"contacts"`
	Messages        []json.RawMessage `json:"messages"`
	Statuses        []json.RawMessage `json:"statuses"`
	UserPreferences []json.RawMessage `json:"user_preferences"`
	MessageEchoes   []json.RawMessage `json:"message_echoes"` // smb_message_echoes (coexistence)
	Errors          []wireError       `json:"errors"`
}

type wireContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID   string `json:"wa_id"`
	UserID string `json:"user_id"` // BSUID
}

type wireMessage struct {
	From       string       `json:"from"`
	FromUserID string       `json:"from_user_id"` // BSUID when the phone is hidden
	To         string       `json:"to"`           // echoes only
	ToUserID   string       `json:"to_user_id"`
	ID         string       `json:"id"`
	Timestamp  meta.Seconds `json:"timestamp"`
	Type       string       `json:"type"`
	// GroupID is ASSUMED: the Groups API (Jun 2026) documents sends with
	// recipient_type "group" but we found no inbound example; we expect the group
	// id in group_id and the participant in from.
	GroupID     string                 `json:"group_id"`
	Context     *wireContext           `json:"context"`
	Text        *struct{ Body string } `json:"text"`
	Image       *wireMedia             `json:"image"`
	Video       *wireMedia             `json:"video"`
	Audio       *wireMedia             `json:"audio"`
	Document    *wireMedia             `json:"document"`
	Sticker     *wireMedia             `json:"sticker"`
	Location    *wireLocation          `json:"location"`
	Contacts    []wireContactCard      `json:"contacts"`
	Interactive *wireInteractive       `json:"interactive"`
	Button      *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Order       *wireOrder  `json:"order"`
	System      *wireSystem `json:"system"`
	Unsupported *struct {
		Type string `json:"type"`
	} `json:"unsupported"`
	Referral *wireReferral `json:"referral"`
	Errors   []wireError   `json:"errors"`
}

type wireContext struct {
	From                string `json:"from"`
	ID                  string `json:"id"`
	Forwarded           bool   `json:"forwarded"`
	FrequentlyForwarded bool   `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
}

type wireMedia struct {
	ID       string `json:"id"`
	URL      string `json:"url"` // direct URL, rolling out since Nov 2025
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

type wireLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
	URL       string  `json:"url"`
}

type wireContactCard struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
		Type  string `json:"type"`
	} `json:"phones"`
	Emails []struct {
		Email string `json:"email"`
	} `json:"emails"`
	Org struct {
		Company string `json:"company"`
	} `json:"org"`
}

type wireInteractive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"` // a JSON document inside a string
	} `json:"nfm_reply"`
}

type wireOrder struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string      `json:"product_retailer_id"`
		Quantity          json.Number `json:"quantity"`
		ItemPrice         json.Number `json:"item_price"`
		Currency          string      `json:"currency"`
	} `json:"product_items"`
}

type wireSystem struct {
	Body    string `json:"body"`
	Type    string `json:"type"`
	WaID    string `json:"wa_id"`     // the new number, current shape
	NewWaID string `json:"new_wa_id"` // the new number, older shape
}

type wireReferral struct {
	SourceURL      string `json:"source_url"`
	SourceID       string `json:"source_id"`
	SourceType     string `json:"source_type"`
	Headline       string `json:"headline"`
	Body           string `json:"body"`
	MediaType      string `json:"media_type"`
	ImageURL       string `json:"image_url"`
	VideoURL       string `json:"video_url"`
	CTWAClid       string `json:"ctwa_clid"`
	WelcomeMessage *struct {
		Text string `json:"text"`
	} `json:"welcome_message"`
}

type wireStatus struct {
	ID                     string       `json:"id"`
	Status                 string       `json:"status"`
	Timestamp              meta.Seconds `json:"timestamp"`
	RecipientID            string       `json:"recipient_id"`
	RecipientType          string       `json:"recipient_type"`
	RecipientParticipantID string       `json:"recipient_participant_id"`
	RecipientUserID        string       `json:"recipient_user_id"`
	BizOpaqueCallbackData  string       `json:"biz_opaque_callback_data"`
	Conversation           *struct {
		ID                  string       `json:"id"`
		ExpirationTimestamp meta.Seconds `json:"expiration_timestamp"`
		Origin              struct {
			Type string `json:"type"`
		} `json:"origin"`
	} `json:"conversation"`
	Pricing *struct {
		Billable     *bool  `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Category     string `json:"category"`
		Type         string `json:"type"`
	} `json:"pricing"`
	Errors []wireError `json:"errors"`
}

type wireError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

type wirePreference struct {
	WaID      string       `json:"wa_id"`
	UserID    string       `json:"user_id"`
	Detail    string       `json:"detail"`
	Category  string       `json:"category"`
	Value     string       `json:"value"`
	Timestamp meta.Seconds `json:"timestamp"`
}
