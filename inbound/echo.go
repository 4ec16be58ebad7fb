package inbound

import (
	"github.com/switchboard-inbox/switchboard/adapters"
	"github.com/switchboard-inbox/switchboard/models"
)

// echoesWithoutRef says which apps echo our sends without the metadata we
// reconcile on (Instagram's echoes carry no callback ref), so an echo there
// is matched to our send by its content.
func echoesWithoutRef(app string) bool { return app == models.AppInstagram }

// adoptEcho ties an echo that names none of our messages to our send it
// copies — same thread, kind and text, whose answer from Meta we never got
// (the request left without an answer, or was given up as unknown) — so the
// send gets Meta's id and is never sent again, instead of the echo becoming
// a second copy. It reports whether it adopted one.
func (a *applier) adoptEcho(tx *models.Store, ch *models.Channel, t *models.Thread, echo *models.Message, ev *adapters.Event) (bool, error) {
	if !echoesWithoutRef(ch.App) || echo.ExternalID == nil {
		return false, nil
	}
	if app := ev.Message.EchoAppID; app != "" && a.p.OurAppID != "" && app != a.p.OurAppID {
		return false, nil // typed in another app: not a send of ours
	}
	id, err := tx.UnmatchedSendLike(a.ctx, ch.ID, t.ID, echo.Kind, echo.Text)
	if err != nil || id == 0 {
		return false, err
	}
	return true, a.reconcile(tx, ch, id, *echo.ExternalID, ev.Timestamp)
}
