package jobs

import (
	"context"

	"github.com/switchboard-inbox/switchboard/models"
)

// echoesWithoutRef reports whether the app echoes our sends without the
// metadata ingest reconciles them on. Instagram's message_echoes carry no
// metadata field (Instagram Platform webhook examples:
// https://developers.facebook.com/docs/instagram-platform/webhooks/examples),
// so ingest may store one of our own sends as a message of its own; Messenger
// echoes our metadata and WhatsApp sends statuses with our reference.
func echoesWithoutRef(app string) bool { return app == models.AppInstagram }

// adoptEchoCopies runs before a claim: a send whose answer was lost but whose
// echo arrived is the customer's already, so it takes the copy's id and
// status and is not claimed again.
func adoptEchoCopies(ctx context.Context, store *models.Store, app string, ids []int64) error {
	if !echoesWithoutRef(app) {
		return nil
	}
	copies, err := store.EchoCopiesOfStartedSends(ctx, ids)
	if err != nil || len(copies) == 0 {
		return err
	}
	return store.MergeEchoCopies(ctx, copies)
}

// recordOutcomes writes a batch of send outcomes in one transaction, first
// folding in the copies ingest stored from echoes that beat Meta's answer.
func recordOutcomes(ctx context.Context, store *models.Store, app string, outcomes []models.SendOutcome) error {
	if !echoesWithoutRef(app) {
		return store.RecordOutcomes(ctx, outcomes)
	}
	var ids []int64
	var ext []string
	for _, o := range outcomes {
		if o.Sent {
			ids, ext = append(ids, o.MessageID), append(ext, o.ExternalID)
		}
	}
	return store.InTx(ctx, func(tx *models.Store) error {
		if len(ids) > 0 {
			copies, err := tx.EchoCopiesByExternalID(ctx, ids, ext)
			if err != nil {
				return err
			}
			if err := tx.MergeEchoCopies(ctx, copies); err != nil {
				return err
			}
		}
		return tx.RecordOutcomes(ctx, outcomes)
	})
}

// adoptLateEcho ties an unknown Instagram send to the copy of its echo that
// ingest stored after the reconciliation window gave up on it, and reports
// whether it found one: then the customer has it and it must not be sent
// again. Other apps' echoes carry our reference and are reconciled on arrival.
func adoptLateEcho(ctx context.Context, tx *models.Store, m *models.Message) (bool, error) {
	if !echoesWithoutRef(m.App) {
		return false, nil
	}
	copies, err := tx.EchoCopyOfUnknownSend(ctx, m.BusinessID, m.ID)
	if err != nil || len(copies) == 0 {
		return false, err
	}
	return true, tx.MergeEchoCopies(ctx, copies)
}
