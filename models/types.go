package models

import (
	"time"
)

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
