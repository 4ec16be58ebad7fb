package models

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Apps, roles, states and statuses as the contract names them.
const (
	AppMessenger = "messenger"
	AppInstagram = "instagram"
	AppWhatsApp  = "whatsapp"

	RoleAdmin = "admin"
	RoleAgent = "agent"
	RoleStaff = "staff"

	ChannelActive      = "active"
	ChannelNeedsReauth = "needs_reauth"
	ChannelDisabled    = "disabled"

	ThreadOpen    = "open"
	ThreadPending = "pending"
	ThreadSnoozed = "snoozed"
	ThreadClosed  = "closed"

	DirectionIn  = "in"
	DirectionOut = "out"

	StatusReceived  = "received"
	StatusQueued    = "queued"
	StatusUnknown   = "unknown" // the request left for Meta and no evidence of its fate came back
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
)

// Apps lists the three apps in display order.
var Apps = []string{AppMessenger, AppInstagram, AppWhatsApp}

// ValidApp reports whether app is one we speak.
func ValidApp(app string) bool {
	return app == AppMessenger || app == AppInstagram || app == AppWhatsApp
}

// ValidRole reports whether role is one of admin, agent, staff.
func ValidRole(role string) bool { return role == RoleAdmin || role == RoleAgent || role == RoleStaff }

// MessageKinds is the contract's list of message kinds.
var MessageKinds = []string{"text", "image", "video", "audio", "file", "sticker", "location", "contacts",
	"reaction", "postback", "story_mention", "story_reply", "share", "poll", "poll_vote", "template",
	"interactive_reply", "order", "system", "unsupported"}

// JSON is a jsonb column kept as raw bytes.
type JSON json.RawMessage

// Value implements driver.Valuer.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return "{}", nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append((*j)[:0], v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("models: cannot scan %T into JSON", src)
	}
	return nil
}

// MarshalJSON keeps the raw document.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("{}"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps the raw document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// StringList is a PostgreSQL text[] of simple words (app names, labels).
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	for _, s := range l {
		if strings.ContainsAny(s, `{},"\ `) || s == "" {
			return nil, fmt.Errorf("models: %q cannot be stored in a StringList", s)
		}
	}
	return "{" + strings.Join(l, ",") + "}", nil
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return fmt.Errorf("models: cannot scan %T into StringList", src)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if s == "" {
		*l = StringList{}
		return nil
	}
	*l = strings.Split(s, ",")
	return nil
}

// Int64List is a PostgreSQL bigint[].
type Int64List []int64

// Value implements driver.Valuer.
func (l Int64List) Value() (driver.Value, error) {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return "{" + strings.Join(parts, ",") + "}", nil
}

// Scan implements sql.Scanner.
func (l *Int64List) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return fmt.Errorf("models: cannot scan %T into Int64List", src)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	out := Int64List{}
	if s != "" {
		for _, p := range strings.Split(s, ",") {
			v, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return errors.New("models: bad bigint[] element")
			}
			out = append(out, v)
		}
	}
	*l = out
	return nil
}

// Business is a tenant: everything else hangs from one.
type Business struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person who signs in; Memberships give them roles per business.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Locale       string    `json:"locale"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership gives a user a role in a business.
type Membership struct {
	BusinessID int64     `gorm:"primaryKey;autoIncrement:false" json:"business_id"`
	UserID     int64     `gorm:"primaryKey;autoIncrement:false" json:"user_id"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// APIToken is a bearer token for the JSON API, stored hashed.
type APIToken struct {
	ID         int64      `json:"id"`
	BusinessID int64      `json:"business_id"`
	Name       string     `json:"name"`
	TokenHash  []byte     `json:"-"`
	Person     bool       `json:"person"` // a person's token (may use HUMAN_AGENT); false: software
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TableName keeps gorm from spelling it a_p_i_tokens.
func (APIToken) TableName() string { return "api_tokens" }

// Channel is one connected account: a Page, an Instagram account or a
// WhatsApp phone number. Secrets are sealed in the *Enc columns.
type Channel struct {
	ID               int64     `json:"id"`
	BusinessID       int64     `json:"business_id"`
	App              string    `json:"app"`
	AccountID        string    `json:"account_id"`
	Name             string    `json:"name"`
	WABAID           string    `gorm:"column:waba_id" json:"waba_id"`
	DisplayPhone     string    `json:"display_phone"`
	AccessTokenEnc   []byte    `json:"-"`
	AppSecretEnc     []byte    `json:"-"`
	VerifyToken      string    `json:"-"`
	State            string    `json:"state"`
	StateReason      string    `json:"state_reason"`
	NewsPage         bool      `json:"news_page"`
	HumanAgent       bool      `json:"human_agent"`
	UtilityTemplates bool      `json:"utility_templates"`
	MPS              int       `gorm:"column:mps" json:"mps"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Contact is a person; they reach us through one Identity per app account.
type Contact struct {
	ID           int64      `json:"id"`
	BusinessID   int64      `json:"business_id"`
	Name         string     `json:"name"`
	Phone        string     `json:"phone"`
	Country      string     `json:"country"`
	Email        string     `json:"email"`
	MergedIntoID *int64     `json:"merged_into_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Identities   []Identity `gorm:"foreignKey:ContactID" json:"identities,omitempty"`
}

// Identity is a contact on one app account: a PSID, IGSID, wa_id or BSUID.
type Identity struct {
	ID                 int64      `json:"id"`
	BusinessID         int64      `json:"business_id"`
	ContactID          int64      `json:"contact_id"`
	ChannelID          int64      `json:"channel_id"`
	App                string     `json:"app"`
	ExternalID         string     `json:"external_id"`
	Phone              string     `json:"phone"`
	BSUID              string     `gorm:"column:bsuid" json:"bsuid"`
	Username           string     `json:"username"`
	Country            string     `json:"country"`
	DisplayName        string     `json:"display_name"`
	ProfilePicURL      string     `json:"profile_pic_url"`
	Locale             string     `json:"locale"` // Meta's profile locale (it_IT), when known
	BlockedAt          *time.Time `json:"blocked_at"`
	ReportedAt         *time.Time `json:"reported_at"`
	MarketingOptOutAt  *time.Time `json:"marketing_opt_out_at"`
	MarketingOptOutVia string     `json:"marketing_opt_out_via"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// IdentityEvent is the customer's latest event of one kind, in Meta's time.
type IdentityEvent struct {
	IdentityID int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind       string `gorm:"primaryKey"`
	LastAt     time.Time
}

// Label tags threads.
type Label struct {
	ID         int64  `json:"id"`
	BusinessID int64  `json:"business_id"`
	Name       string `json:"name"`
	Color      string `json:"color"`
}

// Thread is a conversation: direct (one customer) or group.
type Thread struct {
	ID                   int64      `json:"id"`
	BusinessID           int64      `json:"-"`
	ChannelID            *int64     `json:"channel_id"`
	Kind                 string     `json:"kind"`
	Origin               string     `json:"origin"`
	DirectIdentityID     *int64     `json:"-"`
	ExternalGroupID      *string    `json:"external_group_id,omitempty"`
	Title                string     `json:"title"`
	Apps                 StringList `gorm:"type:text[]" json:"apps"`
	Status               string     `json:"status"`
	SnoozedUntil         *time.Time `json:"snoozed_until,omitempty"`
	AssigneeID           *int64     `json:"assignee_id"`
	LastMessageAt        time.Time  `json:"last_message_at"`
	LastMessagePreview   string     `json:"last_message_preview"`
	LastMessageDirection string     `json:"last_message_direction"`
	LastCustomerAt       *time.Time `json:"last_customer_at,omitempty"`
	UnreadCount          int        `json:"unread_count"`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"-"`

	Participants []Participant `gorm:"-" json:"participants"`
	Labels       []Label       `gorm:"-" json:"labels,omitempty"`
}

// ThreadParticipant is an identity's membership in a thread.
type ThreadParticipant struct {
	ThreadID   int64 `gorm:"primaryKey;autoIncrement:false"`
	IdentityID int64 `gorm:"primaryKey;autoIncrement:false"`
	Role       string
	JoinedAt   time.Time
	LeftAt     *time.Time
}

// Participant is a thread participant as the contract shows it.
type Participant struct {
	IdentityID  int64  `json:"identity_id"`
	ContactID   int64  `json:"contact_id"`
	App         string `json:"app"`
	ExternalID  string `json:"external_id"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

// ThreadLabel links a label to a thread.
type ThreadLabel struct {
	ThreadID int64 `gorm:"primaryKey;autoIncrement:false"`
	LabelID  int64 `gorm:"primaryKey;autoIncrement:false"`
}

// Message is one item in a thread, in or out.
type Message struct {
	ID                int64      `json:"id"`
	BusinessID        int64      `json:"-"`
	ThreadID          int64      `json:"thread_id"`
	ChannelID         *int64     `json:"-"`
	Direction         string     `json:"direction"`
	App               string     `json:"app"`
	Kind              string     `json:"kind"`
	ExternalID        *string    `json:"external_id"`
	Text              string     `json:"text"`
	Details           JSON       `gorm:"type:jsonb" json:"details"`
	ReplyToID         *int64     `json:"reply_to_id"`
	ReplyToExternalID string     `json:"-"`
	SenderIdentityID  *int64     `json:"sender_identity_id"`
	AuthorUserID      *int64     `json:"author_user_id,omitempty"`
	SentAt            time.Time  `json:"sent_at"`
	Status            string     `json:"status"`
	StatusAt          time.Time  `json:"status_at"`
	ErrorCode         *int       `json:"-"`
	ErrorTitle        string     `json:"-"`
	MessagingType     string     `json:"messaging_type,omitempty"`
	Tag               string     `json:"tag,omitempty"`
	PolicyReason      string     `json:"policy_reason,omitempty"`
	Attempts          int        `json:"-"`
	DeletedAt         *time.Time `json:"-"`
	EditedAt          *time.Time `json:"-"`
	EditCount         int        `json:"-"`
	CreatedAt         time.Time  `json:"-"`

	Attachments []Attachment  `gorm:"-" json:"attachments"`
	Reactions   []Reaction    `gorm:"-" json:"reactions"`
	Error       *MessageError `gorm:"-" json:"error"`
	Deleted     bool          `gorm:"-" json:"deleted"`
	Edited      bool          `gorm:"-" json:"edited"`
}

// MessageError is Meta's refusal of a send, as the contract shows it.
type MessageError struct {
	Code  int    `json:"code"`
	Title string `json:"title"`
}

// Finish fills the contract's derived fields after a load.
func (m *Message) Finish() {
	m.Deleted = m.DeletedAt != nil
	m.Edited = m.EditedAt != nil
	if m.ErrorCode != nil || m.ErrorTitle != "" {
		code := 0
		if m.ErrorCode != nil {
			code = *m.ErrorCode
		}
		m.Error = &MessageError{Code: code, Title: m.ErrorTitle}
	}
	if m.Attachments == nil {
		m.Attachments = []Attachment{}
	}
	if m.Reactions == nil {
		m.Reactions = []Reaction{}
	}
}

// MessageStatus records the first time a message reached a status.
type MessageStatus struct {
	MessageID int64  `gorm:"primaryKey;autoIncrement:false"`
	Status    string `gorm:"primaryKey"`
	At        time.Time
	Pricing   JSON `gorm:"type:jsonb"`
}

// Attachment is a media item or file on a message.
type Attachment struct {
	ID        int64      `json:"id"`
	MessageID int64      `json:"-"`
	Kind      string     `json:"kind"`
	URL       string     `json:"url,omitempty"`
	MediaID   string     `json:"media_id,omitempty"`
	MimeType  string     `json:"mime_type,omitempty"`
	SHA256    string     `gorm:"column:sha256" json:"-"`
	Filename  string     `json:"filename,omitempty"`
	Caption   string     `json:"caption,omitempty"`
	SizeBytes int64      `json:"size_bytes,omitempty"`
	CachedURL string     `json:"-"`
	CachedAt  *time.Time `json:"-"`
}

// Reaction is one reactor's current emoji on a message.
type Reaction struct {
	ID         int64     `json:"id"`
	MessageID  int64     `json:"-"`
	IdentityID *int64    `json:"identity_id,omitempty"`
	UserID     *int64    `json:"user_id,omitempty"`
	Emoji      string    `json:"emoji"`
	ReactedAt  time.Time `json:"reacted_at"`
}

// RawWebhook is a payload exactly as Meta posted it.
type RawWebhook struct {
	ID          int64
	App         string
	Body        []byte
	Signature   string
	SignedBy    string    // app or channel (see WebhookSigner)
	Signers     Int64List `gorm:"column:signer_channel_ids"`
	BusinessIDs Int64List `gorm:"column:business_ids"`
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Outcome     string
	Error       string
	Attempts    int
}

// OTNToken is a one-time notification token from a Messenger optin.
type OTNToken struct {
	ID              int64
	BusinessID      int64
	IdentityID      int64
	Kind            string
	Topic           string
	Payload         string
	TokenEnc        []byte
	TokenHash       []byte
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          *time.Time
	UsedByMessageID *int64
}

// TableName keeps gorm from spelling it o_t_n_tokens.
func (OTNToken) TableName() string { return "otn_tokens" }

// Campaign is a scheduled WhatsApp template send to an audience.
type Campaign struct {
	ID            int64
	BusinessID    int64
	ChannelID     int64
	Name          string
	TemplateID    *int64
	Variables     JSON `gorm:"type:jsonb"`
	Audience      JSON `gorm:"type:jsonb"`
	Status        string
	ScheduledAt   *time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
	BudgetMicros  int64
	Currency      string
	SpentMicros   int64
	RevenueMicros int64
	CreatedBy     *int64
	CreatedAt     time.Time
}

// CampaignRecipient is one identity's progress through a campaign.
type CampaignRecipient struct {
	ID          int64
	CampaignID  int64
	IdentityID  *int64
	MessageID   *int64
	Country     string
	Status      string
	SkipReason  string
	PriceMicros int64
	Currency    string
	QueuedAt    *time.Time
	SentAt      *time.Time
	DeliveredAt *time.Time
	ReadAt      *time.Time
	RepliedAt   *time.Time
	ClickedAt   *time.Time
	FailedAt    *time.Time
	ErrorCode   *int
	ErrorTitle  string
}

// Note is an agents-only remark on a thread; it is never sent.
type Note struct {
	ID           int64     `json:"id"`
	BusinessID   int64     `json:"-"`
	ThreadID     int64     `json:"thread_id"`
	AuthorUserID *int64    `json:"author_user_id"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

// CannedResponse is a saved reply an agent inserts with /shortcut.
type CannedResponse struct {
	ID         int64  `json:"id"`
	BusinessID int64  `json:"-"`
	Shortcut   string `json:"shortcut"`
	Body       string `json:"body"`
}

// AuditEvent records who changed what.
type AuditEvent struct {
	ID         int64
	BusinessID int64
	UserID     *int64
	Action     string
	Entity     string
	EntityID   *int64
	Before     JSON `gorm:"type:jsonb"`
	After      JSON `gorm:"type:jsonb"`
	CreatedAt  time.Time
}

// StringArray is a text[] of arbitrary strings, quoted for PostgreSQL's
// array literal (StringList is for plain words it can also scan).
type StringArray []string

// Value implements driver.Valuer.
func (a StringArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			if r == 0 {
				continue // PostgreSQL text cannot hold NUL
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
