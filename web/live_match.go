package web

import (
	"slices"

	"github.com/switchboard-inbox/switchboard/models"
)

// matches reports whether t belongs in a list with filter tf (all but the
// full-text query, which callers treat separately).
func matches(t *models.Thread, tf models.ThreadFilter) bool {
	if tf.Status != "" && t.Status != tf.Status {
		return false
	}
	if tf.App != "" && !slices.Contains(t.Apps, tf.App) {
		return false
	}
	switch {
	case tf.AssigneeID > 0 && (t.AssigneeID == nil || *t.AssigneeID != tf.AssigneeID):
		return false
	case tf.AssigneeID < 0 && t.AssigneeID != nil:
		return false
	}
	if tf.Unread && t.UnreadCount == 0 {
		return false
	}
	if tf.LabelID > 0 {
		found := false
		for _, l := range t.Labels {
			found = found || l.ID == tf.LabelID
		}
		return found
	}
	return true
}
