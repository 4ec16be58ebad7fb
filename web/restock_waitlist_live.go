package web

import (
	"bytes"
	"context"
	"time"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// waitlistPace is the least time between two waitlist frames of one product:
// a burst of sign-ups (a campaign's "Notify me" taps) is one frame, not one per tap.
const waitlistPace = 300 * time.Millisecond

// publishWaitlist re-renders the product's waitlist section for the pages
// watching it, coalesced: at most one frame per waitlistPace per product,
// the last one always sent. It never blocks the caller (the event listener).
func (s *Server) publishWaitlist(businessID, productID int64) {
	if productID == 0 || len(s.restockLive.of(businessID, productID)) == 0 {
		return
	}
	if !s.restockLive.due(productID, waitlistPace, func() { s.renderWaitlist(businessID, productID) }) {
		return
	}
	go s.renderWaitlist(businessID, productID)
}

// publishAlertStatus passes a status of a restock alert (delivered, read,
// failed, unknown) on to the pages watching its product.
func (s *Server) publishAlertStatus(ev models.Event) {
	if ev.MessageID == 0 || !s.restockLive.watched(ev.BusinessID) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		productID, err := s.store.ProductOfAlert(ctx, ev.BusinessID, ev.MessageID)
		if err != nil {
			s.log.Error("live: unable to find the alert's product", "message", ev.MessageID, "error", err)
			return
		}
		s.publishWaitlist(ev.BusinessID, productID)
	}()
}

func (s *Server) renderWaitlist(businessID, productID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	watchers := s.restockLive.of(businessID, productID)
	if len(watchers) == 0 {
		return
	}
	p, err := s.store.ProductByID(ctx, businessID, productID)
	if err != nil || p == nil {
		if err != nil {
			s.log.Error("live: unable to load product", "product", productID, "error", err)
		}
		return
	}
	pv, err := s.productData(ctx, businessID, p)
	if err != nil {
		s.log.Error("live: unable to load waitlist", "product", productID, "error", err)
		return
	}
	rendered := map[string][]byte{}
	for _, w := range watchers {
		frame, ok := rendered[w.locale]
		if !ok {
			var buf bytes.Buffer
			if err := views.WaitlistSection(*pv, true).Render(views.WithLocale(ctx, w.locale), &buf); err != nil {
				s.log.Error("live: unable to render waitlist", "error", err)
				return
			}
			frame, rendered[w.locale] = buf.Bytes(), buf.Bytes()
		}
		select {
		case w.frames <- frame:
		default: // the page is behind; the next frame says more
		}
	}
}

// due says whether a frame for the product may go now; if not, it makes sure
// one goes (later) when the pace allows: then runs later once.
func (ws *restockWatchers) due(productID int64, pace time.Duration, later func()) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.lastList == nil {
		ws.lastList, ws.pendingList = map[int64]time.Time{}, map[int64]bool{}
	}
	now := time.Now()
	if wait := pace - now.Sub(ws.lastList[productID]); wait > 0 {
		if !ws.pendingList[productID] {
			ws.pendingList[productID] = true
			time.AfterFunc(wait, func() {
				ws.mu.Lock()
				ws.pendingList[productID] = false
				ws.lastList[productID] = time.Now()
				ws.mu.Unlock()
				later()
			})
		}
		return false
	}
	ws.lastList[productID] = now
	return true
}
