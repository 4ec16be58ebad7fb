package adapters

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Key is a stable identity for the fact an Event reports: Meta's retries and
// duplicates of the same fact give the same Key, so the ingest can upsert on it.
// Messages key on mid/wamid, statuses on (wamid, status[, participant]): Meta's own ids of the fact.
func (e Event) Key() string {
	parts := []string{string(e.App), e.AccountID, string(e.Type)}
	switch {
	case e.Message != nil && e.Message.ExternalID != "":
		parts = append(parts, e.Message.ExternalID)
	case e.Status != nil:
		parts = append(parts, e.Status.ExternalID, string(e.Status.Status))
		if e.Status.ParticipantID != "" { // a group message has one status of each kind per participant
			parts = append(parts, e.Status.ParticipantID)
		}
	case e.Reaction != nil && e.Reaction.ExternalID != "":
		parts = append(parts, e.Reaction.ExternalID)
	case e.Edit != nil:
		parts = append(parts, e.Edit.TargetExternalID, strconv.Itoa(e.Edit.NumEdit))
	case e.Unsend != nil:
		parts = append(parts, e.Unsend.TargetExternalID)
	default:
		// Facts without their own id are keyed by who, when and what.
		parts = append(parts, e.Customer.ExternalID, e.GroupID, strconv.FormatInt(e.Timestamp.UnixMilli(), 10))
		if e.Reaction != nil {
			parts = append(parts, e.Reaction.TargetExternalID, string(e.Reaction.Action), e.Reaction.Reaction, e.Reaction.Emoji)
		}
		if e.Optin != nil {
			parts = append(parts, e.Optin.Type, e.Optin.Token, e.Optin.Status)
		}
		if e.Preference != nil {
			parts = append(parts, e.Preference.Category, e.Preference.Value)
		}
		if e.Unsupported != nil {
			sum := sha256.Sum256(e.Unsupported.Raw)
			parts = append(parts, e.Unsupported.Type, hex.EncodeToString(sum[:8]))
		}
		if e.Receipt != nil {
			parts = append(parts, strconv.FormatInt(e.Receipt.Watermark.UnixMilli(), 10))
			parts = append(parts, e.Receipt.ExternalIDs...)
		}
	}
	return strings.Join(parts, "|")
}
