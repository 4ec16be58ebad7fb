package models

import (
	"context"
	"fmt"
	"time"
)

// The apps we speak, as the contract names them.
const (
	AppMessenger = "messenger"
	AppInstagram = "instagram"
	AppWhatsApp  = "whatsapp"
)

// A channel's states.
const (
	ChannelActive      = "active"
	ChannelNeedsReauth = "needs_reauth"
	ChannelDisabled    = "disabled"
)

// Apps lists the three apps in display order.
var Apps = []string{AppMessenger, AppInstagram, AppWhatsApp}

// ValidApp reports whether app is one we speak.
func ValidApp(app string) bool {
	return app == AppMessenger || app == AppInstagram || app == AppWhatsApp
}

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

// NewChannel is what an admin supplies to connect an account.
type NewChannel struct {
	BusinessID       int64
	App              string
	AccountID        string
	Name             string
	WABAID           string
	DisplayPhone     string
	AccessToken      string
	AppSecret        string
	VerifyToken      string
	NewsPage         bool
	HumanAgent       bool
	UtilityTemplates bool
	MPS              int
}

// Validate returns a message naming the first bad field.
func (n NewChannel) Validate() error {
	switch {
	case !ValidApp(n.App):
		return fmt.Errorf("app must be messenger, instagram or whatsapp, not %q", n.App)
	case n.AccountID == "":
		return fmt.Errorf("account id is required")
	case n.AccessToken == "":
		return fmt.Errorf("access token is required")
	case n.MPS < 0:
		return fmt.Errorf("messages per second cannot be negative")
	}
	return nil
}

// CreateChannel connects an account, sealing its secrets.
func (s *Store) CreateChannel(ctx context.Context, n NewChannel) (*Channel, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	ch := &Channel{
		BusinessID: n.BusinessID, App: n.App, AccountID: n.AccountID, Name: n.Name, WABAID: n.WABAID,
		DisplayPhone: n.DisplayPhone, AccessTokenEnc: s.cipher.Seal(n.AccessToken), AppSecretEnc: s.cipher.Seal(n.AppSecret),
		VerifyToken: n.VerifyToken, State: ChannelActive, NewsPage: n.NewsPage, HumanAgent: n.HumanAgent,
		UtilityTemplates: n.UtilityTemplates, MPS: n.MPS,
	}
	if ch.Name == "" {
		ch.Name = n.App + " " + n.AccountID
	}
	if err := s.Gorm(ctx).Create(ch).Error; err != nil {
		return nil, wrapErr(err, "create channel %s/%s", n.App, n.AccountID)
	}
	return ch, nil
}

// Channel loads one of the business's channels, or nil.
func (s *Store) Channel(ctx context.Context, businessID, id int64) (*Channel, error) {
	var ch Channel
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &ch)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch channel %d", id)
	}
	return &ch, nil
}

// Channels lists a business's channels by app.
func (s *Store) Channels(ctx context.Context, businessID int64) ([]Channel, error) {
	var chs []Channel
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("app, id").Find(&chs).Error
	return chs, wrapErr(err, "list channels")
}

// ChannelByAccount routes a webhook entry to its channel (any business), or nil.
func (s *Store) ChannelByAccount(ctx context.Context, app, accountID string) (*Channel, error) {
	var ch Channel
	ok, err := first(s.Gorm(ctx).Where("app = ? AND account_id = ?", app, accountID), &ch)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch channel %s/%s", app, accountID)
	}
	return &ch, nil
}

// AccountKey names a channel as Meta's webhooks do: its app and account id.
type AccountKey struct {
	App, AccountID string
}

// ChannelsByAccounts is ChannelByAccount for many accounts in one query;
// accounts without a channel are absent.
func (s *Store) ChannelsByAccounts(ctx context.Context, keys []AccountKey) (map[AccountKey]*Channel, error) {
	out := make(map[AccountKey]*Channel, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	apps, accts := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		apps[i], accts[i] = k.App, k.AccountID
	}
	var chs []Channel
	err := s.Gorm(ctx).Raw(`SELECT c.* FROM channels c JOIN unnest(?::text[], ?::text[]) AS k(app, account)
		ON c.app = k.app AND c.account_id = k.account`, StringArray(apps), StringArray(accts)).Scan(&chs).Error
	if err != nil {
		return nil, wrapErr(err, "fetch %d channels", len(keys))
	}
	for i := range chs {
		out[AccountKey{chs[i].App, chs[i].AccountID}] = &chs[i]
	}
	return out, nil
}

// AllChannels lists every channel of an app across businesses (for webhook
// secrets and verify tokens, which Meta sends before we know the business).
func (s *Store) AllChannels(ctx context.Context, app string) ([]Channel, error) {
	var chs []Channel
	err := s.Gorm(ctx).Where("app = ?", app).Order("id").Find(&chs).Error
	return chs, wrapErr(err, "list %s channels", app)
}

// ChannelSecrets opens a channel's sealed access token and app secret.
func (s *Store) ChannelSecrets(ch *Channel) (accessToken, appSecret string, err error) {
	if accessToken, err = s.cipher.Open(ch.AccessTokenEnc); err != nil {
		return "", "", err
	}
	if appSecret, err = s.cipher.Open(ch.AppSecretEnc); err != nil {
		return "", "", err
	}
	return accessToken, appSecret, nil
}

// SetChannelState moves a channel to active, needs_reauth or disabled and
// tells the business's agents.
func (s *Store) SetChannelState(ctx context.Context, businessID, id int64, state, reason string) error {
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.Gorm(ctx).Model(&Channel{}).Where("business_id = ? AND id = ?", businessID, id).
			Updates(map[string]any{"state": state, "state_reason": reason, "updated_at": time.Now()})
		if res.Error != nil {
			return wrapErr(res.Error, "set state of channel %d", id)
		}
		return tx.Notify(ctx, Event{Type: "channel", BusinessID: businessID})
	})
}

// UpdateChannelToken replaces the access token (re-authorisation) and makes
// the channel active again.
func (s *Store) UpdateChannelToken(ctx context.Context, businessID, id int64, accessToken string) error {
	err := s.Gorm(ctx).Model(&Channel{}).Where("business_id = ? AND id = ?", businessID, id).
		Updates(map[string]any{"access_token_enc": s.cipher.Seal(accessToken), "state": ChannelActive,
			"state_reason": "", "updated_at": time.Now()}).Error
	return wrapErr(err, "update token of channel %d", id)
}
